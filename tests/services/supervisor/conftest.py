"""Shared fixtures for the supervisor tests: import path, a running in-process supervisor,
an HTTP helper and a bounded wait."""

from __future__ import annotations

import json
import logging
import random
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

SUPERVISOR_SRC = Path(__file__).resolve().parents[3] / "images" / "supervisor"
if str(SUPERVISOR_SRC) not in sys.path:
    sys.path.insert(0, str(SUPERVISOR_SRC))

from supervisor.app import Supervisor  # noqa: E402
from supervisor.config import load_config  # noqa: E402
from supervisor.runtimes import AgentRuntime  # noqa: E402

WAIT_SECONDS = 20.0  # safety bound for polling loops, never an assertion on speed


def wait_until(predicate: Callable[[], Any], what: str, timeout: float = WAIT_SECONDS) -> Any:
    """Poll ``predicate`` until truthy (returning its value) or fail naming ``what``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}; last value: {last!r}")


class Http:
    """Tiny JSON client: returns (status, headers, body) and never raises on 4xx/5xx."""

    def __init__(self, base: str, token: str = "") -> None:
        self.base = base
        self.token = token

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        hdrs = {"Content-Type": "application/json"} if data is not None else {}
        if self.token:
            hdrs["Authorization"] = f"Bearer {self.token}"
        hdrs.update(headers or {})
        req = urllib.request.Request(self.base + path, data=data, headers=hdrs, method=method)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                status, rheaders, payload = resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as exc:
            status, rheaders, payload = exc.code, dict(exc.headers), exc.read()
        return status, rheaders, json.loads(payload) if payload else None

    def get(self, path: str) -> tuple[int, dict[str, str], Any]:
        return self.request("GET", path)

    def post(self, path: str, body: Any) -> tuple[int, dict[str, str], Any]:
        return self.request("POST", path, body)

    def submit(self, prompt: str, sandbox: str = "sb-1", sender: str = "tester") -> int:
        status, _, task = self.post(
            "/tasks", {"sender": sender, "sandbox": sandbox, "prompt": prompt}
        )
        assert status == 201, task
        return int(task["id"])

    def wait_status(self, task_id: int, *statuses: str) -> dict[str, Any]:
        def reached() -> dict[str, Any] | None:
            _, _, task = self.get(f"/tasks/{task_id}")
            return task if task["status"] in statuses else None

        result: dict[str, Any] = wait_until(reached, f"task {task_id} to reach {statuses}")
        return result


def base_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {
        "SUPERVISOR_RUNTIME": "stub",
        "SUPERVISOR_HOST": "127.0.0.1",
        "SUPERVISOR_PORT": "0",
        "SUPERVISOR_LOG_DIR": str(tmp_path / "logs"),
        "SUPERVISOR_BACKOFF_BASE": "0.01",
        "SUPERVISOR_BACKOFF_CAP": "0.05",
        "SUPERVISOR_BACKOFF_SEED": "7",
        "SUPERVISOR_API_TOKEN": "test-token",
    }
    env.update(overrides)
    return env


StartSupervisor = Callable[..., tuple[Supervisor, Http]]


@pytest.fixture
def start_supervisor(tmp_path: Path) -> Iterator[StartSupervisor]:
    """Start a real supervisor on 127.0.0.1:<ephemeral>; env overrides as keyword args."""
    started: list[Supervisor] = []

    def start(
        runtime: AgentRuntime | None = None, rng: random.Random | None = None, **env: str
    ) -> tuple[Supervisor, Http]:
        config = load_config(base_env(tmp_path, **env))
        sup = Supervisor(config, runtime=runtime, rng=rng, poll_interval=0.05)
        started.append(sup)
        sup.start()
        return sup, Http(f"http://127.0.0.1:{sup.port}", config.api_token)

    yield start
    for sup in started:
        sup.stop(timeout=5)


@pytest.fixture
def captured_logs() -> Iterator[list[logging.LogRecord]]:
    """Records emitted under the ``supervisor`` logger during the test."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("supervisor")
    handler, old_level = Keep(level=logging.DEBUG), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield records
    logger.removeHandler(handler)
    logger.setLevel(old_level)
