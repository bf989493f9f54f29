"""Worker threads: take queued tasks in order and run them through the runtime, with retries.

While the backend is away (TransientAgentError) a task stays ``running`` and is retried in place
after a backoff: later tasks would hit the same dead model server, so holding them back keeps the
queue's order and wastes no attempts. Each try counts in ``attempts``; at ``max_attempts`` the
task is ``failed`` with the last error. On shutdown mid-backoff the task goes back to ``queued``.
"""

from __future__ import annotations

import logging
import threading

from .backoff import Backoff
from .queue import TaskQueue
from .runtimes import AgentError, AgentRuntime, TransientAgentError
from .task import Task

log = logging.getLogger("supervisor.worker")


class WorkerPool:
    def __init__(
        self,
        queue: TaskQueue,
        runtime: AgentRuntime,
        backoff: Backoff,
        max_attempts: int,
        workers: int = 1,
        poll_interval: float = 1.0,
    ) -> None:
        self.queue = queue
        self.runtime = runtime
        self.backoff = backoff
        self.max_attempts = max_attempts
        self.poll_interval = poll_interval
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads = [
            threading.Thread(target=self._loop, name=f"worker-{i + 1}", daemon=True)
            for i in range(workers)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def notify(self) -> None:
        """A task was enqueued: wake an idle worker now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout)

    def alive(self) -> int:
        return sum(thread.is_alive() for thread in self._threads)

    @property
    def size(self) -> int:
        return len(self._threads)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._wake.clear()
                task = self.queue.claim()
                if task is None:
                    self._wake.wait(self.poll_interval)
                    continue
                self.process(task)
            except Exception:
                # A database hiccup must not kill the thread; the task, if any, stays running
                # and is recovered at the next start.
                log.exception("worker loop error", extra={"fields": {"event": "worker_error"}})
                self._stop.wait(self.poll_interval)

    def process(self, task: Task) -> None:
        """Run one claimed (running) task to done, failed, or back to queued on shutdown."""
        fields = {"task_id": task.id, "sandbox": task.sandbox, "sender": task.sender}
        last_error = task.error or "attempt limit reached before this run (recovered after crash)"
        attempts = task.attempts
        while attempts < self.max_attempts:
            attempts = self.queue.start_attempt(task.id)
            log.info(
                "task attempt",
                extra={
                    "fields": {
                        **fields,
                        "event": "attempt",
                        "attempt": attempts,
                        "prompt_chars": len(task.prompt),
                    }
                },
            )
            try:
                result = self.runtime.execute(task)
            except TransientAgentError as exc:
                last_error = str(exc)
                if attempts >= self.max_attempts:
                    break
                delay = self.backoff.delay(attempts)
                self.queue.note_error(task.id, last_error)
                log.warning(
                    "backend away, will retry",
                    extra={
                        "fields": {
                            **fields,
                            "event": "retry",
                            "attempt": attempts,
                            "delay_s": round(delay, 3),
                            "error": last_error,
                        }
                    },
                )
                if self._stop.wait(delay):
                    self.queue.requeue(task.id)
                    log.info(
                        "shutdown during backoff, task requeued",
                        extra={"fields": {**fields, "event": "requeued"}},
                    )
                    return
                continue
            except AgentError as exc:
                if self._stop.is_set():
                    # Most likely our own shutdown killed the work: let the next start redo it.
                    self.queue.requeue(task.id)
                    log.info(
                        "error during shutdown, task requeued",
                        extra={"fields": {**fields, "event": "requeued", "error": str(exc)}},
                    )
                    return
                self._fail(task, str(exc), attempts, fields)
                return
            except Exception as exc:  # a runtime bug must fail the task, not the worker
                log.exception("runtime raised unexpectedly", extra={"fields": fields})
                self._fail(task, f"{type(exc).__name__}: {exc}", attempts, fields)
                return
            self.queue.complete(task.id, result)
            log.info(
                "task done",
                extra={
                    "fields": {
                        **fields,
                        "event": "done",
                        "attempts": attempts,
                        "result_chars": len(result),
                    }
                },
            )
            return
        self._fail(
            task, f"gave up after {attempts} attempts; last error: {last_error}", attempts, fields
        )

    def _fail(self, task: Task, error: str, attempts: int, fields: dict[str, object]) -> None:
        self.queue.fail(task.id, error)
        log.error(
            "task failed",
            extra={"fields": {**fields, "event": "failed", "attempts": attempts, "error": error}},
        )
