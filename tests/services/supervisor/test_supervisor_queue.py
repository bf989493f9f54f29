"""The SQLite queue: durability across reopen, claims in order (one task at a time per
sandbox), transcripts, the first release's database, and recovery after a real crash."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from supervisor.queue import TaskQueue
from supervisor.task import Outcome

from .conftest import SUPERVISOR_SRC


def test_tasks_survive_close_and_reopen_with_every_field(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "queue.sqlite3"
    queue = TaskQueue(path)
    first = queue.enqueue("alice", "sb-a", "write tests")
    second = queue.enqueue("bob", "sb-b", "refactor")
    claimed = queue.claim()
    assert claimed is not None and claimed.id == first.id
    assert queue.start_attempt(first.id) == 1
    outcome = Outcome(summary="all green", commit_sha="abc123", files_changed=("a.py", "b.py"),
                      prompt_tokens=11, completion_tokens=4)  # fmt: skip
    queue.end(first.id, "done", outcome)
    queue.add_step(first.id, "model", {"content": "hi"})
    queue.close()

    reopened = TaskQueue(path)
    done = reopened.get(first.id)
    assert done is not None
    assert (done.sender, done.sandbox, done.prompt) == ("alice", "sb-a", "write tests")
    assert (done.status, done.result, done.error, done.attempts) == ("done", "all green", None, 1)
    assert (done.commit_sha, done.files_changed) == ("abc123", ("a.py", "b.py"))
    assert (done.prompt_tokens, done.completion_tokens) == (11, 4)
    assert [(s["seq"], s["kind"], s["content"]) for s in reopened.steps(first.id)] == [
        (1, "model", "hi")
    ]
    assert done.created_at == first.created_at and done.updated_at >= first.created_at
    pending = reopened.get(second.id)
    assert pending is not None and pending.status == "queued" and pending.attempts == 0
    assert reopened.journal_mode() == "wal"


def test_claims_are_fifo_and_take_one_task_per_sandbox_at_a_time(tmp_path: Path) -> None:
    queue = TaskQueue(tmp_path / "q.sqlite3")
    a1, a2, b1, a3 = (queue.enqueue("s", sb, "p").id for sb in ("a", "a", "b", "a"))
    claimed = [queue.claim() for _ in range(3)]
    assert [t.id if t else None for t in claimed] == [a1, b1, None]  # a2 waits for a1
    queue.end(a1, "done", Outcome(summary="ok"))
    assert [t.id if (t := queue.claim()) else None for _ in range(2)] == [a2, None]
    queue.end(a2, "failed", Outcome(error="x"))
    assert (t := queue.claim()) is not None and t.id == a3


def test_a_queued_task_is_cancelled_at_once_a_running_one_is_asked_to_stop(
    tmp_path: Path,
) -> None:
    queue = TaskQueue(tmp_path / "q.sqlite3")
    running, queued = queue.enqueue("s", "a", "1"), queue.enqueue("s", "a", "2")
    queue.claim()
    asked = queue.request_cancel(running.id)
    assert asked is not None and (asked.status, asked.cancel_requested) == ("running", True)
    gone = queue.request_cancel(queued.id)
    assert gone is not None and (gone.status, gone.error) == (
        "cancelled", "cancelled before it started")  # fmt: skip
    assert queue.request_cancel(999) is None


def test_a_first_release_database_is_moved_to_this_schema_with_its_tasks(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as old:
        old.executescript(
            "CREATE TABLE tasks (id INTEGER PRIMARY KEY AUTOINCREMENT, sender TEXT NOT NULL, "
            "sandbox TEXT NOT NULL, prompt TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN "
            "('queued', 'running', 'done', 'failed')), result TEXT, error TEXT, attempts "
            "INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);"
            "INSERT INTO tasks (sender, sandbox, prompt, status, result, attempts, created_at, "
            "updated_at) VALUES ('ana', 'sb', 'old work', 'done', 'it worked', 1, 't0', 't1');"
        )
    queue = TaskQueue(path)
    (task,) = queue.list_tasks()
    assert (task.prompt, task.status, task.result, task.files_changed) == (
        "old work", "done", "it worked", ())  # fmt: skip
    new = queue.enqueue("bo", "sb", "new work")
    assert queue.request_cancel(new.id) is not None  # 'cancelled' is allowed now
    assert new.id == task.id + 1


def test_list_filters_by_status_and_sandbox_in_id_order(tmp_path: Path) -> None:
    queue = TaskQueue(tmp_path / "q.sqlite3")
    a1 = queue.enqueue("s", "a", "1")
    b1 = queue.enqueue("s", "b", "2")
    a2 = queue.enqueue("s", "a", "3")
    queue.end(a1.id, "failed", Outcome(error="nope"))
    assert [t.id for t in queue.list_tasks(sandbox="a")] == [a1.id, a2.id]
    assert [t.id for t in queue.list_tasks(status="queued")] == [b1.id, a2.id]
    assert [t.id for t in queue.list_tasks(status="failed", sandbox="a")] == [a1.id]
    assert [t.id for t in queue.list_tasks(limit=1)] == [a1.id]


CRASHING_PROCESS = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[2])
    from supervisor.queue import TaskQueue
    q = TaskQueue(Path(sys.argv[1]))
    first = q.enqueue("alice", "sb-a", "long job")
    q.enqueue("bob", "sb-b", "next job")
    task = q.claim()
    q.start_attempt(task.id)
    os.kill(os.getpid(), signal.SIGKILL)  # die mid-task without closing anything
    """
)


def test_running_task_of_a_killed_process_is_requeued_on_recover(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite3"
    proc = subprocess.run(
        [sys.executable, "-c", CRASHING_PROCESS, str(path), str(SUPERVISOR_SRC)],
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == -9, proc.stderr

    queue = TaskQueue(path)
    before = queue.list_tasks()
    assert [(t.status, t.attempts) for t in before] == [("running", 1), ("queued", 0)]
    assert queue.recover() == 1
    after = queue.list_tasks()
    assert [(t.status, t.attempts) for t in after] == [("queued", 1), ("queued", 0)]
    again = queue.claim()
    assert again is not None and again.prompt == "long job"  # order kept after recovery
    assert queue.recover() == 1 and queue.recover() == 0
