"""A cancel stops the sandbox's command even when it lands before the command has started (SSH
still logging in): the kill and the command meet over files in the sandbox. The sandbox is the
local stand-in (conftest.LocalShell, `bash` where `ssh` would be), with a login that takes a
while, so the cancel lands inside that window every time rather than by luck."""

from __future__ import annotations

import threading
from pathlib import Path

from supervisor.sandbox_shell import Completed, SshSettings

from .conftest import LocalShell, wait_until

LOGIN_S = 1.0  # the stand-in's SSH login: the cancel lands well inside it


class SlowLoginShell(LocalShell):
    """The first login (the command's) is slow; later ones (the kill's) ride the master
    connection it left up, as over real SSH."""

    logins = 0

    def argv(self, remote: str) -> list[str]:
        self.logins += 1
        login, *rest = super().argv(remote)
        delay = LOGIN_S if self.logins == 1 else 0
        return [login, *rest[:-1], f"sleep {delay}; {rest[-1]}"]


def slow_shell(tmp_path: Path) -> SlowLoginShell:
    workspace = tmp_path / "box"
    workspace.mkdir()
    ssh = SshSettings(tmp_path / "key", tmp_path / "known_hosts", 22, str(workspace))
    return SlowLoginShell("box", ssh, None, None)


def run_in_thread(shell: SlowLoginShell, script: str) -> tuple[threading.Thread, list[Completed]]:
    done: list[Completed] = []
    thread = threading.Thread(target=lambda: done.append(shell.run(script, timeout=60, cap=4096)))
    thread.start()
    return thread, done


def test_a_cancel_before_the_command_starts_keeps_it_from_starting(tmp_path: Path) -> None:
    shell = slow_shell(tmp_path)
    started = tmp_path / "started"
    thread, done = run_in_thread(shell, f"touch {started}; sleep 60")
    wait_until(lambda: shell._running is not None, "the ssh stand-in to be spawned")
    shell.cancel()
    thread.join(timeout=30)
    assert done and done[0].exit_code != 0, done
    assert not started.exists(), "the command ran after its task was cancelled"
    # And nothing else starts on that shell.
    after = shell.run(f"touch {started}", timeout=10, cap=4096)
    assert after.exit_code != 0 and "cancelled" in after.output
    assert not started.exists()


def test_a_kill_after_the_command_started_kills_its_whole_group(tmp_path: Path) -> None:
    shell = slow_shell(tmp_path)
    pids = tmp_path / "pids"
    thread, done = run_in_thread(shell, f"sleep 60 & echo $! > {pids}; sleep 61")
    wait_until(lambda: pids.exists() and pids.read_text().strip(), "the command to start")
    child = int(pids.read_text())
    shell.cancel()
    thread.join(timeout=30)
    assert done and done[0].exit_code != 0, done
    wait_until(lambda: not _alive(child), "the command's background child to be killed")


def _alive(pid: int) -> bool:
    """Running, or sleeping: not gone and not a zombie waiting for its reaper."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status
