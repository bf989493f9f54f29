"""The real `pulumi` CLI, language host and plugins, built by scripts/install-pulumi.

Under CI=true a missing engine fails the run; elsewhere it skips with install-pulumi's words.
"""

from __future__ import annotations

import os
from pathlib import Path

import docker
import pytest

from tests.support.git_daemon import service_port
from tests.support.pulumi_cli import (
    REPO_ROOT,
    EngineMissing,
    Project,
    blocked_plugins,
    copy_project,
    install_engine,
    without_pids_command,
)


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def engine_bin() -> Path:
    try:
        return install_engine()
    except EngineMissing as missing:
        if under_ci():
            pytest.fail(f"scripts/install-pulumi failed (CI=true: never skipped):\n{missing}")
        pytest.skip(f"scripts/install-pulumi failed:\n{missing}")


@pytest.fixture
def project(engine_bin: Path, tmp_path: Path) -> Project:
    """A copy of the checkout in its own directory, on a fresh local backend."""
    directory = copy_project(tmp_path / "checkout-a")
    return Project(directory, engine_bin, tmp_path / "state")


@pytest.fixture(scope="session")
def engine(docker_engine: docker.DockerClient) -> docker.DockerClient:
    return docker_engine


def remove_named(engine: docker.DockerClient, prefix: str) -> None:
    """What a test stack named `prefix*` left on the engine (also what it kept on purpose)."""
    for c in engine.containers.list(all=True, filters={"name": prefix}):
        c.remove(force=True)
    for v in engine.volumes.list(filters={"name": prefix}):
        v.remove(force=True)
    for n in engine.networks.list(names=[f"{prefix}ai-net"]):
        n.remove()


TOKEN_KEY = "supervisorApiToken"  # as scripts/up sets them
TASK_API_TOKEN = "e2e-task-api-token"
MODEL_KEY = "modelServerApiKey"
MODEL_API_KEY = "e2e-model-api-key"
DESKTOP_KEY = "desktopSecret"
DESKTOP_SECRET = "e2e-desktop-secret"
SSH_KEY = "sshSecret"
SSH_SECRET = "e2e-ssh-secret"
BUS_KEY = "busSecret"  # used only by a fleet on several hosts (docs/factories.md)
BUS_SECRET = "e2e-bus-secret"
# The hosts of a fleet on two hosts (docs/factories.md): a spec's head; its sandboxes follow.
TWO_HOSTS = """version: 1
hosts:
  hq:
    headquarters: true
    capabilities: [headless]
  desk:
    capabilities: [headless, visual]
"""


def init_host_stack(project: Project, prefix: str, spec: str, **config: str | list[str]) -> None:
    """The `dev` preset on the local engine, named `prefix*`: no preflight and no pids-limit
    commands (they need pulumi-command), no model server unless asked, the supervisor on a free
    port."""
    if not (project.engine_bin / "pulumi-resource-docker").exists():
        reason = blocked_plugins(project.engine_bin).get("pulumi-resource-docker", "not built")
        pytest.fail(f"pulumi-resource-docker is missing: {reason}")
    without_pids_command(project.directory)
    (project.directory / "sandboxes.yaml").write_text(spec)
    defaults: dict[str, str | list[str]] = {
        "namePrefix": prefix,
        "preflightEnabled": "false",
        "modelServerEnabled": "false",
        "supervisorPort": str(service_port()),
    }
    project.init(
        REPO_ROOT / "Pulumi.dev.yaml",
        defaults | config,
        {
            TOKEN_KEY: TASK_API_TOKEN,
            MODEL_KEY: MODEL_API_KEY,
            DESKTOP_KEY: DESKTOP_SECRET,
            SSH_KEY: SSH_SECRET,
            BUS_KEY: BUS_SECRET,
        },
    )
