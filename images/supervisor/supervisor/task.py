"""The task record shared by the queue, the runtimes and the API."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Status = Literal["queued", "running", "done", "failed"]
STATUSES: tuple[Status, ...] = ("queued", "running", "done", "failed")


@dataclass(frozen=True)
class Task:
    id: int
    sender: str
    sandbox: str
    prompt: str
    status: Status
    result: str | None
    error: str | None
    attempts: int
    created_at: str
    updated_at: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
