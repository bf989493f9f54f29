"""Durable FIFO task queue in SQLite (WAL, synchronous=FULL).

A task's life: queued -> running -> done | failed. Work left ``running`` by a crashed process is
put back to ``queued`` by :meth:`TaskQueue.recover` at startup, keeping its attempt count so a task
that keeps killing the process cannot loop forever. One connection guarded by a lock serves all
threads: the load is a handful of writes per task, and serialising them keeps claims atomic.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from .task import STATUSES, Status, Task

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    sender     TEXT    NOT NULL,
    sandbox    TEXT    NOT NULL,
    prompt     TEXT    NOT NULL,
    status     TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    result     TEXT,
    error      TEXT,
    attempts   INTEGER NOT NULL DEFAULT 0,
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_status_id ON tasks (status, id);
CREATE INDEX IF NOT EXISTS tasks_sandbox_id ON tasks (sandbox, id);
"""
_COLUMNS = "id, sender, sandbox, prompt, status, result, error, attempts, created_at, updated_at"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _task(row: tuple[Any, ...]) -> Task:
    return Task(*row)


class TaskQueue:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # isolation_level=None: we issue BEGIN IMMEDIATE ourselves so a claim is one write txn.
        self._conn = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, timeout=30.0
        )
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def journal_mode(self) -> str:
        with self._lock:
            return cast(str, self._conn.execute("PRAGMA journal_mode").fetchone()[0])

    def ping(self) -> None:
        """Raise if the database cannot be read (used by /health)."""
        with self._lock:
            self._conn.execute("SELECT 1 FROM tasks LIMIT 1").fetchall()

    def _write(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
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
        now = _now()
        rows = self._write(
            f"INSERT INTO tasks (sender, sandbox, prompt, status, attempts, created_at, updated_at)"
            f" VALUES (?, ?, ?, 'queued', 0, ?, ?) RETURNING {_COLUMNS}",
            (sender, sandbox, prompt, now, now),
        )
        return _task(rows[0])

    def recover(self) -> int:
        """Put tasks a crashed process left ``running`` back in the queue; return how many."""
        rows = self._write(
            "UPDATE tasks SET status = 'queued', updated_at = ? WHERE status = 'running'"
            " RETURNING id",
            (_now(),),
        )
        return len(rows)

    def claim(self) -> Task | None:
        """Atomically take the oldest queued task and mark it running."""
        rows = self._write(
            "UPDATE tasks SET status = 'running', updated_at = ?"
            " WHERE id = (SELECT id FROM tasks WHERE status = 'queued' ORDER BY id LIMIT 1)"
            f" RETURNING {_COLUMNS}",
            (_now(),),
        )
        return _task(rows[0]) if rows else None

    def start_attempt(self, task_id: int) -> int:
        """Count one more execution attempt of a running task; return the new count."""
        rows = self._write(
            "UPDATE tasks SET attempts = attempts + 1, updated_at = ? WHERE id = ?"
            " RETURNING attempts",
            (_now(), task_id),
        )
        return int(rows[0][0])

    def note_error(self, task_id: int, error: str) -> None:
        """Record the latest transient error on a task that will be retried."""
        self._write(
            "UPDATE tasks SET error = ?, updated_at = ? WHERE id = ?", (error, _now(), task_id)
        )

    def requeue(self, task_id: int) -> None:
        self._write(
            "UPDATE tasks SET status = 'queued', updated_at = ? WHERE id = ?", (_now(), task_id)
        )

    def complete(self, task_id: int, result: str) -> None:
        self._write(
            "UPDATE tasks SET status = 'done', result = ?, error = NULL, updated_at = ?"
            " WHERE id = ?",
            (result, _now(), task_id),
        )

    def fail(self, task_id: int, error: str) -> None:
        self._write(
            "UPDATE tasks SET status = 'failed', error = ?, updated_at = ? WHERE id = ?",
            (error, _now(), task_id),
        )

    def get(self, task_id: int) -> Task | None:
        with self._lock:
            row = self._conn.execute(
                f"SELECT {_COLUMNS} FROM tasks WHERE id = ?", (task_id,)
            ).fetchone()
        return _task(row) if row else None

    def list_tasks(
        self, status: Status | None = None, sandbox: str | None = None, limit: int = 100
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
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_COLUMNS} FROM tasks {where} ORDER BY id LIMIT ?", (*params, limit)
            ).fetchall()
        return [_task(r) for r in rows]
