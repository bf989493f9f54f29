"""Sandboxes made by the real Pulumi engine on a real Docker engine.

The program is the real __main__.py without each container's pids-limit command
(tests/support/pulumi_cli.py: without_pids_command): that one resource needs pulumi-command,
which the Go module proxy here refuses (docs/engine.md). Everything else is what `pulumi up`
creates for a user: images, workspace volumes, hardened containers, ports on 127.0.0.1.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from components.contract import MODEL_SERVER_PORT
from tests.integration.fleet import http_json, model_tar
from tests.support import MODEL_SERVER_IMAGE, ensure_model_server_image
from tests.support.git_daemon import port_block, wait_for
from tests.support.pulumi_cli import Project, without_pids_command
from tests.support.tiny_gguf import write_tiny_llama_gguf

from .conftest import init_host_stack, remove_named

pytestmark = pytest.mark.docker

PREFIX = "sfe2s-"
HEADER = "version: 1\nsandboxes:\n"
# Host ports pinned below the kernel's ephemeral range: a name-derived one can be held by an
# outgoing connection or the engine's own plugin listener when Docker binds it (port_block).
SSH = port_block(8)
AUDIT = f"  audit-a: {{task: audit, ssh_port: {SSH}}}\n"
REFACTOR = f"  refactor-b: {{task: refactor, ssh_port: {SSH + 2}}}\n"
UI = f"  ui-c: {{task: frontend-dev, ssh_port: {SSH + 4}}}\n"
CONTAINERS = [f"{PREFIX}audit-a", f"{PREFIX}refactor-b", f"{PREFIX}ui-c"]  # the fixture's


def ssh_keypair(directory: Path, name: str = "id_stack") -> Path:
    key = directory / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return key


@pytest.fixture
def fleet(
    project: Project, engine: docker.DockerClient, tmp_path: Path
) -> Iterator[tuple[Project, Path]]:
    remove_named(engine, PREFIX)
    without_pids_command(project.directory)
    key = ssh_keypair(tmp_path)
    init_host_stack(
        project,
        PREFIX,
        HEADER + AUDIT + REFACTOR + UI,
        sshAuthorizedKeys=[key.with_suffix(".pub").read_text().strip()],
    )
    yield project, key
    project.run("destroy", "--yes", "--exclude-protected", check=False)
    remove_named(engine, PREFIX)


def healthy(engine: docker.DockerClient, name: str) -> bool:
    state = engine.api.inspect_container(name)["State"]
    return bool(state.get("Health", {}).get("Status") == "healthy")


def ssh(key: Path, url: str, command: str) -> subprocess.CompletedProcess[str]:
    host, port = url.removeprefix("ssh://").rsplit(":", 1)
    return subprocess.run(
        ["ssh", "-i", str(key), "-p", port, "-o", "BatchMode=yes",
         "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
         "-o", "ConnectTimeout=5", host, command],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip


def planned(project: Project) -> dict[str, list[str]]:
    steps = json.loads(project.run("preview", "--json").stdout).get("steps", [])
    plan: dict[str, list[str]] = {}
    for step in steps:
        if step["op"] != "same":
            plan.setdefault(step["urn"].rsplit("::", 1)[1], []).append(step["op"])
    return plan


def test_up_makes_healthy_sandboxes_reachable_with_the_stack_key_and_no_drift(
    fleet: tuple[Project, Path], engine: docker.DockerClient, tmp_path: Path
) -> None:
    project, key = fleet
    project.run("up", "--yes")
    # `up` returns only once every new sandbox is ready: no waiting after it.
    assert {n: healthy(engine, n) for n in CONTAINERS} == dict.fromkeys(CONTAINERS, True)
    sandboxes = project.outputs()["sandboxes"]
    assert sandboxes["ui-c"]["novnc"].startswith("http://127.0.0.1:")
    for name in ("audit-a", "refactor-b", "ui-c"):
        url = sandboxes[name]["ssh"]
        assert url.startswith("ssh://dev@127.0.0.1:"), url
        done = ssh(key, url, "cat /etc/hostname && test -w /workspace && echo writable")
        assert done.returncode == 0 and done.stdout.split() == [name, "writable"], done
    project.run("preview", "--expect-no-changes")
    project.run("refresh", "--preview-only", "--expect-no-changes")
    project.clone(tmp_path / "checkout-b").run("preview", "--expect-no-changes")


def before_the_plane(exported: str) -> str:
    """A `stack export` rewritten into the layout stacks had before the Docker plane was a
    component: its sandboxes and images the Fleet's own children, no DockerPlane."""
    deployment = json.loads(exported)
    resources = deployment["deployment"]["resources"]
    plane = next(r["urn"] for r in resources if r["type"] == "sandbox-fleet:index:DockerPlane")
    fleet = next(r["urn"] for r in resources if r["type"] == "sandbox-fleet:index:Fleet")
    deployment["deployment"]["resources"] = [r for r in resources if r["urn"] != plane]
    text = json.dumps(deployment).replace(f'{plane}"', f'{fleet}"')
    return text.replace("$sandbox-fleet:index:DockerPlane$", "$")


