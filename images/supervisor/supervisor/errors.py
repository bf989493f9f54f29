"""The two ways a run can go wrong, shared by the runtimes and what they use."""

from __future__ import annotations

from .task import Outcome


class AgentError(Exception):
    """The task cannot succeed as asked: it is marked failed without a retry."""

    outcome: Outcome | None = None  # what the run left (its changes set aside), once known


class TransientAgentError(AgentError):
    """The backend is away (refused, timed out, 5xx): the same task may succeed later."""
