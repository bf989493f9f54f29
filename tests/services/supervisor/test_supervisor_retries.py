"""Retries: a task whose backend is away (TransientAgentError: the sandbox's SSH before it is
up, say) stays running and is tried again after a backoff, keeping its sandbox's later tasks
waiting; the builtin runtime's own waits for the model server are in test_supervisor_agent_loop.
"""

from __future__ import annotations

import logging
import random

from supervisor.backoff import Backoff
from supervisor.queue import TaskQueue
from supervisor.runtimes import AgentError, StubRuntime, TransientAgentError
from supervisor.sandbox_shell import SandboxShell
from supervisor.session import TaskSession
from supervisor.task import Task

from .conftest import StartSupervisor, wait_until


class Flaky(StubRuntime):
    """Away for its first `failures` tries, then the stub's answer; with `permanent`, a
    permanent error instead."""

    def __init__(self, failures: int, permanent: bool = False) -> None:
        self.failures = failures
        self.permanent = permanent
        self.tries = 0

    def execute(self, task: Task, session: TaskSession, shell: SandboxShell | None) -> str:
        self.tries += 1
        if self.permanent:
            raise AgentError("the request itself is wrong")
        if self.tries <= self.failures:
            raise TransientAgentError(f"sandbox {task.sandbox!r} unreachable (try {self.tries})")
        return super().execute(task, session, shell)


def test_a_task_whose_backend_is_away_is_retried_in_place_until_it_answers(
    start_supervisor: StartSupervisor,
) -> None:
    _, api = start_supervisor(runtime=Flaky(failures=3), SUPERVISOR_MAX_ATTEMPTS="10")
    first, later = api.submit("now", sandbox="s"), api.submit("later", sandbox="s")
    done = api.wait_status(first, "done", "failed")
    assert (done["status"], done["attempts"], done["error"]) == ("done", 4, None)
    after = api.wait_status(later, "done", "failed")
    assert after["attempts"] == 1 and after["updated_at"] >= done["updated_at"]  # it waited


def test_retries_exhausted_marks_the_task_failed_with_the_last_error(
    start_supervisor: StartSupervisor,
) -> None:
    _, api = start_supervisor(runtime=Flaky(failures=99), SUPERVISOR_MAX_ATTEMPTS="3")
    failed = api.wait_status(api.submit("nobody home"), "done", "failed")
    assert (failed["status"], failed["attempts"], failed["result"]) == ("failed", 3, None)
    assert failed["error"] == (
        "gave up after 3 attempts; last error: sandbox 'sb-1' unreachable (try 3)"
    )


def test_permanent_errors_are_not_retried(start_supervisor: StartSupervisor) -> None:
    _, api = start_supervisor(runtime=Flaky(failures=0, permanent=True))
    failed = api.wait_status(api.submit("bad request"), "done", "failed")
    assert (failed["status"], failed["attempts"]) == ("failed", 1)
    assert failed["error"] == "the request itself is wrong"


def test_shutdown_during_backoff_puts_the_task_back_in_the_queue(
    start_supervisor: StartSupervisor,
) -> None:
    sup, api = start_supervisor(
        runtime=Flaky(failures=99), SUPERVISOR_BACKOFF_BASE="600", SUPERVISOR_BACKOFF_CAP="600"
    )
    task_id = api.submit("wait for me")
    wait_until(lambda: api.get(f"/tasks/{task_id}")[2]["error"], "first failed attempt")
    sup.stop(timeout=10)
    assert sup.pool.alive() == 0
    task = TaskQueue(sup.config.db_path).get(task_id)
    assert task is not None and (task.status, task.attempts) == ("queued", 1)


def test_a_cancel_during_backoff_ends_the_task_cancelled(start_supervisor: StartSupervisor) -> None:
    _, api = start_supervisor(
        runtime=Flaky(failures=99), SUPERVISOR_BACKOFF_BASE="1", SUPERVISOR_BACKOFF_CAP="1"
    )
    task_id = api.submit("give up")
    wait_until(lambda: api.get(f"/tasks/{task_id}")[2]["error"], "first failed attempt")
    assert api.post(f"/tasks/{task_id}/cancel", {})[0] == 202
    assert api.wait_status(task_id, "cancelled", "failed")["status"] == "cancelled"


def test_backoff_is_capped_exponential_with_seeded_jitter() -> None:
    backoff = Backoff(base=1.0, cap=8.0, rng=random.Random(42))
    assert [backoff.ceiling(n) for n in range(1, 7)] == [1, 2, 4, 8, 8, 8]
    delays = [backoff.delay(n) for n in range(1, 7)]
    for n, delay in enumerate(delays, start=1):
        assert backoff.ceiling(n) / 2 <= delay <= backoff.ceiling(n)
    again = Backoff(base=1.0, cap=8.0, rng=random.Random(42))
    assert [again.delay(n) for n in range(1, 7)] == delays  # deterministic under a seed
    assert Backoff(base=1.0, cap=60.0).ceiling(10_000) == 60.0  # no overflow


def test_worker_waits_what_the_injected_rng_says(
    start_supervisor: StartSupervisor, captured_logs: list[logging.LogRecord]
) -> None:
    class TopOfRange(random.Random):
        def uniform(self, a: float, b: float) -> float:
            return b  # jitter at its maximum: each delay equals its ceiling

    _, api = start_supervisor(
        runtime=Flaky(failures=99),
        rng=TopOfRange(),
        SUPERVISOR_MAX_ATTEMPTS="4",
        SUPERVISOR_BACKOFF_BASE="0.01",
        SUPERVISOR_BACKOFF_CAP="0.03",
    )
    assert api.wait_status(api.submit("x"), "done", "failed")["status"] == "failed"
    fields = [getattr(r, "fields", {}) for r in captured_logs]
    retries = [f for f in fields if f.get("event") == "retry"]
    assert [(f["attempt"], f["delay_s"]) for f in retries] == [(1, 0.01), (2, 0.02), (3, 0.03)]
