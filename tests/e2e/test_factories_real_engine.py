"""A fleet on two hosts (issue #15) on the real Pulumi engine, with one Docker engine and a test
network standing in for two machines and their tailnet: two stacks of one sandboxes.yaml,
headquarters `hq` (containers `sfhq2-*`) and member `desk` (`sfdk2-*`), each with its own
ai-net. The network `sfh2-uplink` is the tailnet: both stacks publish on its gateway address
(their `bindAddress`), and the member's supervisor reaches headquarters' bus there (its
`busAddress`), from its own network, as it would over Tailscale. Each host has one sandbox;
the supervisors run the `cli` runtime, a command that writes the prompt to a file in the
workspace, so no model is needed and each task is a commit on its sandbox's branch.

As in every e2e test the program runs without its pids-limit commands (pulumi-command cannot be
built here: docs/engine.md). Everything is named with those prefixes and removed at the end.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest

from components.services.bus import derive_password
from tests.integration.fleet import http_json
from tests.support.git_daemon import port_block, wait_for
from tests.support.pulumi_cli import CALL_TIMEOUT_S, Project, copy_project

from .conftest import (
    BUS_KEY,
    BUS_SECRET,
    TASK_API_TOKEN,
    TWO_HOSTS,
    init_host_stack,
    remove_named,
)

pytestmark = pytest.mark.docker

PREFIXES = {"hq": "sfhq2-", "desk": "sfdk2-"}
UPLINK = "sfh2-uplink"
CAPABILITIES = {"hq": ["headless"], "desk": ["headless", "visual"]}
SANDBOXES = """sandboxes:
  hq-box: {{task: refactor, host: hq, ssh_port: {hq_ssh}}}
  desk-box: {{task: refactor, host: desk, ssh_port: {desk_ssh}}}
