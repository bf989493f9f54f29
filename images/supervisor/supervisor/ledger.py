"""Headquarters' record of every task of the fleet, in its own database beside its queue.

Headquarters numbers the tasks (AUTOINCREMENT: an id is never given twice, even to a task whose
append to the bus failed), then keeps each one as its host last reported it. A row is written
``sent = 0`` before the append and marked sent after it; one left unsent by a crash in between
is dropped at the next start (its client got no answer), and if the append did land, the host's
first report brings it back.
"""

from __future__ import annotations

import json
from typing import Any

from .queue import COLUMNS, TASK_COLUMNS, TaskQueue
from .task import STATUSES, Status

_FIELDS = f"{COLUMNS}, host"
_NAMES = [name.strip() for name in _FIELDS.split(",")]
# What a host's report changes; who asked what, and when, stay as headquarters recorded them.
_REPORTED = (
    "host, status, result, error, attempts, updated_at, commit_sha, files_changed, pushed,"
    " set_aside, prompt_tokens, completion_tokens"
)
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS fleet_tasks ({TASK_COLUMNS},
    host  TEXT    NOT NULL,
    steps TEXT    NOT NULL DEFAULT '[]',
    sent  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS fleet_tasks_status_id ON fleet_tasks (status, id);
CREATE INDEX IF NOT EXISTS fleet_tasks_updated ON fleet_tasks (updated_at);
"""


class BadReport(ValueError):
    """A status entry that is not a task as a host reports it."""


class Ledger:
    def __init__(self, queue: TaskQueue) -> None:
        self.db = queue  # the same database file and connection as the host's own queue
        self.db.script(_SCHEMA)

    def drop_unsent(self) -> int:
        return len(self.db.write("DELETE FROM fleet_tasks WHERE sent = 0 RETURNING id", ()))

    def record(self, host: str, sender: str, sandbox: str, prompt: str) -> dict[str, Any]:
        at = self.db.now()
        rows = self.db.write(
            "INSERT INTO fleet_tasks (host, sender, sandbox, prompt, status, created_at,"
            f" updated_at) VALUES (?, ?, ?, ?, 'queued', ?, ?) RETURNING {_FIELDS}",
            (host, sender, sandbox, prompt, at, at),
        )
        return _task(rows[0])

    def sent(self, task_id: int) -> None:
        self.db.write("UPDATE fleet_tasks SET sent = 1 WHERE id = ?", (task_id,))

    def forget(self, task_id: int) -> None:
        self.db.write("DELETE FROM fleet_tasks WHERE id = ?", (task_id,))

    def cancel_requested(self, task_id: int) -> None:
        self.db.write("UPDATE fleet_tasks SET cancel_requested = 1 WHERE id = ?", (task_id,))

    def apply(self, host: str, task: dict[str, Any]) -> None:
        """A host's report of one of its tasks: the row becomes what it says."""
        values = _reported(host, task)
        updates = ", ".join(f"{n.strip()} = excluded.{n.strip()}" for n in _REPORTED.split(","))
        self.db.write(
            f"INSERT INTO fleet_tasks ({_FIELDS}, steps, sent)"
            f" VALUES ({', '.join('?' * (len(_NAMES) + 1))}, 1) ON CONFLICT (id) DO UPDATE SET"
            f" {updates}, steps = excluded.steps, sent = 1,"
            " cancel_requested = max(cancel_requested, excluded.cancel_requested)",
            values,
        )

    def get(self, task_id: int) -> dict[str, Any] | None:
        rows = self.db.read(
            f"SELECT {_FIELDS}, steps FROM fleet_tasks WHERE id = ? AND sent = 1", (task_id,)
        )
        if not rows:
            return None
        return {**_task(rows[0][:-1]), "steps": json.loads(rows[0][-1])}

    def list_tasks(
        self, status: Status | None = None, sandbox: str | None = None, limit: int = 100,
        newest: bool = False,
    ) -> list[dict[str, Any]]:  # fmt: skip
        clauses, params = ["sent = 1"], []
        for column, value in (("status", status), ("sandbox", sandbox)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        order = "DESC" if newest else ""
        rows = self.db.read(
            f"SELECT {_FIELDS} FROM fleet_tasks WHERE {' AND '.join(clauses)}"
            f" ORDER BY id {order} LIMIT ?",
            (*params, limit),
        )
        return [_task(row) for row in rows]


def _task(row: tuple[Any, ...]) -> dict[str, Any]:
    task = dict(zip(_NAMES, row, strict=True))
    task["cancel_requested"] = bool(task["cancel_requested"])
    task["files_changed"] = json.loads(task["files_changed"])
    return task


def _reported(host: str, task: dict[str, Any]) -> tuple[Any, ...]:
    try:
        if task["status"] not in STATUSES:
            raise BadReport(f"status {task['status']!r} is not one of {', '.join(STATUSES)}")
        values = {
            **{name: task[name] for name in _NAMES if name != "host"},
            "host": host,
            "cancel_requested": int(bool(task["cancel_requested"])),
            "files_changed": json.dumps(list(task["files_changed"])),
        }
        values["id"] = int(task["id"])
        steps = json.dumps(task.get("steps", []), ensure_ascii=False)
    except (KeyError, TypeError, ValueError) as exc:
        raise BadReport(f"not a task report: {exc!r}") from None
    return (*(values[name] for name in _NAMES), steps)
