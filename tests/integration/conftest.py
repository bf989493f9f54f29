"""Real-engine fixtures: the engine itself, a local git server, and the fixture fleet applied.

The fleet is the real `__main__.py` run under mocks for `sandboxes.yaml` beside this file, then
created on the engine from the recorded inputs by `tests.support.docker_apply`: the real Pulumi
engine built here cannot apply the pids-limit command each sandbox has, because pulumi-command
cannot be built from the Go module proxy (see that module's docstring and engine-versions.txt).
Everything is named `sfit-*`, labelled `sandbox-fleet.fleet=sfit-sandbox-fleet`, and removed
at the end.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from tests.integration.fleet import PREFIX, Fleet, load_model, stack, wait_healthy, write_spec
from tests.support import (
    MODEL_SERVER_IMAGE,
    ensure_model_server_image,
    local_extra_ca_certs,
)
from tests.support.docker_apply import DockerApplier, destroy_all
from tests.support.git_daemon import bridge_gateway, git_daemon, service_port


@pytest.fixture(scope="session")
def engine(docker_engine: docker.DockerClient) -> docker.DockerClient:
    return docker_engine


def ssh_keypair(directory: Path, name: str) -> Path:
    key = directory / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True
    )
    return key


@pytest.fixture(scope="session")
def fleet(engine: docker.DockerClient, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    from tests.support.tiny_gguf import write_tiny_llama_gguf

    work = tmp_path_factory.mktemp("fleet")
    key = ssh_keypair(work, "id_stack")
    destroy_all(engine, PREFIX)  # leftovers of an interrupted run
    model = write_tiny_llama_gguf(work / "model.gguf", seed=0)
    ensure_model_server_image(engine)  # 10+ minutes cold: the compile is not the applier's job
    certs = local_extra_ca_certs()
    overrides: dict[str, Any] = {
        "namePrefix": PREFIX,
        "bindAddress": "127.0.0.1",
        "sshAuthorizedKeys": [key.with_suffix(".pub").read_text().strip()],
        "buildImages": True,
        "modelServerBuild": True,
        "modelServerModelFile": "model.gguf",
        "modelServerContextSize": 512,
        "modelServerThreads": 2,
        "modelServerMemory": "1Gi",
        "supervisorRuntime": "builtin",
        "supervisorPort": service_port(),
        # The host preflight runs for real: the fixture's CPU limits (caps, not reservations)
        # add up to more than a 2-core CI machine has.
        "preflightOvercommitRatio": "4",
    }
    with git_daemon(work / "git", bridge_gateway(engine)) as git:
        run = stack(write_spec(work / "sandboxes.yaml", git.url), overrides)
        applier = DockerApplier(
            engine,
            # Host-specific, not the program's: the proxy CAs a model-server rebuild needs here.
            extra_build_args={MODEL_SERVER_IMAGE: {"EXTRA_CA_CERTS": certs}} if certs else None,
            after_storage=lambda c: load_model(c, f"{PREFIX}model-data", MODEL_SERVER_IMAGE, model),
        )
        try:
            applier.apply(run)
            applier.after_storage = None  # the model is in the volume now
            handle = Fleet(engine, applier, run, overrides, git, key, work)
            wait_healthy(engine, handle.containers())
            yield handle
        finally:
            destroy_all(engine, PREFIX)
