"""Run a configured command per task: prompt on stdin, result from stdout.

The command is parsed with shlex and executed without a shell, so a task's text never reaches a
shell. ``{sandbox}`` in any argument is replaced by the task's sandbox name (which the API has
already restricted to a container-name alphabet). Failures here are not retried: a command that
timed out or exited non-zero would most likely do so again, and it may have side effects.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import threading

from ..task import Task
from .base import AgentError

SANDBOX_PLACEHOLDER = "{sandbox}"
_TAIL_CHARS = 2000
# Environment the child must not see: the token that guards the supervisor's own API.
_HIDDEN_ENV = ("SUPERVISOR_API_TOKEN",)


def _tail(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace").strip()
    return text[-_TAIL_CHARS:] if text else "(no stderr)"


class CliRuntime:
    name = "cli"

    def __init__(self, command: str, timeout: float = 600.0) -> None:
        self.command = command
        self.timeout = timeout
        self._argv: list[str] = []
        self._running: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()

    def initialize(self) -> None:
        try:
            argv = shlex.split(self.command)
        except ValueError as exc:
            raise AgentError(f"SUPERVISOR_CLI_COMMAND cannot be parsed: {exc}") from None
        if not argv:
            raise AgentError("SUPERVISOR_CLI_COMMAND is empty")
        if SANDBOX_PLACEHOLDER in argv[0]:
            raise AgentError("SUPERVISOR_CLI_COMMAND: the program itself cannot be {sandbox}")
        if shutil.which(argv[0]) is None:
            raise AgentError(
                f"SUPERVISOR_CLI_COMMAND: program {argv[0]!r} is not on PATH or not executable"
            )
        self._argv = argv

    def argv_for(self, task: Task) -> list[str]:
        return [arg.replace(SANDBOX_PLACEHOLDER, task.sandbox) for arg in self._argv]

    def _env(self, task: Task) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _HIDDEN_ENV}
        env.update(
            SUPERVISOR_TASK_ID=str(task.id),
            SUPERVISOR_SANDBOX=task.sandbox,
            SUPERVISOR_SENDER=task.sender,
        )
        return env

    def execute(self, task: Task) -> str:
        if not self._argv:
            raise AgentError("cli runtime used before initialize()")
        argv = self.argv_for(task)
        # A new session gives the command its own process group, so a timeout kills its children.
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self._env(task),
            start_new_session=True,
        )
        with self._lock:
            self._running.add(proc)
        try:
            out, err = proc.communicate(task.prompt.encode("utf-8"), timeout=self.timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            err = _drain_stderr(proc)
            raise AgentError(
                f"command {argv[0]!r} timed out after {self.timeout:g}s and was killed; "
                f"stderr tail: {_tail(err)}"
            ) from None
        finally:
            with self._lock:
                self._running.discard(proc)
        if proc.returncode != 0:
            how = (
                f"was killed by signal {-proc.returncode}"
                if proc.returncode < 0
                else f"exited with status {proc.returncode}"
            )
            raise AgentError(f"command {argv[0]!r} {how}; stderr tail: {_tail(err)}")
        return out.decode("utf-8", errors="replace")

    def terminate(self) -> None:
        with self._lock:
            running = list(self._running)
        for proc in running:
            _kill_group(proc)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def _drain_stderr(proc: subprocess.Popen[bytes]) -> bytes:
    # A grandchild that left the group could keep the pipes open: do not wait on it forever.
    try:
        _, err = proc.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        for pipe in (proc.stdin, proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        return b""
    return err