"""
# The agent: the prompt (its stdin) into a file of the workspace; its last line is the summary.
CLI_COMMAND = 'cat > "task-$SUPERVISOR_TASK_ID.txt" && echo "wrote task-$SUPERVISOR_TASK_ID.txt"'
WAIT_S = 180.0  # a bound on waiting, never an assertion on speed
WRONG_SECRET = "not-the-bus-secret"


@dataclass
class Factories:
    engine: docker.DockerClient
    stacks: dict[str, Project]  # host -> its stack (one project directory, one backend)
    apis: dict[str, str]  # host -> its supervisor's API, on the uplink's gateway
    branches: dict[str, str]  # sandbox -> its branch

    def container(self, host: str, role: str) -> Any:
        return self.engine.containers.get(f"{PREFIXES[host]}{role}")

    def post(self, sandbox: str, prompt: str) -> tuple[int, Any]:
        body = {"sender": "e2e", "sandbox": sandbox, "prompt": prompt}
        return http_json(f"{self.apis['hq']}/tasks", body, token=TASK_API_TOKEN)

    def submit(self, sandbox: str, prompt: str) -> int:
        status, task = self.post(sandbox, prompt)
        assert status == 201, task
        return int(task["id"])

    def task(self, task_id: int) -> dict[str, Any]:
        """As headquarters shows it, wherever it ran."""
        return dict(http_json(f"{self.apis['hq']}/tasks/{task_id}", token=TASK_API_TOKEN)[1])

    def ended(self, task_id: int) -> dict[str, Any]:
        return wait_for(
            lambda: t if (t := self.task(task_id))["status"] in ("done", "failed") else None,
            f"task {task_id} to end", WAIT_S, every_s=0.5,
        )  # fmt: skip

    def health(self, host: str) -> tuple[int, dict[str, Any]]:
        try:
            status, health = http_json(f"{self.apis[host]}/health")
        except OSError as exc:  # not listening yet
            return 0, {"error": str(exc)}
        return status, dict(health or {})

    def connected(self, host: str) -> dict[str, Any]:
        def answer() -> dict[str, Any] | None:
            status, health = self.health(host)
            return health if status == 200 and health["bus"]["state"] == "connected" else None

        return wait_for(answer, f"{host}'s supervisor on the bus", WAIT_S, every_s=0.5)

    def committed_on_desk(self, task: dict[str, Any]) -> str:
        """The file the task's commit added in desk-box's workspace, on its branch: its text."""
        box = self.container("desk", "desk-box")

        def git(*args: str) -> str:
            code, out = box.exec_run(["git", "-C", "/workspace", *args], user="1000")
            assert code == 0, out
            return str(out.decode())

        assert git("branch", "--show-current").strip() == self.branches["desk-box"]
        assert task["commit_sha"] in git("log", "--format=%H").split()
        written = task["result"].removeprefix("wrote ")
        assert git("show", "--name-only", "--format=", task["commit_sha"]).split() == [written]
        return git("show", f"{task['commit_sha']}:{written}")


def _remove_ours(engine: docker.DockerClient) -> None:
    for prefix in PREFIXES.values():
        remove_named(engine, prefix)
    for network in engine.networks.list(names=[UPLINK]):
        network.remove()


@pytest.fixture(scope="module")
def stood_up(
    engine_bin: Path, engine: docker.DockerClient, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Factories]:
    _remove_ours(engine)
    uplink = engine.networks.create(UPLINK)
    uplink.reload()
    gateway = str(uplink.attrs["IPAM"]["Config"][0]["Gateway"])
    work = tmp_path_factory.mktemp("factories")
    directory = copy_project(work / "checkout")
    stacks = {host: Project(directory, engine_bin, work / "state", host) for host in PREFIXES}
    # Both hosts publish on the one gateway address; a sandbox holds two (SSH, noVNC).
    first = port_block(7, gateway)
    hq_ssh, _, desk_ssh, _, bus, *api = range(first, first + 7)
    spec = TWO_HOSTS + SANDBOXES.format(hq_ssh=hq_ssh, desk_ssh=desk_ssh)
    both = {"bindAddress": gateway, "busPort": str(bus),
            "supervisorRuntime": "cli", "supervisorCliCommand": CLI_COMMAND}  # fmt: skip
    member = {"desk": {"busAddress": gateway}, "hq": {}}
    try:
        for (host, project), port in zip(stacks.items(), api, strict=True):  # hq first (the bus)
            init_host_stack(project, PREFIXES[host], spec, hostName=host,
                            supervisorPort=str(port), **both, **member[host])  # fmt: skip
            project.run("up", "--yes")
        outputs = {host: project.outputs() for host, project in stacks.items()}
        yield Factories(
            engine, stacks,
            {host: out["supervisor"]["apiUrl"] for host, out in outputs.items()},
            {name: out["sandboxes"][name]["branch"]
             for name, out in (("hq-box", outputs["hq"]), ("desk-box", outputs["desk"]))},
        )  # fmt: skip
    finally:
        for project in reversed(stacks.values()):
            project.run("destroy", "--yes", "--exclude-protected", check=False)
        _remove_ours(engine)


@pytest.fixture
def factories(stood_up: Factories) -> Factories:
    """Both hosts running and on the bus, whatever an earlier test stopped."""
    for host, role in (("hq", "bus"), ("hq", "supervisor"), ("desk", "supervisor")):
        stood_up.container(host, role).start()  # a no-op when it runs
    for host in PREFIXES:
        stood_up.connected(host)
    return stood_up


def test_stand_in_hosts_a_task_for_the_desk_sandbox_runs_on_desk_and_shows_at_headquarters(
    factories: Factories,
) -> None:
    health = factories.connected("desk")
    assert (health["host"], health["role"], health["capabilities"]) == (
        "desk", "member", CAPABILITIES["desk"])  # fmt: skip
    task = factories.ended(factories.submit("desk-box", "made on the desk"))
    assert (task["status"], task["host"]) == ("done", "desk"), task
    assert factories.committed_on_desk(task) == "made on the desk"


def test_stand_in_hosts_a_member_stopped_while_tasks_were_posted_runs_them_when_started(
    factories: Factories,
) -> None:
    factories.container("desk", "supervisor").stop(timeout=10)
    ids = [factories.submit("desk-box", f"backlog {n}") for n in range(3)]
    assert [factories.task(i)["status"] for i in ids] == ["queued"] * 3
    factories.container("desk", "supervisor").start()
    tasks = [factories.ended(i) for i in ids]
    assert [(t["status"], t["host"]) for t in tasks] == [("done", "desk")] * 3, tasks
    assert [factories.committed_on_desk(t) for t in tasks] == [f"backlog {n}" for n in range(3)]


def test_stand_in_hosts_docker_restart_of_the_bus_loses_no_task(factories: Factories) -> None:
    factories.container("desk", "supervisor").stop(timeout=10)  # the tasks wait on the bus
    before = [factories.submit("desk-box", f"before {n}") for n in range(2)]
    factories.container("hq", "bus").restart(timeout=10)
    factories.container("desk", "supervisor").start()

    def accepted() -> int | None:  # 503 (not accepted: the bus is away) until it is back
        status, task = factories.post("desk-box", "after")
        assert status in (201, 503), task
        return int(task["id"]) if status == 201 else None

    after = wait_for(accepted, "headquarters to accept a task again", WAIT_S, every_s=0.5)
    factories.container("hq", "bus").restart(timeout=10)  # with both supervisors on it
    tasks = [factories.ended(i) for i in (*before, after)]
    assert [(t["status"], t["host"]) for t in tasks] == [("done", "desk")] * 3, tasks
    assert [factories.committed_on_desk(t) for t in tasks] == ["before 0", "before 1", "after"]


def test_stand_in_hosts_a_member_with_another_bus_secret_is_refused_clearly_in_its_health(
    factories: Factories,
) -> None:
    desk = factories.stacks["desk"]
    desk.run("config", "set", "--secret", BUS_KEY, WRONG_SECRET)
    try:
        desk.run("up", "--yes")  # a new supervisor, with the password WRONG_SECRET gives

        def refused() -> tuple[int, dict[str, Any]] | None:
            status, health = factories.health("desk")
            return (status, health) if health.get("bus", {}).get("state") == "refused" else None

        status, health = wait_for(refused, "the refusal in desk's /health", WAIT_S, every_s=0.5)
        assert (status, health["status"]) == (503, "unhealthy"), health
        assert "the bus refused our password (WRONGPASS" in health["reason"], health
        assert "SUPERVISOR_BUS_PASSWORD must be the bus's password" in health["reason"]
        time.sleep(6)  # the pulling loop tries again meanwhile (its backoff is capped at 5 s)
        logs = factories.container("desk", "supervisor").logs().decode()
        assert logs.count('"event": "bus_refused"') == 1, logs[-3000:]
        assert "Traceback" not in logs and derive_password(WRONG_SECRET) not in logs
    finally:
        desk.run("config", "set", "--secret", BUS_KEY, BUS_SECRET)
        desk.run("up", "--yes")
    factories.connected("desk")


def test_stand_in_hosts_a_task_for_a_sandbox_the_fleet_lacks_is_a_404_naming_the_known_ones(
    factories: Factories,
) -> None:
    status, answer = factories.post("desk-bx", "nowhere")
    assert (status, answer["error"]) == (404, (
        "sandbox 'desk-bx' is not in the fleet (did you mean 'desk-box'?); "
        "known sandboxes: desk-box, hq-box"))  # fmt: skip


def test_stand_in_hosts_the_status_command_shows_both_hosts_their_sandboxes_and_tasks(
    factories: Factories,
) -> None:
    for sandbox in ("hq-box", "desk-box"):
        assert factories.ended(factories.submit(sandbox, f"for {sandbox}"))["status"] == "done"
    ledger = http_json(f"{factories.apis['hq']}/tasks?limit=500", token=TASK_API_TOKEN)[1]
    counts = Counter((t["host"], t["status"]) for t in ledger["tasks"])
    hq = factories.stacks["hq"]
    done = subprocess.run(
        [sys.executable, "-m", "components.cli", "status", "--format", "json",
         "--stack", "hq", "--stack", "desk"],
        cwd=hq.directory, env=hq.env(), capture_output=True, text=True, timeout=CALL_TIMEOUT_S,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    view = {s["stack"]: s for s in json.loads(done.stdout)["stacks"]}
    for host, sandbox in (("hq", "hq-box"), ("desk", "desk-box")):
        seen = view[host]
        assert (seen["host"], seen["capabilities"]) == (host, CAPABILITIES[host])
        assert seen["reachable"] and seen["error"] is None, seen
        assert seen["health"]["bus"]["state"] == "connected", seen["health"]
        assert [s["name"] for s in seen["sandboxes"]] == [sandbox]  # the other is not its own
        wanted = {s: counts[(host, s)] for s in ("queued", "running", "done", "failed")}
        assert {s: seen["tasks"][s] for s in wanted} == wanted, (host, seen["tasks"])
        assert seen["sandboxes"][0]["tasks"]["done"] == wanted["done"] >= 1
