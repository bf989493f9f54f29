"""Wiring: configuration -> logging -> runtime -> queue -> workers -> HTTP server."""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import sys
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from types import FrameType
from typing import Any

from . import __version__
from .api import ApiServer
from .backoff import Backoff
from .books import FleetBook, LocalBook
from .bus import Bus
from .bus_queue import BusQueue
from .config import Config, ConfigError, load_config
from .headquarters import Headquarters
from .ledger import Ledger
from .logs import setup_logging
from .member import Member
from .queue import Clock, TaskQueue, utc_now
from .runtimes import AgentError, AgentRuntime, build_runtime
from .sandbox_shell import SandboxShell, SshSettings
from .session import Budget
from .transcript import Transcript
from .views import Views
from .worker import RunSettings, ShellFactory, WorkerPool

log = logging.getLogger("supervisor.app")

# Docker's default stop grace period is 10 s: leave room to close the database cleanly.
SHUTDOWN_WAIT_SECONDS = 7.0
BUS_STOP_SECONDS = 1.5  # a blocking read of the bus returns within a second


class Supervisor:
    """The running service; ``start`` returns once the API is listening."""

    def __init__(
        self,
        config: Config,
        runtime: AgentRuntime | None = None,
        rng: random.Random | None = None,
        poll_interval: float = 1.0,
        shell: ShellFactory = SandboxShell,
        clock: Clock = utc_now,
    ) -> None:
        self.config = config
        fleet = config.fleet
        self.runtime = runtime if runtime is not None else build_runtime(config)
        self.runtime.initialize()
        self.queue = (BusQueue if fleet.on_bus else TaskQueue)(config.db_path, clock)
        self.recovered = self.queue.recover()
        backoff = Backoff(
            config.backoff_base,
            config.backoff_cap,
            rng if rng is not None else random.Random(config.backoff_seed),
        )
        self.pool = WorkerPool(
            self.queue,
            self.runtime,
            backoff,
            config.max_attempts,
            run_settings(config, self.runtime, shell),
            Transcript(self.queue, config.log_dir),
            workers=config.workers,
            poll_interval=poll_interval,
        )
        self.bus = Bus(fleet.bus_url, fleet.bus_password) if fleet.on_bus else None
        self.member: Member | None = None
        self.hq: Headquarters | None = None
        if self.bus is not None:
            assert isinstance(self.queue, BusQueue)
            self.member = Member(
                self.bus, self.queue, self.pool, fleet, self.runtime.name, poll_interval
            )
        if self.bus is not None and fleet.role == "headquarters":
            self.hq = Headquarters(self.bus, Ledger(self.queue), fleet)
        book = FleetBook(self.hq) if self.hq else LocalBook(self.queue, self.pool, fleet)
        views = Views(fleet, self.runtime.name, self.queue, clock, self.hq)
        self.server = ApiServer(
            (config.host, config.port), book, views, self.health, config.api_token
        )
        self._serving: threading.Thread | None = None
        self._stopped = False
        self._poll_interval = poll_interval

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def health(self) -> dict[str, Any]:
        """GET /health: 200 when the queue, every thread and the bus (if any) work."""
        fleet, pool = self.config.fleet, self.pool
        payload: dict[str, Any] = {
            "status": "ok",
            "runtime": self.runtime.name,
            "workers": pool.alive(),
            "host": fleet.host_name,
            "role": fleet.role,
            "capabilities": list(fleet.capabilities),
        }
        problems = []
        try:
            self.queue.ping()
        except Exception as exc:
            problems.append(f"queue database: {exc}")
        if pool.alive() < pool.size:
            problems.append(f"{pool.size - pool.alive()} worker thread(s) stopped")
        if self.bus is not None:
            payload["bus"] = bus = self.bus.health()
            if bus["state"] != "connected":
                problems.append(f"bus {bus['state']}: {bus['error'] or 'no answer yet'}")
        halves = (self.member, self.hq) if self._serving is not None else ()
        if any(half is not None and not half.alive() for half in halves):
            problems.append("a bus thread stopped")
        if problems:
            payload.update(status="unhealthy", reason="; ".join(problems))
        return payload

    def start(self) -> None:
        self.pool.start()
        for half in (self.member, self.hq):
            if half is not None:
                half.start()
        self._serving = threading.Thread(
            target=self.server.serve_forever,
            name="http",
            args=(min(self._poll_interval, 0.5),),
            daemon=True,
        )
        self._serving.start()
        log.info(
            "supervisor started",
            extra={
                "fields": {
                    "event": "started",
                    "version": __version__,
                    "runtime": self.runtime.name,
                    "host": self.config.host,
                    "port": self.port,
                    "db": str(self.config.db_path),
                    "workers": self.config.workers,
                    "recovered_tasks": self.recovered,
                    "fleet_host": self.config.fleet.host_name,
                    "role": self.config.fleet.role,
                }
            },
        )

    def wait(self) -> None:
        if self._serving is not None:
            self._serving.join()

    def stop(self, timeout: float = SHUTDOWN_WAIT_SECONDS) -> None:
        if self._stopped:
            return
        self._stopped = True
        if self._serving is not None:
            self.server.shutdown()
        self.server.server_close()
        for half in (self.member, self.hq):
            if half is not None:  # what one was handling stays pending on the bus: no wait
                half.stop(BUS_STOP_SECONDS)
        self.pool.stop(timeout)
        self.runtime.terminate()
        if self.bus is not None:
            self.bus.client.close()
        self.queue.close()
        log.info("supervisor stopped", extra={"fields": {"event": "stopped"}})


def run_settings(
    config: Config, runtime: AgentRuntime, shell: ShellFactory = SandboxShell
) -> RunSettings:
    budget = Budget(config.max_steps, config.max_task_tokens, config.max_seconds)
    if not runtime.in_sandbox:
        return RunSettings(budget, None, config.git_author_suffix, shell)
    ssh = SshSettings(
        key_file=_key_file(config.ssh_key),
        known_hosts=config.known_hosts,
        port=config.sandbox_ssh_port,
        workspace=config.sandbox_workspace,
    )
    return RunSettings(budget, ssh, config.git_author_suffix, shell)


def _key_file(private_key: str) -> Path:
    """ssh reads its key from a file only it may read: one in a private temporary directory."""
    directory = Path(tempfile.mkdtemp(prefix="supervisor-ssh-"))
    path = directory / "id_ed25519"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(private_key.strip() + "\n")
    return path


def main(env: Mapping[str, str] | None = None) -> int:
    try:
        config = load_config(env)
    except ConfigError as exc:
        print(
            json.dumps({"level": "error", "msg": f"invalid configuration: {exc}"}), file=sys.stderr
        )
        return 2
    setup_logging(config.log_dir, config.log_level)
    try:
        supervisor = Supervisor(config)
    except AgentError as exc:
        log.error(
            f"runtime {config.runtime!r} failed to initialize: {exc}",
            extra={"fields": {"event": "startup_failed"}},
        )
        return 2
    except OSError as exc:
        log.error(f"cannot start: {exc}", extra={"fields": {"event": "startup_failed"}})
        return 1

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info(
            "signal received, stopping",
            extra={"fields": {"event": "signal", "signal": signal.Signals(signum).name}},
        )
        # shutdown() blocks until serve_forever returns, so it cannot run on the serving thread.
        threading.Thread(target=supervisor.server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    supervisor.start()
    supervisor.wait()
    supervisor.stop()
    return 0
