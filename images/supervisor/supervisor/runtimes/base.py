"""The AgentRuntime interface (and, re-exported, the two ways a run can go wrong)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ..errors import AgentError, TransientAgentError
from ..task import Task

__all__ = ["AgentError", "AgentRuntime", "TransientAgentError"]

if TYPE_CHECKING:
    from ..sandbox_shell import SandboxShell
    from ..session import TaskSession


@runtime_checkable
class AgentRuntime(Protocol):
    """One way of doing a task; shared by all worker threads."""

    name: str
    in_sandbox: bool
    """It works in the task's sandbox (over SSH): the supervisor then commits what changed."""

    def initialize(self) -> None:
        """Check configuration and prepare; raise AgentError to stop startup."""

    def execute(self, task: Task, session: TaskSession, shell: SandboxShell | None) -> str:
        """Do the task and return a one-line summary; raise AgentError / TransientAgentError.
        `shell` is the task's sandbox when `in_sandbox`, else None."""

    def terminate(self) -> None:
        """Release resources and stop work in flight; called once at shutdown."""
