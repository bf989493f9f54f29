"""Where each task's steps go: the queue database (GET /tasks/<id>) and, one JSON line per step,
`tasks/<id>.jsonl` in the supervisor's log directory on the logs volume."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from .queue import TaskQueue
from .session import transcript_line


class Transcript:
    def __init__(self, queue: TaskQueue, log_dir: Path) -> None:
        self.queue = queue
        self.directory = log_dir / "tasks"
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def path(self, task_id: int) -> Path:
        return self.directory / f"{task_id}.jsonl"

    def record(self, task_id: int, kind: str, content: dict[str, Any]) -> None:
        seq, at = self.queue.add_step(task_id, kind, content)
        line = transcript_line(task_id, seq, kind, content, at)
        with self._lock, self.path(task_id).open("a", encoding="utf-8") as out:
            out.write(line + "\n")
