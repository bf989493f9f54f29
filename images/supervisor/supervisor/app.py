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

from . import __version__
from .api import ApiServer
from .backoff import Backoff
from .config import Config, ConfigError, load_config
from .logs import setup_logging
from .queue import TaskQueue
from .runtimes import AgentError, AgentRuntime, build_runtime
from .sandbox_shell import SandboxShell, SshSettings
from .session import Budget
from .transcript import Transcript
from .worker import RunSettings, ShellFactory, WorkerPool

log = logging.getLogger("supervisor.app")

# Docker's default stop grace period is 10 s: leave room to close the database cleanly.
SHUTDOWN_WAIT_SECONDS = 7.0


class Supervisor:
    """The running service; ``start`` returns once the API is listening."""

    def __init__(
        self,
        config: Config,
        runtime: AgentRuntime | None = None,
        rng: random.Random | None = None,
        poll_interval: float = 1.0,
        shell: ShellFactory = SandboxShell,
    ) -> None:
        self.config = config
        self.runtime = runtime if runtime is not None else build_runtime(config)
        self.runtime.initialize()
        self.queue = TaskQueue(config.db_path)
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
        self.server = ApiServer(
            (config.host, config.port), self.queue, self.pool, self.runtime.name, config.api_token
        )
        self._serving: threading.Thread | None = None
        self._stopped = False
        self._poll_interval = poll_interval

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def start(self) -> None:
        self.pool.start()
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
        self.pool.stop(timeout)
        self.runtime.terminate()
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
