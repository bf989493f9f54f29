"""A deterministic runtime for wiring tests: no model, no sandbox."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from ..task import Task

if TYPE_CHECKING:
    from ..sandbox_shell import SandboxShell
    from ..session import TaskSession


class StubRuntime:
    name = "stub"
    in_sandbox = False

    def initialize(self) -> None:
        pass

    def execute(self, task: Task, session: TaskSession, shell: SandboxShell | None) -> str:
        session.next_step()
        digest = hashlib.sha256(task.prompt.encode("utf-8")).hexdigest()[:12]
        return f"stub: sandbox={task.sandbox} sender={task.sender} sha256={digest} {task.prompt}"

    def terminate(self) -> None:
        pass
