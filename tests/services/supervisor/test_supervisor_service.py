"""The whole service: JSON logs, several workers, crash recovery, and `python3 -m supervisor`."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from supervisor.app import Supervisor
from supervisor.config import load_config
from supervisor.logs import setup_logging
from supervisor.queue import TaskQueue
from supervisor.runtimes import StubRuntime
from supervisor.sandbox_shell import SandboxShell
from supervisor.session import TaskSession
from supervisor.task import Task

from .conftest import SUPERVISOR_SRC, Http, StartSupervisor, base_env, wait_until


@pytest.fixture
def restore_logging() -> Iterator[None]:
    logger = logging.getLogger("supervisor")
    before = list(logger.handlers), logger.level, logger.propagate
    yield
    for handler in logger.handlers:
        if handler not in before[0]:
            handler.close()
    logger.handlers, logger.level, logger.propagate = before


@pytest.mark.usefixtures("restore_logging")
def test_logs_are_one_json_object_per_line_on_stdout_and_in_the_file(
    tmp_path: Path, start_supervisor: StartSupervisor, capsys: pytest.CaptureFixture[str]
) -> None:
    # Set up inside the test: only now is sys.stdout the stream capsys reads.
    json_logging = setup_logging(tmp_path / "logdir", "INFO")
    _, api = start_supervisor()
    task_id = api.submit("log me", sandbox="sb-log")
    api.wait_status(task_id, "done")
    wait_until(lambda: '"event": "done"' in json_logging.read_text(), "the done log line")
    lines = [json.loads(line) for line in json_logging.read_text().splitlines()]
    done = [e for e in lines if e.get("event") == "done"]
    assert len(done) == 1
    assert {k: done[0][k] for k in ("level", "logger", "msg", "task_id", "sandbox")} == {
        "level": "info",
        "logger": "supervisor.worker",
        "msg": "task done",
        "task_id": task_id,
        "sandbox": "sb-log",
    }
    assert all({"ts", "level", "logger", "msg"} <= set(e) for e in lines)
    assert all("log me" not in json.dumps(e) for e in lines)  # prompts are not logged
    stdout = capsys.readouterr().out
    assert any(json.loads(line).get("event") == "done" for line in stdout.splitlines())


class BarrierRuntime(StubRuntime):
    """Succeeds only when two tasks run at the same time (proves two workers)."""

    def __init__(self) -> None:
        self.barrier = threading.Barrier(2, timeout=20)

    def execute(self, task: Task, session: TaskSession, shell: SandboxShell | None) -> str:
        self.barrier.wait()
        return super().execute(task, session, shell)


def test_two_workers_run_two_tasks_of_two_sandboxes_at_once(
    start_supervisor: StartSupervisor,
) -> None:
    _, api = start_supervisor(runtime=BarrierRuntime(), SUPERVISOR_WORKERS="2")
    ids = [api.submit("one", sandbox="sb-1"), api.submit("two", sandbox="sb-2")]
    results = [api.wait_status(i, "done", "failed") for i in ids]
    assert [(r["status"], r["attempts"]) for r in results] == [("done", 1), ("done", 1)]
    assert api.get("/health")[2]["workers"] == 2


def test_task_left_running_by_a_crash_is_finished_after_restart(tmp_path: Path) -> None:
    config = load_config(base_env(tmp_path))
    queue = TaskQueue(config.db_path)
    stuck = queue.enqueue("alice", "sb-a", "interrupted")
    queue.claim()
    queue.start_attempt(stuck.id)
    queue.close()  # the process "died" with the task running

    sup = Supervisor(config, poll_interval=0.05)
    try:
        assert sup.recovered == 1
        sup.start()
        task = Http(f"http://127.0.0.1:{sup.port}", config.api_token).wait_status(
            stuck.id, "done", "failed"
        )
        assert (task["status"], task["attempts"]) == ("done", 2)
    finally:
        sup.stop()


def test_recovered_task_out_of_attempts_fails_instead_of_looping(tmp_path: Path) -> None:
    config = load_config(base_env(tmp_path, SUPERVISOR_MAX_ATTEMPTS="2"))
    queue = TaskQueue(config.db_path)
    stuck = queue.enqueue("alice", "sb-a", "kills the supervisor every time")
    queue.claim()
    queue.start_attempt(stuck.id)
    queue.start_attempt(stuck.id)
    queue.close()

    sup = Supervisor(config, poll_interval=0.05)
    try:
        sup.start()
        task = Http(f"http://127.0.0.1:{sup.port}", config.api_token).wait_status(
            stuck.id, "done", "failed"
        )
        assert (task["status"], task["attempts"]) == ("failed", 2)
        assert "attempt limit reached before this run" in task["error"]
    finally:
        sup.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_python_dash_m_supervisor_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        **base_env(tmp_path, SUPERVISOR_PORT=str(port)),
        "PYTHONPATH": str(SUPERVISOR_SRC),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "supervisor"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        api = Http(f"http://127.0.0.1:{port}", env["SUPERVISOR_API_TOKEN"])

        def healthy() -> bool:
            try:
                return api.get("/health")[0] == 200
            except OSError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                return False

        wait_until(healthy, "the supervisor process to answer /health")
        check = subprocess.run(
            [sys.executable, "-m", "supervisor.healthcheck"], env=env, timeout=30
        )
        assert check.returncode == 0
        assert api.wait_status(api.submit("via -m"), "done", "failed")["status"] == "done"
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    events = [json.loads(line).get("event") for line in out.splitlines()]
    assert events[0] == "started" and events[-1] == "stopped" and "done" in events
    assert (tmp_path / "logs" / "supervisor.log").read_text().count('"event": "stopped"') == 1
    down = subprocess.run(
        [sys.executable, "-m", "supervisor.healthcheck"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert down.returncode == 1 and "unhealthy" in down.stderr
