"""Shared fixtures for the supervisor tests: import path, a running in-process supervisor,
an HTTP helper and a bounded wait."""

from __future__ import annotations

import contextlib
import json
import logging
import random
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

SUPERVISOR_SRC = Path(__file__).resolve().parents[3] / "images" / "supervisor"
if str(SUPERVISOR_SRC) not in sys.path:
    sys.path.insert(0, str(SUPERVISOR_SRC))

from supervisor.app import Supervisor  # noqa: E402
from supervisor.config import load_config  # noqa: E402
from supervisor.queue import Clock, utc_now  # noqa: E402
from supervisor.runtimes import AgentRuntime  # noqa: E402
from supervisor.sandbox_shell import SandboxShell, SshSettings  # noqa: E402

from .redis_server import RedisServer  # noqa: E402

if TYPE_CHECKING:
    from .bus_fleet import TwoHosts

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
        "SUPERVISOR_SANDBOX_SSH_PORT": "2222",
        "SUPERVISOR_SANDBOX_WORKSPACE": "/workspace",
        "SUPERVISOR_KNOWN_HOSTS": str(tmp_path / "known_hosts"),
        "SUPERVISOR_SANDBOX_DEVTOOLS_PORT": "9222",
        # One memory for every stand-in sandbox, as if they were all of one repository.
        "SUPERVISOR_SANDBOX_MEMORY": str(tmp_path / "memory"),
    }
    env.update(overrides)
    return env


class LocalSandboxes:
    """Stand-ins for sandboxes: one directory each, holding a git repository on the sandbox's
    branch. Their shells are the supervisor's own SandboxShell with `bash` where it would run
    `ssh ... SANDBOX`, so every script the supervisor sends runs as written, in the directory
    (the SSH path itself is tested on a real engine: tests/e2e/test_agents_real_engine.py)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root.parent / "memory").mkdir(parents=True, exist_ok=True)
        self.tokens: dict[str, str] = {}  # sandbox -> the secret its repo_token names
        self.desktops: dict[str, int] = {}  # a visual sandbox -> its Chromium's DevTools port

    def workspace(self, sandbox: str) -> Path:
        path = self.root / sandbox
        if not path.exists():
            git = ["git", "-C", str(path)]
            path.mkdir(parents=True)
            subprocess.run([*git, "init", "-q", "-b", sandbox], check=True)
            subprocess.run([*git, "config", "user.name", f"sandbox {sandbox}"], check=True)
            subprocess.run([*git, "config", "user.email", f"{sandbox}@sandbox.invalid"],
                           check=True)  # fmt: skip
            (path / "README.md").write_text(f"# {sandbox}\n")
            subprocess.run([*git, "add", "README.md"], check=True)
            subprocess.run([*git, "commit", "-q", "-m", "start"], check=True)
        return path

    def shell(self, sandbox: str, ssh: SshSettings) -> SandboxShell:
        local = SshSettings(ssh.key_file, ssh.known_hosts, ssh.port, str(self.workspace(sandbox)))
        return LocalShell(sandbox, local, self.tokens.get(sandbox), self.desktops.get(sandbox))

    def git(self, sandbox: str, *args: str) -> str:
        path = self.workspace(sandbox)
        return subprocess.run(["git", "-C", str(path), *args], check=True, capture_output=True,
                              text=True).stdout  # fmt: skip


class LocalShell(SandboxShell):
    def __init__(
        self, sandbox: str, ssh: SshSettings, token_var: str | None, devtools: int | None
    ) -> None:
        super().__init__(sandbox, ssh)
        self.group_file = str(Path(ssh.workspace).parent / f".{sandbox}.pgid")
        self.token_var = token_var  # what the sandbox's SANDBOX_GIT_TOKEN_VAR would say
        self.devtools = devtools  # where its "desktop" Chromium listens, when it is visual

    def argv(self, remote: str) -> list[str]:
        env = [f"SANDBOX_GIT_TOKEN_VAR={self.token_var}"] if self.token_var else []
        env += ["SANDBOX_MODE=visual"] if self.devtools else []
        return ["env", "-u", "SANDBOX_GIT_TOKEN_VAR", "-u", "SANDBOX_MODE", *env, "bash", "-c",
                remote]  # fmt: skip

    @contextlib.contextmanager
    def forward(self, remote_port: int) -> Iterator[int]:
        assert self.devtools is not None, f"{self.sandbox} has no desktop"
        yield self.devtools  # no SSH here: the stand-in's browser is on this loopback


@pytest.fixture
def sandboxes(tmp_path: Path) -> LocalSandboxes:
    return LocalSandboxes(tmp_path / "sandboxes")


FAKE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot used by the local shells\n" \
    "-----END OPENSSH PRIVATE KEY-----"  # fmt: skip

StartSupervisor = Callable[..., tuple[Supervisor, Http]]


@pytest.fixture
def start_supervisor(tmp_path: Path, sandboxes: LocalSandboxes) -> Iterator[StartSupervisor]:
    """Start a real supervisor on 127.0.0.1:<ephemeral>; env overrides as keyword args. Its
    in-sandbox runtimes work in `sandboxes`."""
    started: list[Supervisor] = []

    def start(
        runtime: AgentRuntime | None = None,
        rng: random.Random | None = None,
        clock: Clock = utc_now,
        **env: str,
    ) -> tuple[Supervisor, Http]:
        config = load_config(base_env(tmp_path, SUPERVISOR_SSH_KEY=FAKE_KEY, **env))
        sup = Supervisor(
            config, runtime=runtime, rng=rng, poll_interval=0.05, shell=sandboxes.shell,
            clock=clock,
        )  # fmt: skip
        started.append(sup)
        sup.start()
        return sup, Http(f"http://127.0.0.1:{sup.port}", config.api_token)

    yield start
    for sup in started:
        sup.stop(timeout=5)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A real redis-server of this test alone (free loopback port, password, AOF)."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def hosts(start_supervisor: StartSupervisor, redis_server: RedisServer, tmp_path: Path) -> TwoHosts:
    """Headquarters `hq` and member `desk` on `redis_server` (bus_fleet.py)."""
    from .bus_fleet import TwoHosts

    return TwoHosts(start_supervisor, redis_server, tmp_path)


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
