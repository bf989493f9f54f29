"""A repository's mirror (issue #14) on the real Pulumi engine and a real Docker engine: the
sandboxes of one repository clone with its mirror as git's alternate, keep their own work
through mirror updates, do not see each other's uncommitted work, and leave complete
repositories behind when every one of them is removed. The repository is served by a local git
daemon on the default bridge's gateway (as in the integration tests). As in every e2e test, the
program runs without its pids-limit commands (docs/engine.md)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from components.planes.docker.memory import repo_slug
from tests.support.git_daemon import GitServer, bridge_gateway, git_daemon, port_block
from tests.support.pulumi_cli import Project

from .conftest import init_host_stack, remove_named

pytestmark = pytest.mark.docker

PREFIX = "sfemr-"
SSH = port_block(4)  # below the ephemeral range, as in test_sandboxes_real_engine
ENTRIES = (
    f"  one: {{task: refactor, branch: one, ssh_port: {SSH}}}\n"
    f"  two: {{task: refactor, branch: two, ssh_port: {SSH + 2}}}\n"
)


@pytest.fixture
def mirrored(
    project: Project, engine: docker.DockerClient, tmp_path: Path
) -> Iterator[tuple[Project, GitServer]]:
    remove_named(engine, PREFIX)
    with git_daemon(tmp_path / "git", bridge_gateway(engine)) as git:
        spec = f"version: 1\ndefaults:\n  repo: {git.url}\nsandboxes:\n"
        init_host_stack(project, PREFIX, spec + ENTRIES)
        yield project, git
        project.run("destroy", "--yes", "--exclude-protected", check=False)
    remove_named(engine, PREFIX)
    for v in engine.volumes.list(filters={"name": f"{PREFIX}mirror-"}):
        v.remove(force=True)


def sh(engine: docker.DockerClient, container: str, script: str) -> str:
    code, out = engine.containers.get(container).exec_run(["bash", "-c", script], user="1000")
    assert code == 0, out.decode()
    return str(out.decode())


def test_sandboxes_borrow_the_mirror_and_keep_their_work_through_its_updates(
    mirrored: tuple[Project, GitServer], engine: docker.DockerClient, tmp_path: Path
) -> None:
    project, git = mirrored
    project.run("up", "--yes")
    # The keeper and the sandboxes' health checks read back as written: no drift.
    project.run("preview", "--expect-no-changes")
    one, two = f"{PREFIX}one", f"{PREFIX}two"
    assert sh(engine, one, "cat /workspace/.git/objects/info/alternates").strip() == (
        "/mirror/objects"
    )
    # Their own work: a commit in one, an uncommitted file in two; neither sees the other's.
    sh(engine, one, "cd /workspace && echo mine > one.txt && git add one.txt && "
                    "git -c user.name=t -c user.email=t@t commit -qm 'one: own work'")  # fmt: skip
    sh(engine, two, "echo draft > /workspace/draft.txt")
    assert "draft.txt" not in sh(engine, one, "ls /workspace")
    assert "one.txt" not in sh(engine, two, "ls /workspace")
    # Upstream moves on; the keeper fetches (at its start: restart it), and the sandboxes still
    # have every object they need.
    work = tmp_path / "upstream"  # pushed to on disk: the daemon serves fetches only
    subprocess.run(["git", "clone", "-q", str(tmp_path / "git" / "proj.git"), str(work)],
                   check=True)  # fmt: skip
    (work / "later.txt").write_text("later\n")
    subprocess.run(["git", "-C", str(work), "add", "later.txt"], check=True)
    subprocess.run(["git", "-C", str(work), "-c", "user.name=u", "-c", "user.email=u@u",
                    "commit", "-qm", "main: later"], check=True)  # fmt: skip
    subprocess.run(["git", "-C", str(work), "push", "-q", "origin", "main"], check=True)
    keeper = engine.containers.get(f"{PREFIX}mirror.{repo_slug(git.url)}")
    keeper.restart()
    sh(engine, keeper.name or "", "for i in $(seq 100); do git -C /mirror log -1 --format=%s main "
                                  "| grep -q later && exit 0; sleep 0.2; done; exit 1")  # fmt: skip
    check = "cd /workspace && git fsck --no-progress --connectivity-only && git fetch -q origin"
    for sandbox in (one, two):
        sh(engine, sandbox, check)
    assert sh(engine, one, "git -C /workspace log -1 --format=%s").strip() == "one: own work"


def test_removing_every_sandbox_of_a_repository_leaves_complete_repositories(
    mirrored: tuple[Project, GitServer], engine: docker.DockerClient
) -> None:
    project, git = mirrored
    project.run("up", "--yes")
    sh(engine, f"{PREFIX}one", "cd /workspace && echo kept > kept.txt && git add kept.txt && "
                               "git -c user.name=t -c user.email=t@t commit -qm kept")  # fmt: skip
    (project.directory / "sandboxes.yaml").write_text("version: 1\nsandboxes: {}\n")
    project.run("up", "--yes")
    assert not engine.containers.list(all=True, filters={"name": f"{PREFIX}mirror."})
    mirror = f"{PREFIX}mirror-{repo_slug(git.url)}"
    assert engine.volumes.get(mirror)  # kept, with the workspaces
    log = engine.containers.run(
        "sandbox-fleet/headless:latest", ["bash", "-c",
        "git -C /workspace fsck --no-progress && git -C /workspace log -1 --format=%s"],
        entrypoint=[], user="1000", remove=True,
        volumes={f"{PREFIX}workspace-one": {"bind": "/workspace", "mode": "ro"},
                 mirror: {"bind": "/mirror", "mode": "ro"}},
    )  # fmt: skip
    assert log.decode().strip().endswith("kept")
    # And a sandbox of that repository that comes back finds its work.
    spec = f"version: 1\ndefaults:\n  repo: {git.url}\nsandboxes:\n{ENTRIES}"
    (project.directory / "sandboxes.yaml").write_text(spec)
    project.run("up", "--yes")
    assert sh(engine, f"{PREFIX}one", "git -C /workspace log -1 --format=%s").strip() == "kept"


def test_turning_mirrors_off_leaves_each_workspace_whole_on_its_own(
    mirrored: tuple[Project, GitServer], engine: docker.DockerClient
) -> None:
    project, _ = mirrored
    project.run("up", "--yes")
    one = f"{PREFIX}one"
    sh(engine, one, "cd /workspace && echo mine > mine.txt && git add mine.txt && "
                    "git -c user.name=t -c user.email=t@t commit -qm 'one: own work'")  # fmt: skip
    project.run("config", "set", "sandbox-fleet:mirrorEnabled", "false")
    project.run("up", "--yes")  # replaced without the mount: its history is fetched again
    assert not engine.containers.list(all=True, filters={"name": f"{PREFIX}mirror."})
    out = sh(engine, one, "cd /workspace && ls .git/objects/info && git fsck --no-progress && "
                          "git log -1 --format=%s")  # fmt: skip
    assert "alternates" not in out
    assert out.strip().endswith("one: own work")
