"""Two hosts on one bus, in process: headquarters `hq` and member `desk`, each a real supervisor
with its own database and log directory, both on a real redis-server (redis_server.py)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from supervisor.app import Supervisor
from supervisor.config import load_config
from supervisor.runtimes import StubRuntime
from supervisor.sandbox_shell import SandboxShell
from supervisor.session import TaskSession
from supervisor.task import Task

from .conftest import FAKE_KEY, Http, StartSupervisor, base_env
from .redis_server import RedisServer

FLEET = {"hq-box": "hq", "desk-box": "desk", "desk-ui": "desk"}
CAPABILITIES = {"hq": "headless,model", "desk": "visual,headless,gpu"}
ROLES = {"hq": "headquarters", "desk": "member"}


def host_env(tmp_path: Path, redis: RedisServer, host: str, **extra: str) -> dict[str, str]:
    return {
        "SUPERVISOR_ROLE": ROLES[host],
        "SUPERVISOR_HOST_NAME": host,
        "SUPERVISOR_HOST_CAPABILITIES": CAPABILITIES[host],
        "SUPERVISOR_FLEET_SANDBOXES": json.dumps(FLEET),
        "SUPERVISOR_BUS_URL": redis.url,
        "SUPERVISOR_BUS_PASSWORD": redis.password,
        "SUPERVISOR_LOG_DIR": str(tmp_path / host),
        **extra,
    }


class Spender(StubRuntime):
    """Says which host ran the task, records one step with a long output and spends tokens."""

    def __init__(self, host: str, prompt_tokens: int = 100, completion_tokens: int = 20) -> None:
        self.host = host
        self.tokens = (prompt_tokens, completion_tokens)

    def execute(self, task: Task, session: TaskSession, shell: SandboxShell | None) -> str:
        session.next_step()
        session.record("tool", name="run_command", output="line\n" * 200)
        session.spend(*self.tokens)
        return f"ran on {self.host}: {task.prompt}"


class Gate(Spender):
    """Runs until released (or cancelled)."""

    def __init__(self, host: str) -> None:
        super().__init__(host)
        self.release = threading.Event()

    def execute(self, task: Task, session: TaskSession, shell: SandboxShell | None) -> str:
        session.record("waiting", note="for the gate")
        while not self.release.is_set():
            session.pause(0.02)
        return super().execute(task, session, shell)


class FakeClock:
    """The time the supervisors see: set by the test, never today's date."""

    def __init__(self, start: datetime = datetime(2031, 3, 4, 10, 30, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, hours: float) -> None:
        self.now += timedelta(hours=hours)


class TwoHosts:
    def __init__(self, start: StartSupervisor, redis: RedisServer, tmp_path: Path) -> None:
        self._start = start
        self.redis = redis
        self.tmp_path = tmp_path

    def start(self, host: str, runtime: Any = None, **extra: Any) -> tuple[Supervisor, Http]:
        clock = extra.pop("clock", None)
        env = host_env(self.tmp_path, self.redis, host, **extra)
        more = {"clock": clock} if clock is not None else {}
        return self._start(runtime=runtime or Spender(host), **more, **env)

    def unstarted(self, host: str, **extra: str) -> Supervisor:
        """A supervisor built but not started: the test drives its bus side by hand."""
        env = base_env(self.tmp_path, SUPERVISOR_SSH_KEY=FAKE_KEY,
                       **host_env(self.tmp_path, self.redis, host, **extra))  # fmt: skip
        return Supervisor(load_config(env), runtime=Spender(host), poll_interval=0.05)