def test_a_stack_from_before_the_docker_plane_component_moves_nothing(
    fleet: tuple[Project, Path], engine: docker.DockerClient, tmp_path: Path
) -> None:
    """The aliases carry an existing stack over: the plane is created, everything else (the
    sandboxes, their children and images) is the same, and no container restarts."""
    project, _key = fleet
    (project.directory / "sandboxes.yaml").write_text(HEADER + AUDIT + UI)
    project.run("up", "--yes")
    running = {c.name: c.id for c in engine.containers.list(filters={"name": PREFIX})}
    state = tmp_path / "state.json"
    project.run("stack", "export", "--file", str(state))
    old = before_the_plane(state.read_text())
    assert "DockerPlane" not in old and "fleet-audit-a-container" in old
    state.write_text(old)
    project.run("stack", "import", "--file", str(state))
    assert planned(project) == {"fleet-docker": ["create"]}
    project.run("up", "--yes")
    project.run("preview", "--expect-no-changes")
    assert {c.name: c.id for c in engine.containers.list(filters={"name": PREFIX})} == running


def test_add_plans_only_that_sandbox_and_remove_keeps_its_workspace(
    fleet: tuple[Project, Path], engine: docker.DockerClient
) -> None:
    project, _key = fleet
    spec = project.directory / "sandboxes.yaml"
    spec.write_text(HEADER + AUDIT)
    project.run("up", "--yes")
    spec.write_text(HEADER + AUDIT + REFACTOR)
    plan = planned(project)
    # The keys writer rewrites known_hosts with the new sandbox's host key: a one-shot
    # container, replaced; no sandbox restarts.
    assert plan.pop("fleet-ssh-keys-writer") == ["replace"], plan
    # The host's Readiness: now waits for the new container too (not for the others).
    assert plan.pop("fleet-ready") == ["update"], plan
    assert plan and all(name.startswith("fleet-refactor-b") for name in plan), plan
    assert all(ops == ["create"] for ops in plan.values()), plan
    project.run("up", "--yes")
    assert engine.containers.get(f"{PREFIX}refactor-b").status == "running"
    engine.containers.get(f"{PREFIX}refactor-b").exec_run(
        ["sh", "-c", "echo kept > /workspace/note"], user="dev"
    )
    spec.write_text(HEADER + AUDIT)
    project.run("up", "--yes")
    assert not engine.containers.list(all=True, filters={"name": f"{PREFIX}refactor-b"})
    note = engine.containers.run(
        "debian:bookworm-slim",
        ["cat", "/w/note"],
        volumes={f"{PREFIX}workspace-refactor-b": {"bind": "/w", "mode": "ro"}},
        remove=True,
    )
    assert note.decode().strip() == "kept", "the removed sandbox's workspace keeps its files"
    assert engine.containers.get(f"{PREFIX}audit-a").status == "running", "nothing else moved"


def test_a_sandbox_that_never_gets_ready_fails_the_up_naming_it(
    fleet: tuple[Project, Path],
) -> None:
    project, _key = fleet
    project.run("config", "set", "sandbox-fleet:readyTimeoutSeconds", "20")
    # Nothing listens on port 9 of loopback: the checkout never completes, so never ready.
    repo = "git://127.0.0.1:9/none.git"
    (project.directory / "sandboxes.yaml").write_text(
        HEADER + f"  stuck-d: {{task: audit, repo: '{repo}', ssh_port: {SSH + 6}}}\n"
    )
    # Its repository's mirror, which the sandbox waits for, fails first: named, with why.
    said = failed_up(project)
    assert f"the mirror of {repo} (container {PREFIX}mirror." in said, said
    assert "is not ready after 20 s" in said and "sandbox-fleet:readyTimeoutSeconds" in said
    assert "health check says: mirror: first clone not done" in said, said
    assert f"sandbox-mirror: fetching {repo} failed" in said, "its last log lines are shown"
    # Without mirrors, the sandbox itself.
    project.run("config", "set", "sandbox-fleet:mirrorEnabled", "false")
    said = failed_up(project)
    assert f"sandbox stuck-d (container {PREFIX}stuck-d) is not ready after 20 s" in said, said
    assert f"health check says: workspace: waiting: cannot reach {repo}" in said, said
    assert "sandbox-sync: attempt 1 failed" in said, "its last log lines are shown"


def failed_up(project: Project) -> str:
    done = project.run("up", "--yes", check=False)
    said = done.stdout + done.stderr
    assert done.returncode != 0, said
    assert "Traceback" not in said, f"a Python traceback reached the user:\n{said}"
    return said


