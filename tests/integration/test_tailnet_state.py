"""A sandbox's tailnet node state on a real engine: the one-shot owner container makes the fresh
state volume writable by uid 1000 (where tailscaled runs), and what is written there outlives the
container that wrote it. The tailscale image cannot be pulled here (no registry), so a container
of the base image, as uid 1000 with the sidecar's recorded state mount, stands in for tailscaled;
the owner container and the volume are created from the program's recorded inputs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import pytest
from docker.types import Mount

from tests.integration.fleet import stack
from tests.program.test_tailnet_identity import TAILNET
from tests.support import BASE_IMAGE, ensure_base_image, ensure_headless_image
from tests.support.docker_apply import container_config
from tests.support.pulumi_harness import Registered, Run

pytestmark = pytest.mark.docker

PREFIX = "sfit-ts-"
SPEC = "version: 1\nsandboxes:\n  own:\n    task: audit\n    tailnet: true\n"


@pytest.fixture
def recorded(tmp_path: Path) -> Run:
    spec = tmp_path / "sandboxes.yaml"
    spec.write_text(SPEC)
    return stack(spec, {**TAILNET, "namePrefix": PREFIX})


@pytest.fixture
def engine_clean(engine: docker.DockerClient) -> Iterator[docker.DockerClient]:
    def clean() -> None:
        for c in engine.containers.list(all=True, filters={"name": PREFIX}):
            c.remove(force=True)
        for v in engine.volumes.list(filters={"name": PREFIX}):
            v.remove(force=True)

    clean()
    yield engine
    clean()


def as_tailscaled(engine: docker.DockerClient, sidecar: Registered, script: str) -> bytes:
    """`script` as uid 1000 with the sidecar's recorded state mount (where TS_STATE_DIR is)."""
    mounts = [Mount(m["target"], m["source"], type="volume") for m in sidecar.inputs["mounts"]]
    return bytes(
        engine.containers.run(
            BASE_IMAGE, ["sh", "-c", script], user="1000:1000", mounts=mounts, remove=True,
            cap_drop=["ALL"], network_mode="none",
        )
    )  # fmt: skip


def test_the_state_volume_is_writable_by_tailscaled_and_outlives_its_containers(
    engine_clean: docker.DockerClient, recorded: Run
) -> None:
    engine = engine_clean
    ensure_base_image(engine)
    volume = recorded.by_name("fleet-own-tailscale-state").inputs["name"]
    sidecar = recorded.by_name("fleet-own-tailscale")
    owner = recorded.by_name("fleet-own-tailscale-state-owner")
    write = "echo node-key >/var/lib/tailscale/tailscaled.state"
    # Without the owner container, a fresh volume is root's: tailscaled could not keep state.
    engine.volumes.create(name=volume)
    with pytest.raises(docker.errors.ContainerError, match="Permission denied"):
        as_tailscaled(engine, sidecar, write)
    engine.volumes.get(volume).remove()

    engine.volumes.create(name=volume)
    config = container_config(owner, ensure_headless_image(engine))
    host = engine.api.create_host_config(**config.pop("host_config"))
    created = engine.api.create_container(**config, host_config=host)
    engine.api.start(created["Id"])
    assert engine.api.wait(created["Id"], timeout=60)["StatusCode"] == 0
    as_tailscaled(engine, sidecar, write)
    # A replaced sidecar (a new container on the same volume) finds the node's state.
    assert (
        as_tailscaled(engine, sidecar, "cat /var/lib/tailscale/tailscaled.state") == b"node-key\n"
    )
