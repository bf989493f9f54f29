"""Durable task queue in SQLite (WAL, synchronous=FULL), with each task's step transcript.

A task's life: queued -> running -> done | failed | cancelled. Tasks of one sandbox run one at
a time, oldest first; tasks of different sandboxes run side by side (one per worker). Work left
``running`` by a crashed process is put back to ``queued`` by :meth:`TaskQueue.recover` at
startup, keeping its attempt count so a task that keeps killing the process cannot loop
forever. One connection guarded by a lock serves all threads: the load is a handful of writes
per step, and serialising them keeps claims atomic.

A database of the first release (no transcript, four statuses) is moved to this schema at open,
its tasks kept.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from .task import STATUSES, Outcome, Status, Task

# A task's columns, also those of headquarters' ledger of the fleet's tasks (ledger.py).
TASK_COLUMNS = """
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    sender            TEXT    NOT NULL,
    sandbox           TEXT    NOT NULL,
    prompt            TEXT    NOT NULL,
    status            TEXT    NOT NULL
                      CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    result            TEXT,
    error             TEXT,
    attempts          INTEGER NOT NULL DEFAULT 0,
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    cancel_requested  INTEGER NOT NULL DEFAULT 0,
    commit_sha        TEXT,
    files_changed     TEXT    NOT NULL DEFAULT '[]',
    pushed            TEXT,
    set_aside         TEXT,
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0"""
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS tasks ({TASK_COLUMNS}
);
CREATE INDEX IF NOT EXISTS tasks_status_id ON tasks (status, id);
CREATE INDEX IF NOT EXISTS tasks_sandbox_id ON tasks (sandbox, id);
CREATE TABLE IF NOT EXISTS steps (
    task_id INTEGER NOT NULL REFERENCES tasks (id),
    seq     INTEGER NOT NULL,
    kind    TEXT    NOT NULL,
    content TEXT    NOT NULL,
    at      TEXT    NOT NULL,
    PRIMARY KEY (task_id, seq)
);
"""
_FIRST_COLUMNS = (
    "id, sender, sandbox, prompt, status, result, error, attempts, created_at, updated_at"
)
COLUMNS = (
    f"{_FIRST_COLUMNS}, cancel_requested, commit_sha, files_changed, pushed, set_aside, "
    "prompt_tokens, completion_tokens"
)


Clock = Callable[[], datetime]  # aware UTC; tests give their own, never today's date


def utc_now() -> datetime:
    return datetime.now(UTC)