def test_adding_a_key_restarts_no_sandbox_and_the_new_key_logs_in(
    fleet: tuple[Project, Path], engine: docker.DockerClient, tmp_path: Path
) -> None:
    project, key = fleet
    project.run("up", "--yes")  # returns once every sandbox is ready

    def started() -> dict[str, tuple[str, str]]:
        inspect = {n: engine.api.inspect_container(n) for n in CONTAINERS}
        return {n: (c["Id"], c["State"]["StartedAt"]) for n, c in inspect.items()}

    before = started()
    second = ssh_keypair(tmp_path, "id_second")
    url = project.outputs()["sandboxes"]["audit-a"]["ssh"]
    assert ssh(second, url, "true").returncode == 255, "not authorised yet"
    keys = [p.with_suffix(".pub").read_text().strip() for p in (key, second)]
    project.run("config", "set", "--path", "sandbox-fleet:sshAuthorizedKeys[1]", keys[1])
    assert set(planned(project)) == {"fleet-ssh-keys-writer"}, "only the keys writer changes"
    project.run("up", "--yes")
    assert started() == before, "a key change restarted a sandbox"
    for k in (key, second):
        done = ssh(k, url, "true")
        assert done.returncode == 0, done
    project.run("preview", "--expect-no-changes")
    project.run("refresh", "--preview-only", "--expect-no-changes")


def test_a_sandbox_removed_out_of_band_is_drift_and_up_refresh_brings_it_back(
    fleet: tuple[Project, Path], engine: docker.DockerClient
) -> None:
    project, _key = fleet
    (project.directory / "sandboxes.yaml").write_text(HEADER + AUDIT)
    project.run("up", "--yes")
    engine.containers.get(f"{PREFIX}audit-a").remove(force=True)
    drift = project.run("refresh", "--preview-only", "--expect-no-changes", check=False)
    assert drift.returncode != 0 and "fleet-audit-a-container" in drift.stdout, drift.stdout
    project.run("up", "--refresh", "--yes")
    assert engine.containers.get(f"{PREFIX}audit-a").status == "running"
    project.run("preview", "--expect-no-changes")


def test_a_task_posted_to_the_supervisor_is_done_by_the_model_server(
    fleet: tuple[Project, Path], engine: docker.DockerClient, tmp_path: Path
) -> None:
    """The shared services on the real engine: llama-server with a tiny random-weight model in
    model-data (gibberish, fine for wiring), the supervisor reaching it over ai-net."""
    project, _key = fleet
    image = ensure_model_server_image(
        engine
    )  # built once (10+ min cold), shared with tests/integration
    (project.directory / "sandboxes.yaml").write_text(HEADER + AUDIT)
    project.run("up", "--yes")  # creates the model-data volume (protected, retained)
    model = write_tiny_llama_gguf(tmp_path / "model.gguf", seed=0)
    loader = engine.containers.create(
        image, entrypoint=["true"], network_disabled=True,
        volumes={f"{PREFIX}model-data": {"bind": "/models", "mode": "rw"}},
    )  # fmt: skip
    try:
        assert loader.put_archive("/models", model_tar(model))
    finally:
        loader.remove(force=True)
    for key, value in {
        "modelServerEnabled": "true",
        "modelServerBuild": "false",
        "modelServerImage": MODEL_SERVER_IMAGE,  # local: the provider finds it, pulls nothing
        "modelServerContextSize": "512",
        "modelServerThreads": "2",
        "modelServerMemory": "1Gi",
    }.items():
        project.run("config", "set", f"sandbox-fleet:{key}", value)
    project.run("up", "--yes")
    names = [f"{PREFIX}model-server", f"{PREFIX}supervisor"]
    wait_for(lambda: all(healthy(engine, n) for n in names) or None, "services healthy", 300)
    completion = f"http://127.0.0.1:{MODEL_SERVER_PORT}/completion"
    ask = ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
           "-d", '{"prompt": "Hi.", "n_predict": 1}', completion]  # fmt: skip
    asked = engine.containers.get(f"{PREFIX}model-server").exec_run(ask)
    assert asked.output.decode() == "401", "the model answers nobody without its key"
    supervisor = project.outputs()["supervisor"]
    api, token = supervisor["apiUrl"], supervisor["apiToken"]
    task_body = {"sender": "e2e", "sandbox": "audit-a", "prompt": "Hi."}
    assert http_json(f"{api}/tasks", task_body)[0] == 401, "no token, no task"
    status, task = http_json(f"{api}/tasks", task_body, token=token)
    assert status == 201, task
    done = wait_for(
        lambda: ((t := http_json(f"{api}/tasks/{task['id']}", token=token)[1])["status"]
                 in ("done", "failed") and t) or None,
        "the task finished", 180,
    )  # fmt: skip
    assert done["status"] == "done" and done["result"].strip(), done
    project.run("preview", "--expect-no-changes")
