"""The local queue of a host on the bus: tasks taken from its stream, and what to report back.

A task from the bus keeps its fleet-wide id (headquarters') in ``fleet_id``, unique: taking an
entry that was delivered twice (Redis redelivers what was not acknowledged) queues nothing new.
Its own id stays local, so a database that ran tasks before this host joined a fleet keeps them
without a clash.

Every change of such a task (its row, a new step of its transcript) bumps its version in
``outbox``, by triggers, in the same transaction as the change. The reporter publishes the
task as it then is and deletes the row only if no change came in meanwhile: a change is never
lost, whatever the bus or the process did in between.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .queue import COLUMNS, Clock, TaskQueue, _task, utc_now
from .task import Task

_BUMP = (
    "INSERT INTO outbox (task_id, version) VALUES ({id}, 1) "
    "ON CONFLICT (task_id) DO UPDATE SET version = version + 1;"
)
_SCHEMA = f"""
CREATE UNIQUE INDEX IF NOT EXISTS tasks_fleet_id ON tasks (fleet_id);
CREATE TABLE IF NOT EXISTS outbox (
    task_id INTEGER PRIMARY KEY REFERENCES tasks (id),
    version INTEGER NOT NULL
);
CREATE TRIGGER IF NOT EXISTS outbox_task_added AFTER INSERT ON tasks
    WHEN NEW.fleet_id IS NOT NULL BEGIN {_BUMP.format(id="NEW.id")} END;
CREATE TRIGGER IF NOT EXISTS outbox_task_changed AFTER UPDATE ON tasks
    WHEN NEW.fleet_id IS NOT NULL BEGIN {_BUMP.format(id="NEW.id")} END;
CREATE TRIGGER IF NOT EXISTS outbox_step_added AFTER INSERT ON steps
    WHEN (SELECT fleet_id FROM tasks WHERE id = NEW.task_id) IS NOT NULL
    BEGIN {_BUMP.format(id="NEW.task_id")} END;
"""


class BusQueue(TaskQueue):
    def __init__(self, path: Path, clock: Clock = utc_now) -> None:
        super().__init__(path, clock)
        if "fleet_id" not in {row[1] for row in self.read("PRAGMA table_info(tasks)")}:
            self.script("ALTER TABLE tasks ADD COLUMN fleet_id INTEGER;")
        self.script(_SCHEMA)

    def take(
        self, fleet_id: int, sender: str, sandbox: str, prompt: str, refused: str | None = None
    ) -> Task | None:
        """Queue a task of the bus (or record it failed with ``refused``); None when this
        fleet id was taken before."""
        at = self.now()
        status = "queued" if refused is None else "failed"
        rows = self.write(
            "INSERT INTO tasks (sender, sandbox, prompt, status, error, attempts, created_at,"
            " updated_at, fleet_id) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)"
            f" ON CONFLICT (fleet_id) DO NOTHING RETURNING {COLUMNS}",
            (sender, sandbox, prompt, status, refused, at, at, fleet_id),
        )
        return _task(rows[0]) if rows else None

    def local_id(self, fleet_id: int) -> int | None:
        rows = self.read("SELECT id FROM tasks WHERE fleet_id = ?", (fleet_id,))
        return int(rows[0][0]) if rows else None

    def changed(self, limit: int = 64) -> list[tuple[int, int, int]]:
        """(task id, fleet id, version) of tasks changed since they were last reported."""
        rows = self.read(
            "SELECT o.task_id, t.fleet_id, o.version FROM outbox AS o"
            " JOIN tasks AS t ON t.id = o.task_id ORDER BY o.task_id LIMIT ?",
            (limit,),
        )
        return [(int(a), int(b), int(c)) for a, b, c in rows]

    def reported(self, task_id: int, version: int) -> None:
        """The task was reported as it was at ``version``; a later change stays to report."""
        self.write("DELETE FROM outbox WHERE task_id = ? AND version = ?", (task_id, version))

    def report(self, task_id: int, fleet_id: int) -> dict[str, Any] | None:
        """The task as headquarters shows it: its fleet id, and its transcript in short."""
        task = self.get(task_id)
        if task is None:
            return None
        return {**task.to_json(), "id": fleet_id, "steps": summary(self.steps(task_id))}


SUMMARY_STEPS = 40  # the latest steps headquarters keeps of a transcript
SUMMARY_TEXT = 400  # characters of each text field of a step


def summary(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A transcript in short: its latest steps, each text cut (the whole one stays on its host,
    GET /tasks/<local id> there and tasks/<local id>.jsonl on its logs volume)."""
    return [{k: _short(v) for k, v in step.items()} for step in steps[-SUMMARY_STEPS:]]


def _short(value: Any) -> Any:
    if isinstance(value, str) and len(value) > SUMMARY_TEXT:
        return f"{value[:SUMMARY_TEXT]}… [{len(value) - SUMMARY_TEXT} more characters]"
    return value
