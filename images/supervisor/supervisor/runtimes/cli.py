"""The cli runtime: a configured agent command (aider, opencode, ... installed in the sandbox's
image) run inside the task's sandbox over the supervisor's SSH channel, in the workspace, with
the task's prompt on stdin. The summary is the last line it prints; the supervisor commits what
it changed. SUPERVISOR_TASK_ID and SUPERVISOR_SENDER are set for it. A command that fails or
outlives the task's time is not retried: it may have done half of its work (set aside, never
committed)."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from ..errors import AgentError
from ..task import Task

if TYPE_CHECKING:
    from ..sandbox_shell import SandboxShell
    from ..session import TaskSession

OUTPUT_CAP = 65536


class CliRuntime:
    name = "cli"
    in_sandbox = True

    def __init__(self, command: str, timeout: float = 600.0) -> None:
        self.command = command
        self.timeout = timeout

    def initialize(self) -> None:
        try:
            argv = shlex.split(self.command)
        except ValueError as exc:
            raise AgentError(f"SUPERVISOR_CLI_COMMAND cannot be parsed: {exc}") from None
        if not argv:
            raise AgentError("SUPERVISOR_CLI_COMMAND is empty")

    def script(self, task: Task) -> str:
        return (
            f"export SUPERVISOR_TASK_ID={task.id} SUPERVISOR_SENDER={shlex.quote(task.sender)}\n"
            f"{self.command}"
        )

    def execute(self, task: Task, session: TaskSession, shell: SandboxShell | None) -> str:
        if shell is None:
            raise AgentError("the cli runtime works in a sandbox")
        session.next_step()
        timeout = min(self.timeout, session.remaining_seconds())
        done = shell.run(
            self.script(task), timeout=timeout, cap=OUTPUT_CAP, stdin=task.prompt.encode()
        )
        session.record("command", command=self.command, exit_code=done.exit_code,
                       output=done.output)  # fmt: skip
        session.check()
        if done.timed_out:
            raise AgentError(f"the agent command timed out after {timeout:g} s and was killed")
        if done.exit_code != 0:
            raise AgentError(
                f"the agent command exited {done.exit_code}: {done.output.strip()[-1000:]}"
            )
        lines = [line.strip() for line in done.output.splitlines() if line.strip()]
        return lines[-1][:500] if lines else "the agent command printed nothing"

    def terminate(self) -> None:
        pass
