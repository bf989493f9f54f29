"""The task record shared by the queue, the runtimes and the API."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["queued", "running", "done", "failed", "cancelled"]
STATUSES: tuple[Status, ...] = ("queued", "running", "done", "failed", "cancelled")
ENDED: tuple[Status, ...] = ("done", "failed", "cancelled")


@dataclass(frozen=True)
class Task:
    id: int
    sender: str
    sandbox: str
    prompt: str
    status: Status
    result: str | None  # the one-line summary of what was done
    error: str | None
    attempts: int
    created_at: str
    updated_at: str
    cancel_requested: bool = False
    commit_sha: str | None = None  # the commit on the sandbox's branch, when anything changed
    files_changed: tuple[str, ...] = field(default_factory=tuple)
    pushed: str | None = None  # what `git push` said, when the sandbox could push
    set_aside: str | None = None  # the stash holding a cancelled or failed task's changes
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["files_changed"] = list(self.files_changed)
        return data


@dataclass(frozen=True)
class Outcome:
    """What a finished run leaves on the task, besides its status."""

    summary: str | None = None
    error: str | None = None
    commit_sha: str | None = None
    files_changed: tuple[str, ...] = ()
    pushed: str | None = None
    set_aside: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
