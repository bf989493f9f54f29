"""The AgentRuntime interface and the two ways a run can go wrong."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ..task import Task


class AgentError(Exception):
    """The task cannot succeed as asked: it is marked failed without a retry."""


class TransientAgentError(AgentError):
    """The backend is away (refused, timed out, 5xx): the same task may succeed later."""


@runtime_checkable
class AgentRuntime(Protocol):
    """One way of turning a task's prompt into a result; shared by all worker threads."""

    name: str

    def initialize(self) -> None:
        """Check configuration and prepare; raise AgentError to stop startup."""

    def execute(self, task: Task) -> str:
        """Run one task and return its result text; raise AgentError / TransientAgentError."""

    def terminate(self) -> None:
        """Release resources and stop work in flight; called once at shutdown."""
