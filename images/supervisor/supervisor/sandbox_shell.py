"""Commands in a sandbox, over SSH on ai-net: the only way the supervisor touches one.

The supervisor logs in as the sandbox's user with the fleet's own client key and accepts only
the host key the fleet derived for that sandbox (known_hosts in the fleet's keys volume, looked
up under the sandbox's name): an impostor answering to the name on ai-net cannot pass, and there
is no trust on first use. Every command runs in the workspace, in a process group of its own
whose id is kept in the sandbox, so a timeout or a cancel kills all of it; its output (stdout
and stderr together) is capped. One master connection per sandbox carries the commands.

A kill can reach the sandbox before the command it is for has started (SSH is still logging
in): the two meet over a pair of files. The command writes its group id, then looks for a stop
file; the kill writes the stop file, then waits (bounded) for the group id. Whichever comes
second sees the other's file, so the command either never starts or is killed.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shlex
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import AgentError, TransientAgentError

SSH_UNREACHABLE = 255  # ssh's own exit status when it could not connect or log in
# The command's exit status travels after its output, so a command that exits 255 itself (an
# ssh inside the sandbox, say) is never taken for ssh failing to reach the sandbox.
EXIT_MARK = b"\n\x1esupervisor-exit:"
RUN_GROUP_FILE = "/tmp/.supervisor-run.pgid"  # in the sandbox: the running command's group
CONNECT_TIMEOUT_S = 10
KILL_WAIT_TENTHS = 50  # how long (0.1 s steps) a kill waits for its command to say its group


@dataclass(frozen=True)
class SshSettings:
    key_file: Path  # the fleet's client key (0600, written at startup)
    known_hosts: Path  # the sandboxes' host keys, one `NAME ssh-ed25519 ...` line each
    port: int
    workspace: str
    user: str = "dev"


@dataclass(frozen=True)
class Completed:
    exit_code: int
    output: str
    timed_out: bool = False
    truncated: bool = False


def cap_output(data: bytes, cap: int) -> tuple[str, bool]:
    text = data.decode("utf-8", errors="replace")
    if len(data) <= cap:
        return text, False
    half = cap // 2
    head = data[:half].decode("utf-8", errors="replace")
    tail = data[-half:].decode("utf-8", errors="replace")
    return f"{head}\n[... {len(data) - 2 * half} bytes of output left out ...]\n{tail}", True


class SandboxShell:
    group_file = RUN_GROUP_FILE

    def __init__(self, sandbox: str, ssh: SshSettings) -> None:
        self.sandbox = sandbox
        self.ssh = ssh
        self._running: tuple[subprocess.Popen[bytes], str] | None = None  # and its group file
        self._lock = threading.Lock()
        self._killed = threading.Event()  # the command in flight was stopped on purpose
        self._cancelled = False  # the task was cancelled: no command starts any more

    def argv(self, remote: str) -> list[str]:
        return self._ssh("--", remote)

    def _ssh(self, *rest: str) -> list[str]:
        s = self.ssh
        options = {
            "BatchMode": "yes",
            "IdentitiesOnly": "yes",
            "IdentityFile": str(s.key_file),
            "StrictHostKeyChecking": "yes",
            "UserKnownHostsFile": str(s.known_hosts),
            "GlobalKnownHostsFile": "/dev/null",
            "HostKeyAlias": self.sandbox,
            "ConnectTimeout": str(CONNECT_TIMEOUT_S),
            "ServerAliveInterval": "15",
            "ControlMaster": "auto",
            "ControlPath": "/tmp/supervisor-ssh-%C",
            "ControlPersist": "120",
            "LogLevel": "ERROR",
        }
        flags = [f"-o{k}={v}" for k, v in options.items()]
        return ["ssh", "-F", "/dev/null", *flags, "-p", str(s.port), "-l", s.user,
                self.sandbox, *rest]  # fmt: skip

    def run(
        self, script: str, *, timeout: float, cap: int, stdin: bytes | None = None
    ) -> Completed:
        """`script` in bash in the workspace. A timeout kills the command's whole group."""
        group_file = f"{self.group_file}.{secrets.token_hex(6)}"  # this command's own
        group, stop = shlex.quote(group_file), shlex.quote(f"{group_file}.stop")
        mark = EXIT_MARK.decode().replace("\x1e", "\\036").replace("\n", "\\n")
        wrapped = (
            f"echo $$ > {group}; if [ -e {stop} ]; then rm -f {group} {stop}; exit 137; fi; "
            f"bash -c {shlex.quote(script)}; rc=$?; rm -f {group}; printf '{mark}%s' $rc"
        )
        remote = (
            f"cd {shlex.quote(self.ssh.workspace)} && exec setsid --wait bash -c "
            f"{shlex.quote(wrapped)}"
        )
        with self._lock:
            if self._cancelled:
                return Completed(-1, "not started: the task was cancelled")
            self._killed.clear()
            proc = subprocess.Popen(
                self.argv(remote),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            self._running = (proc, group_file)
        try:
            out, _ = proc.communicate(stdin if stdin is not None else b"", timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill_running()
            out = _finish(proc)
            text, truncated = cap_output(out, cap)
            return Completed(-1, text, timed_out=True, truncated=truncated)
        finally:
            with self._lock:
                self._running = None
        body, _, code = out.rpartition(EXIT_MARK)
        if not code.isdigit():  # the wrapper never finished: killed, or ssh never got there
            if proc.returncode == SSH_UNREACHABLE and not self._killed.is_set():
                raise TransientAgentError(
                    f"sandbox {self.sandbox!r} unreachable over SSH on port {self.ssh.port}: "
                    f"{out.decode('utf-8', errors='replace').strip()[-500:]}"
                )
            body, code = out, str(proc.returncode).encode()
        text, truncated = cap_output(body, cap)
        return Completed(int(code), text, truncated=truncated)

    def check(self, script: str, *, timeout: float = 60, cap: int = 65536) -> str:
        """`script`'s output, or AgentError with it when it fails."""
        done = self.run(script, timeout=timeout, cap=cap)
        if done.exit_code != 0:
            raise AgentError(
                f"in sandbox {self.sandbox!r}: `{script[:120]}` "
                f"{'timed out' if done.timed_out else f'exited {done.exit_code}'}: "
                f"{done.output.strip()[-1000:]}"
            )
        return done.output

    @contextlib.contextmanager
    def forward(self, remote_port: int) -> Iterator[int]:
        """A port on the supervisor's loopback that leads to `remote_port` on the sandbox's own
        loopback, over SSH (a local forward), while the block runs."""
        local = _free_port()
        proc = subprocess.Popen(
            # A connection of its own (ssh takes the first value of an option: these win).
            ["ssh", "-N", "-o", "ExitOnForwardFailure=yes", "-o", "ControlPath=none",
             "-L", f"127.0.0.1:{local}:127.0.0.1:{remote_port}", *self._ssh()[1:]],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + CONNECT_TIMEOUT_S + 5
            while not _answers(local):
                if proc.poll() is not None or time.monotonic() > deadline:
                    said = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                    raise TransientAgentError(
                        f"no forward to port {remote_port} of sandbox {self.sandbox!r}: "
                        f"{said.strip()[-300:] or 'timed out'}"
                    )
                time.sleep(0.05)
            yield local
        finally:
            proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)

    def cancel(self) -> None:
        """The task was cancelled: kill the command in flight and start no other."""
        with self._lock:
            self._cancelled = True
        self.kill_running()

    def reopen_for_cleanup(self) -> None:
        """After a cancel: the fleet's own commands (setting the task's work aside) may run."""
        with self._lock:
            self._cancelled = False

    def kill_running(self) -> None:
        """Stop the command in flight: its process group in the sandbox, then the ssh client."""
        with self._lock:
            running = self._running
            self._killed.set()
        if running is None or running[0].poll() is not None:
            return
        proc, group_file = running
        group, stop = shlex.quote(group_file), shlex.quote(f"{group_file}.stop")
        kill = (
            f"touch {stop}; for i in $(seq {KILL_WAIT_TENTHS}); do "
            f"[ -s {group} ] || [ ! -e {stop} ] && break; sleep 0.1; done; "
            f"[ -s {group} ] && kill -KILL -- -$(cat {group}) 2>/dev/null; rm -f {group}; true"
        )
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(
                self.argv(kill),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=CONNECT_TIMEOUT_S + KILL_WAIT_TENTHS / 10 + 5,
            )
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 9)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _finish(proc: subprocess.Popen[bytes]) -> bytes:
    try:
        out, _ = proc.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out or b""
