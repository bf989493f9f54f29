"""`python -m components.cli status` reads real stacks with the real `pulumi` CLI, through
`scripts/pulumi`: the backend (`.pulumi-state`) and passphrase file `scripts/up` makes in the
project, nothing set by the test. The stacks are a small program that exports what the fleet
exports for a host (its host, its supervisor's URL and secret token, its sandboxes); their
supervisors are real `python -m supervisor` processes on loopback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.pulumi_cli import CALL_TIMEOUT_S, REPO_ROOT, copy_project

PROGRAM = '''"""Exports outputs.<stack>.json, the supervisor's token as a secret."""
import json
import pathlib

import pulumi

found = json.loads(pathlib.Path(f"outputs.{pulumi.get_stack()}.json").read_text())
found["supervisor"]["apiToken"] = pulumi.Output.secret(found["supervisor"]["apiToken"])
for key, value in found.items():
    pulumi.export(key, value)
'''
WAIT_S = 60.0  # a bound on waiting for a supervisor to answer, never an assertion on speed


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _user_env(home: Path) -> dict[str, str]:
    """A shell as a user has it: no backend, passphrase or CLI of the test's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    return env | {"PULUMI_HOME": str(home), "NO_COLOR": "1"}


class Supervisor:
    def __init__(self, directory: Path, name: str) -> None:
        self.port, self.token = _free_port(), f"token-of-{name}"
        env = {
            **os.environ, "PYTHONPATH": str(REPO_ROOT / "images" / "supervisor"),
            "SUPERVISOR_RUNTIME": "stub", "SUPERVISOR_HOST": "127.0.0.1",
            "SUPERVISOR_PORT": str(self.port), "SUPERVISOR_API_TOKEN": self.token,
            "SUPERVISOR_LOG_DIR": str(directory / name), "SUPERVISOR_HOST_NAME": name,
            "SUPERVISOR_SANDBOX_SSH_PORT": "2222", "SUPERVISOR_SANDBOX_WORKSPACE": "/workspace",
            "SUPERVISOR_KNOWN_HOSTS": str(directory / "known_hosts"),
            "SUPERVISOR_SANDBOX_DEVTOOLS_PORT": "9222", "SUPERVISOR_SANDBOX_MEMORY": "/memory",
        }  # fmt: skip
        self.process = subprocess.Popen(
            [sys.executable, "-m", "supervisor"], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + WAIT_S
        while not self._answers():
            assert self.process.poll() is None and time.monotonic() < deadline, "no supervisor"
            time.sleep(0.1)

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=2) as reply:
                return bool(reply.status == 200)
        except OSError:
            return False

    def run_task(self, sandbox: str) -> None:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        body = json.dumps({"sender": "e2e", "sandbox": sandbox, "prompt": "p"}).encode()
        request = urllib.request.Request(f"{self.url}/tasks", body, headers, method="POST")
        with urllib.request.urlopen(request, timeout=10) as reply:
            task_id = json.loads(reply.read())["id"]
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            get = urllib.request.Request(f"{self.url}/tasks/{task_id}", headers=headers)
            with urllib.request.urlopen(get, timeout=10) as reply:
                if json.loads(reply.read())["status"] == "done":
                    return
            time.sleep(0.1)
        raise AssertionError(f"task {task_id} did not finish")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def outputs(self, host: str, capabilities: list[str], sandboxes: list[str]) -> dict[str, Any]:
        box = {"mode": "headless", "runtime": "docker", "branch": "main"}
        return {
            "host": {"name": host, "variant": "local", "bindAddress": "127.0.0.1",
                     "capabilities": capabilities},
            "supervisor": {"apiUrl": self.url, "apiToken": self.token},
            "sandboxes": {name: box for name in sandboxes},
        }  # fmt: skip


@pytest.fixture
def supervisors(tmp_path: Path) -> Iterator[dict[str, Supervisor]]:
    started = {name: Supervisor(tmp_path / "supervisors", name) for name in ("hq", "desk")}
    yield started
    for one in started.values():
        one.stop()


def _scripts_pulumi(project: Path, env: dict[str, str], *args: str) -> None:
    done = subprocess.run([str(project / "scripts" / "pulumi"), *args, "--non-interactive"],
                          cwd=project, env=env, capture_output=True, text=True,
                          timeout=CALL_TIMEOUT_S)  # fmt: skip
    assert done.returncode == 0, f"scripts/pulumi {' '.join(args)}:\n{done.stderr[-3000:]}"


def _status(project: Path, env: dict[str, str], *args: str) -> tuple[int, dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "components.cli", "status", "--format", "json", *args],
        cwd=project, env=env, capture_output=True, text=True, timeout=CALL_TIMEOUT_S,
    )  # fmt: skip
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


def test_status_reads_every_stack_as_scripts_up_does_and_asks_its_supervisor(
    engine_bin: Path, tmp_path: Path, supervisors: dict[str, Supervisor]
) -> None:
    project = copy_project(tmp_path / "checkout")
    (project / "status_outputs.py").write_text(PROGRAM)
    pulumi_yaml = project / "Pulumi.yaml"
    pulumi_yaml.write_text(pulumi_yaml.read_text().replace(
        "runtime:", "main: status_outputs.py\nruntime:", 1))  # fmt: skip
    env = _user_env(tmp_path / "pulumi-home")
    hosts = {"hq": (["headless", "model"], ["web", "etl"]), "desk": (["visual", "gpu"], ["ui"])}
    for stack, (capabilities, sandboxes) in hosts.items():
        found = supervisors[stack].outputs(stack, capabilities, sandboxes)
        (project / f"outputs.{stack}.json").write_text(json.dumps(found))
        _scripts_pulumi(project, env, "stack", "init", stack)
        _scripts_pulumi(project, env, "up", "--yes", "--skip-preview", "--stack", stack)
    supervisors["hq"].run_task("web")

    code, view = _status(project, env)  # dev (Pulumi.dev.yaml) was never deployed
    assert code == 1
    stacks = {s["stack"]: s for s in view["stacks"]}
    assert stacks["dev"]["error"] == "stack outputs: error: no stack named 'dev' found"
    for stack, (capabilities, sandboxes) in hosts.items():
        assert (stacks[stack]["host"], stacks[stack]["capabilities"]) == (stack, capabilities)
        assert stacks[stack]["reachable"] and stacks[stack]["error"] is None, stacks[stack]
        assert [s["name"] for s in stacks[stack]["sandboxes"]] == sorted(sandboxes)
    assert stacks["hq"]["tasks"]["done"] == 1 and stacks["desk"]["tasks"]["done"] == 0
    assert stacks["hq"]["sandboxes"][1]["tasks"]["done"] == 1  # web

    assert _status(project, env, "--stack", "hq", "--stack", "desk")[0] == 0
    supervisors["desk"].stop()
    code, view = _status(project, env, "--stack", "hq", "--stack", "desk")
    desk = {s["stack"]: s for s in view["stacks"]}["desk"]
    assert (code, desk["reachable"]) == (1, False)
    assert desk["error"].startswith(f"supervisor at {supervisors['desk'].url}: ")

    # The tokens were read with the passphrase scripts/up keeps beside the backend; the state
    # holds them encrypted only.
    assert (project / ".pulumi-state.passphrase").stat().st_mode & 0o077 == 0
    state = "".join(p.read_text() for p in (project / ".pulumi-state").rglob("*.json"))
    assert "token-of-hq" not in state and "token-of-desk" not in state