def stamp(moment: datetime) -> str:
    """The one text form of a time in the databases: ISO-8601 UTC, milliseconds (they sort)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def _task(row: tuple[Any, ...]) -> Task:
    (id_, sender, sandbox, prompt, status, result, error, attempts, created, updated, cancel,
     sha, files, pushed, aside, prompt_tokens, completion_tokens) = row  # fmt: skip
    return Task(
        id_, sender, sandbox, prompt, status, result, error, attempts, created, updated,
        bool(cancel), sha, tuple(json.loads(files)), pushed, aside, prompt_tokens,
        completion_tokens,
    )  # fmt: skip


class TaskQueue:
    def __init__(self, path: Path, clock: Clock = utc_now) -> None:
        self.path = path
        self.clock = clock
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # isolation_level=None: we issue BEGIN IMMEDIATE ourselves so a claim is one write txn.
        self._conn = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=30.0
        )
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._upgrade_first_release()
            self._conn.executescript(_SCHEMA)

    def _upgrade_first_release(self) -> None:
        columns = {row[1] for row in self._conn.execute("PRAGMA table_info(tasks)")}
        if not columns or "cancel_requested" in columns:
            return
        self._conn.executescript(
            "BEGIN IMMEDIATE; ALTER TABLE tasks RENAME TO tasks_first_release;"
            "DROP INDEX IF EXISTS tasks_status_id; DROP INDEX IF EXISTS tasks_sandbox_id;"
            + _SCHEMA
            + f"INSERT INTO tasks ({_FIRST_COLUMNS}) SELECT {_FIRST_COLUMNS} "
            "FROM tasks_first_release; DROP TABLE tasks_first_release; COMMIT;"
        )

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def journal_mode(self) -> str:
        with self._lock:
            return cast(str, self._conn.execute("PRAGMA journal_mode").fetchone()[0])

    def now(self) -> str:
        return stamp(self.clock())

    def script(self, sql: str) -> None:
        """Schema of the tables that live beside the queue (bus_queue.py, ledger.py)."""
        with self._lock:
            self._conn.executescript(sql)

    def read(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of one query (the statistics read the table with their own SQL)."""
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def ping(self) -> None:
        """Raise if the database cannot be read (used by /health)."""
        with self._lock:
            self._conn.execute("SELECT 1 FROM tasks LIMIT 1").fetchall()

    def write(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                rows = self._conn.execute(sql, params).fetchall()
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            return rows

    def enqueue(self, sender: str, sandbox: str, prompt: str) -> Task:
        at = self.now()
        rows = self.write(
            f"INSERT INTO tasks (sender, sandbox, prompt, status, attempts, created_at, updated_at)"
            f" VALUES (?, ?, ?, 'queued', 0, ?, ?) RETURNING {COLUMNS}",
            (sender, sandbox, prompt, at, at),
        )
        return _task(rows[0])

    def recover(self) -> int:
        """Put tasks a crashed process left ``running`` back in the queue; return how many."""
        rows = self.write(
            "UPDATE tasks SET status = 'queued', updated_at = ? WHERE status = 'running'"
            " RETURNING id",
            (self.now(),),
        )
        return len(rows)

    def claim(self) -> Task | None:
        """Atomically take the oldest queued task whose sandbox runs nothing, mark it running."""
        rows = self.write(
            "UPDATE tasks SET status = 'running', updated_at = ? WHERE id = ("
            " SELECT id FROM tasks AS t WHERE status = 'queued' AND NOT EXISTS ("
            "  SELECT 1 FROM tasks AS r WHERE r.sandbox = t.sandbox AND r.status = 'running')"
            " ORDER BY id LIMIT 1)"
            f" RETURNING {COLUMNS}",
            (self.now(),),
        )
        return _task(rows[0]) if rows else None

    def start_attempt(self, task_id: int) -> int:
        """Count one more execution attempt of a running task; return the new count."""
        rows = self.write(
            "UPDATE tasks SET attempts = attempts + 1, updated_at = ? WHERE id = ?"
            " RETURNING attempts",
            (self.now(), task_id),
        )
        return int(rows[0][0])

    def note_error(self, task_id: int, error: str) -> None:
        """Record the latest transient error on a task that will be retried."""
        self.write(
            "UPDATE tasks SET error = ?, updated_at = ? WHERE id = ?", (error, self.now(), task_id)
        )

    def requeue(self, task_id: int) -> None:
        self.write(
            "UPDATE tasks SET status = 'queued', updated_at = ? WHERE id = ?",
            (self.now(), task_id),
        )

    def end(self, task_id: int, status: Status, outcome: Outcome) -> None:
        """A run's last word: done, failed or cancelled, with what it left behind."""
        o = outcome
        self.write(
            "UPDATE tasks SET status = ?, result = ?, error = ?, commit_sha = ?, "
            "files_changed = ?, pushed = ?, set_aside = ?, prompt_tokens = ?, "
            "completion_tokens = ?, updated_at = ? WHERE id = ?",
            (status, o.summary, o.error, o.commit_sha, json.dumps(list(o.files_changed)),
             o.pushed, o.set_aside, o.prompt_tokens, o.completion_tokens, self.now(), task_id),
        )  # fmt: skip

    def request_cancel(self, task_id: int) -> Task | None:
        """A queued task is cancelled at once; a running one is marked for its worker to stop.
        Returns the task as it is now (None: no such task)."""
        at = self.now()
        self.write(
            "UPDATE tasks SET status = 'cancelled', error = 'cancelled before it started', "
            "updated_at = ? WHERE id = ? AND status = 'queued'",
            (at, task_id),
        )
        self.write(
            "UPDATE tasks SET cancel_requested = 1, updated_at = ? "
            "WHERE id = ? AND status = 'running'",
            (at, task_id),
        )
        return self.get(task_id)

    def add_step(self, task_id: int, kind: str, content: dict[str, Any]) -> tuple[int, str]:
        """Append one step to a task's transcript; returns (its number, its time)."""
        at = self.now()
        rows = self.write(
            "INSERT INTO steps (task_id, seq, kind, content, at) VALUES (?, "
            "(SELECT COALESCE(MAX(seq), 0) + 1 FROM steps WHERE task_id = ?), ?, ?, ?) "
            "RETURNING seq",
            (task_id, task_id, kind, json.dumps(content, ensure_ascii=False), at),
        )
        return int(rows[0][0]), at

    def steps(self, task_id: int) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT seq, kind, content, at FROM steps WHERE task_id = ? ORDER BY seq",
                (task_id,),
            ).fetchall()
        return [{"seq": s, "kind": k, "at": at, **json.loads(c)} for s, k, c, at in rows]

    def get(self, task_id: int) -> Task | None:
        with self._lock:
            row = self._conn.execute(
                f"SELECT {COLUMNS} FROM tasks WHERE id = ?", (task_id,)
            ).fetchone()
        return _task(row) if row else None

    def list_tasks(
        self,
        status: Status | None = None,
        sandbox: str | None = None,
        limit: int = 100,
        newest: bool = False,
    ) -> list[Task]:
        if status is not None and status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        clauses: list[str] = []
        params: list[Any] = []
        if status is not None:
            clauses.append("status = ?")
            params.append(status)
        if sandbox is not None:
            clauses.append("sandbox = ?")
            params.append(sandbox)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        order = "DESC" if newest else "ASC"
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {COLUMNS} FROM tasks {where} ORDER BY id {order} LIMIT ?",
                (*params, limit),
            ).fetchall()
        return [_task(r) for r in rows]
