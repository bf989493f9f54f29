"""The cloud planes' workspace sync, run for real. Modal and Daytona are not reachable here, so
the container is the headless image (it has bash and git) running exactly what each provider
sends: the Modal sandbox's command (`boot_command`, as root on a fresh volume at /workspace),
and the command Daytona's toolbox runs through `sh -c` as the sandbox's user
(`background_sync_command`)."""

from __future__ import annotations

from pathlib import Path

import docker
import pytest
from docker.models.containers import Container

from components.planes.modal.provider import WORKSPACE, boot_command
from components.planes.workspace_sync import background_sync_command
from tests.support import ensure_headless_image
from tests.support.git_daemon import bridge_gateway, git_daemon, wait_for

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def image(engine: docker.DockerClient) -> str:
    return ensure_headless_image(engine)


def final_status(box: Container, status_file: str) -> str:
    """The sync's status once it has finished: "ready" or "error: ..." (waits up to 60 s)."""

    def finished() -> str | None:
        text = box.exec_run(["cat", status_file]).output.decode().strip()
        return text if text.startswith(("ready", "error")) else None

    return wait_for(finished, f"{status_file} to say ready or error", 60, every_s=0.5)


def test_boot_clones_the_entrys_branch_and_stays_up(
    engine: docker.DockerClient, image: str, tmp_path: Path
) -> None:
    volume = engine.volumes.create(name="sfit-modal-boot-workspace")
    with git_daemon(tmp_path / "git", bridge_gateway(engine)) as git:
        command = boot_command()
        box = engine.containers.run(
            image,
            command[1:],
            entrypoint=command[0],
            user="0",
            environment={"GIT_REPO": git.url, "GIT_BRANCH": "new-work", "GIT_BASE": "feature-a"},
            # no_copy: a fresh, root-owned volume, as Modal mounts one (not seeded from the image)
            mounts=[docker.types.Mount(WORKSPACE, volume.name, no_copy=True)],
            working_dir=WORKSPACE,
            name="sfit-modal-boot",
            detach=True,
        )
        try:
            assert final_status(box, "/run/sandbox/status") == "ready"
            head = box.exec_run(["git", "-C", WORKSPACE, "rev-parse", "--abbrev-ref", "HEAD"])
            commit = box.exec_run(["git", "-C", WORKSPACE, "rev-parse", "HEAD"])
            assert head.output.decode().strip() == "new-work", "a new branch, as on the host"
            assert commit.output.decode().strip() == git.heads["feature-a"], "started from base"
            box.reload()
            assert box.status == "running", "the sandbox stays up after the sync"
        except AssertionError:
            print(box.logs().decode())
            raise
        finally:
            box.remove(force=True)
            volume.remove(force=True)


def test_a_checkout_git_refuses_is_reported_never_ready(
    engine: docker.DockerClient, image: str, tmp_path: Path
) -> None:
    """`set -e` does not reach into a function run as an `if` condition: every failing git step
    must still stop the sync. Here git refuses the clone as root in a dev-owned directory (the
    image's /workspace copied into a fresh volume): "dubious ownership"."""
    volume = engine.volumes.create(name="sfit-modal-boot-refused")
    with git_daemon(tmp_path / "git", bridge_gateway(engine)) as git:
        command = boot_command()
        box = engine.containers.run(
            image, command[1:], entrypoint=command[0], user="0",
            environment={"GIT_REPO": git.url, "GIT_BRANCH": "new-work"},
            volumes={volume.name: {"bind": WORKSPACE, "mode": "rw"}},  # seeded: owned by dev
            name="sfit-modal-boot-refused", detach=True,
        )  # fmt: skip
        try:
            assert final_status(box, "/run/sandbox/status").startswith("error")
        finally:
            box.remove(force=True)
            volume.remove(force=True)


def test_the_daytona_toolbox_command_syncs_into_the_users_home_and_returns(
    engine: docker.DockerClient, image: str, tmp_path: Path
) -> None:
    with git_daemon(tmp_path / "git", bridge_gateway(engine)) as git:
        box = engine.containers.run(
            image, ["infinity"], entrypoint="sleep", user="1000", name="sfit-daytona-sync",
            environment={"HOME": "/home/dev"}, detach=True,
        )  # fmt: skip
        try:
            git_env = {"GIT_REPO": git.url, "GIT_BRANCH": "feature-a"}
            started = box.exec_run(["sh", "-c", background_sync_command()], environment=git_env)
            assert started.exit_code == 0, started.output.decode()
            assert final_status(box, "/home/dev/.sandbox/status") == "ready"
            ws = "/home/dev/workspace"
            head = box.exec_run(["git", "-C", ws, "rev-parse", "--abbrev-ref", "HEAD"])
            commit = box.exec_run(["git", "-C", ws, "rev-parse", "HEAD"])
            assert head.output.decode().strip() == "feature-a", "the remote branch, tracked"
            assert commit.output.decode().strip() == git.heads["feature-a"]
        finally:
            box.remove(force=True)
