"""The SQLite queue: durability across reopen, FIFO claims, and recovery after a real crash."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from supervisor.queue import TaskQueue

from .conftest import SUPERVISOR_SRC


def test_tasks_survive_close_and_reopen_with_every_field(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "queue.sqlite3"
    queue = TaskQueue(path)
    first = queue.enqueue("alice", "sb-a", "write tests")
    second = queue.enqueue("bob", "sb-b", "refactor")
    claimed = queue.claim()
    assert claimed is not None and claimed.id == first.id
    assert queue.start_attempt(first.id) == 1
    queue.complete(first.id, "all green")
    queue.close()

    reopened = TaskQueue(path)
    done = reopened.get(first.id)
    assert done is not None
    assert (done.sender, done.sandbox, done.prompt) == ("alice", "sb-a", "write tests")
    assert (done.status, done.result, done.error, done.attempts) == ("done", "all green", None, 1)
    assert done.created_at == first.created_at and done.updated_at >= first.created_at
    pending = reopened.get(second.id)
    assert pending is not None and pending.status == "queued" and pending.attempts == 0
    assert reopened.journal_mode() == "wal"


def test_claims_are_fifo_and_exclusive(tmp_path: Path) -> None:
    queue = TaskQueue(tmp_path / "q.sqlite3")
    ids = [queue.enqueue("s", "sb", f"p{i}").id for i in range(3)]
    claimed = [queue.claim() for _ in range(4)]
    assert [t.id if t else None for t in claimed] == [*ids, None]
    assert all(t.status == "running" for t in claimed if t)


def test_list_filters_by_status_and_sandbox_in_id_order(tmp_path: Path) -> None:
    queue = TaskQueue(tmp_path / "q.sqlite3")
    a1 = queue.enqueue("s", "a", "1")
    b1 = queue.enqueue("s", "b", "2")
    a2 = queue.enqueue("s", "a", "3")
    queue.fail(a1.id, "nope")
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
