"""Retries end to end: a supervisor on the openai runtime while FakeOpenAIServer (a local fake of
an OpenAI-compatible server) goes away and comes back."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator

import pytest
from supervisor.backoff import Backoff
from supervisor.queue import TaskQueue

from .conftest import StartSupervisor, wait_until
from .fake_openai import FakeOpenAIServer


@pytest.fixture
def fake() -> Iterator[FakeOpenAIServer]:
    server = FakeOpenAIServer().start()
    yield server
    server.stop()


def test_task_finishes_done_after_fake_openai_is_killed_and_comes_back(
    fake: FakeOpenAIServer, start_supervisor: StartSupervisor
) -> None:
    _, api = start_supervisor(
        SUPERVISOR_RUNTIME="openai",
        MODEL_URL=fake.base_url,
        MODEL_NAME="tiny",
        SUPERVISOR_MAX_ATTEMPTS="1000",
    )
    first = api.wait_status(api.submit("before the crash"), "done", "failed")
    assert (first["status"], first["result"]) == ("done", "fake-openai reply to: before the crash")

    fake.stop()  # the model server is killed
    task_id = api.submit("during the outage")
    retrying = wait_until(
        lambda: (t := api.get(f"/tasks/{task_id}")[2])["attempts"] >= 3 and t,
        "several refused attempts",
    )
    assert retrying["status"] == "running"
    assert "refused" in retrying["error"]

    fake.start()  # ...and comes back on the same port
    done = api.wait_status(task_id, "done", "failed")
    assert done["status"] == "done", done
    assert done["result"] == "fake-openai reply to: during the outage"
    assert done["error"] is None and done["attempts"] >= 4
    after = api.wait_status(api.submit("after recovery"), "done", "failed")
    assert (after["status"], after["attempts"]) == ("done", 1)
    assert {r["model"] for r in fake.requests} == {"tiny"}


def test_5xx_replies_are_retried_until_fake_openai_answers(
    fake: FakeOpenAIServer, start_supervisor: StartSupervisor
) -> None:
    fake.fail_next = [503, 500]
    _, api = start_supervisor(SUPERVISOR_RUNTIME="openai", MODEL_URL=fake.base_url)
    done = api.wait_status(api.submit("flaky"), "done", "failed")
    assert (done["status"], done["attempts"]) == ("done", 3)
    assert len(fake.requests) == 3


def test_retries_exhausted_marks_the_task_failed_with_the_last_error(
    start_supervisor: StartSupervisor,
) -> None:
    gone = FakeOpenAIServer().start()
    gone.stop()
    _, api = start_supervisor(
        SUPERVISOR_RUNTIME="openai", MODEL_URL=gone.base_url, SUPERVISOR_MAX_ATTEMPTS="3"
    )
    failed = api.wait_status(api.submit("nobody home"), "done", "failed")
    assert (failed["status"], failed["attempts"], failed["result"]) == ("failed", 3, None)
    assert failed["error"].startswith(
        "gave up after 3 attempts; last error: model server "
        f"unreachable at {gone.base_url}/chat/completions"
    )


def test_permanent_errors_are_not_retried(
    fake: FakeOpenAIServer, start_supervisor: StartSupervisor
) -> None:
    fake.fail_next = [400]
    _, api = start_supervisor(SUPERVISOR_RUNTIME="openai", MODEL_URL=fake.base_url)
    failed = api.wait_status(api.submit("bad request"), "done", "failed")
    assert (failed["status"], failed["attempts"]) == ("failed", 1)
    assert "HTTP 400" in failed["error"]


def test_shutdown_during_backoff_puts_the_task_back_in_the_queue(
    start_supervisor: StartSupervisor,
) -> None:
    gone = FakeOpenAIServer().start()
    gone.stop()
    sup, api = start_supervisor(
        SUPERVISOR_RUNTIME="openai",
        MODEL_URL=gone.base_url,
        SUPERVISOR_BACKOFF_BASE="600",
        SUPERVISOR_BACKOFF_CAP="600",
    )
    task_id = api.submit("wait for me")
    wait_until(lambda: api.get(f"/tasks/{task_id}")[2]["error"], "first failed attempt")
    sup.stop(timeout=10)
    assert sup.pool.alive() == 0
    task = TaskQueue(sup.config.db_path).get(task_id)
    assert task is not None and (task.status, task.attempts) == ("queued", 1)


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

    gone = FakeOpenAIServer().start()
    gone.stop()
    _, api = start_supervisor(
        rng=TopOfRange(),
        SUPERVISOR_RUNTIME="openai",
        MODEL_URL=gone.base_url,
        SUPERVISOR_MAX_ATTEMPTS="4",
        SUPERVISOR_BACKOFF_BASE="0.01",
        SUPERVISOR_BACKOFF_CAP="0.03",
    )
    assert api.wait_status(api.submit("x"), "done", "failed")["status"] == "failed"
    fields = [getattr(r, "fields", {}) for r in captured_logs]
    retries = [f for f in fields if f.get("event") == "retry"]
    assert [(f["attempt"], f["delay_s"]) for f in retries] == [(1, 0.01), (2, 0.02), (3, 0.03)]
