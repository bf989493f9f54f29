"""A deterministic runtime for wiring tests: no model, no subprocess."""

from __future__ import annotations

import hashlib

from ..task import Task


class StubRuntime:
    name = "stub"

    def initialize(self) -> None:
        pass

    def execute(self, task: Task) -> str:
        digest = hashlib.sha256(task.prompt.encode("utf-8")).hexdigest()[:12]
        return f"stub: sandbox={task.sandbox} sender={task.sender} sha256={digest} {task.prompt}"

    def terminate(self) -> None:
        pass
