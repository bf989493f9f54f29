"""`python -m components.cli status` against real supervisors (in process, on a clock the test
sets): each stack's outputs name its host and supervisor, the supervisor says the rest. Reading
the outputs with the real `pulumi` CLI: tests/e2e/test_fleet_status_real_engine.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from components.tools import cli, status

from .bus_fleet import FakeClock, Spender
from .conftest import Http, StartSupervisor


def outputs(api: Http, host: str, capabilities: list[str], **sandboxes: Any) -> dict[str, Any]:
    """What the fleet program exports for a host (components/outputs.py)."""
    return {
        "host": {"name": host, "variant": "local", "bindAddress": "127.0.0.1",
                 "capabilities": capabilities},
        "supervisor": {"apiUrl": api.base, "apiToken": api.token},
        "sandboxes": sandboxes,
    }  # fmt: skip


@pytest.fixture
def project(tmp_path: Path) -> Path:
    directory = tmp_path / "project"
    directory.mkdir()
    (directory / "Pulumi.yaml").write_text("name: sandbox-fleet\n")
    for stack in ("hq", "desk", "lab"):
        (directory / f"Pulumi.{stack}.yaml").write_text("config: {}\n")
    return directory


def test_status_shows_every_stacks_host_sandboxes_and_workload(
    start_supervisor: StartSupervisor, project: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    clock = FakeClock()
    _, hq = start_supervisor(runtime=Spender("hq", 300, 45), clock=clock,
                             SUPERVISOR_LOG_DIR=str(project.parent / "hq"))  # fmt: skip
    for sandbox in ("web", "web", "etl"):
        hq.wait_status(hq.submit("go", sandbox=sandbox), "done")
    clock.advance(30)  # those three are out of the last 24 h now; this one is in
    hq.wait_status(hq.submit("again", sandbox="web"), "done")
    docker = {"mode": "visual", "runtime": "docker", "branch": "main"}
    found = {
        "hq": outputs(hq, "hq", ["headless", "visual"], web=docker,
                      etl={**docker, "mode": "headless"},
                      far={**docker, "status": "deployed by stack desk"}),
        "desk": {**outputs(Http("http://127.0.0.1:9", "t"), "desk", ["gpu"]),
                 "sandboxes": {"cloud": {"mode": "headless", "runtime": "daytona",
                                         "branch": "b", "state": "started"}}},
    }  # fmt: skip

    def read(directory: Path, stack: str) -> dict[str, Any]:
        assert directory == project
        if stack not in found:
            raise status.StackUnavailable("error: no stack named 'lab' found")
        return found[stack]

    monkeypatch.setattr(status, "stack_outputs", read)
    assert cli.main(["status", "--project", str(project), "--format", "json"]) == 1
    view = json.loads(capsys.readouterr().out)
    assert (view["reachable"], view["unreachable"], view["hours"]) == (1, 2, 24)
    stacks = {s["stack"]: s for s in view["stacks"]}
    assert sorted(stacks) == ["desk", "hq", "lab"]
    hq_view = stacks["hq"]
    assert (hq_view["host"], hq_view["capabilities"], hq_view["reachable"]) == (
        "hq", ["headless", "visual"], True
    )  # fmt: skip
    assert hq_view["health"]["status"] == "ok" and hq_view["error"] is None
    assert {k: hq_view["tasks"][k] for k in ("queued", "running", "done", "tokens")} == {
        "queued": 0, "running": 0, "done": 1, "tokens": 345
    }  # fmt: skip
    assert [(s["name"], s["mode"], s["state"]) for s in hq_view["sandboxes"]] == [
        ("etl", "headless", "deployed"), ("web", "visual", "deployed")
    ]  # fmt: skip
    assert hq_view["sandboxes"][0]["tasks"] is None  # nothing for etl in the last 24 h
    assert hq_view["sandboxes"][1]["tasks"]["done"] == 1
    desk = stacks["desk"]
    assert (desk["host"], desk["reachable"], desk["sandboxes"][0]["state"]) == (
        "desk", False, "started"
    )  # fmt: skip
    assert desk["error"].startswith("supervisor at http://127.0.0.1:9: ")
    assert stacks["lab"]["error"] == "stack outputs: error: no stack named 'lab' found"

    assert cli.main(["status", "--project", str(project), "--stack", "hq", "--hours", "48"]) == 0
    text = capsys.readouterr().out
    assert "hq     hq    headless,visual       0        0     4       0       1,380  ok" in text
    assert (
        "  web      visual    docker   deployed  idle       0        0     3       0       1,035"
        in text
    )
    assert text.endswith("1 of 1 hosts reachable\n")


def test_status_usage_and_project_errors_exit_2(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["status", "--project", str(tmp_path / "nowhere")]) == 2
    assert "no Pulumi.yaml" in capsys.readouterr().err
    assert cli.main(["status", "--project", str(project), "--stack", "moon"]) == 2
    assert "no stack file for moon; stacks: desk, hq, lab" in capsys.readouterr().err
    assert cli.main(["status", "--hours", "0"]) == 2
    assert cli.main(["status", "--project", str(project), "--stack", "hq"]) == 2
    assert "scripts/pulumi is missing" in capsys.readouterr().err
