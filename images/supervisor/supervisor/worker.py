"""Worker threads: take queued tasks (one at a time per sandbox) and run them to their end.

A run of a runtime that works in the sandbox starts from a clean workspace and ends in a
commit of what it changed on the sandbox's branch; a run that does not finish (cancelled, out
of budget, failed) has its changes set aside in a stash, so nothing half-done is committed.

While the backend is away (TransientAgentError: the sandbox's SSH, a model server the runtime
does not wait for itself) a task stays ``running`` and is retried in place after a backoff:
later tasks would hit the same dead backend, so holding them back keeps the queue's order and
wastes no attempts. Each try counts in ``attempts``; at ``max_attempts`` the task is ``failed``
with the last error. On shutdown mid-backoff the task goes back to ``queued``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

from .backoff import Backoff
from .queue import TaskQueue
from .runtimes import AgentError, AgentRuntime, TransientAgentError
from .sandbox_shell import SandboxShell, SshSettings
from .session import Budget, Cancelled, TaskSession
from .task import Outcome, Task
from .transcript import Transcript
from .workspace import Workspace

log = logging.getLogger("supervisor.worker")


ShellFactory = Callable[[str, SshSettings], SandboxShell]


@dataclass(frozen=True)
class RunSettings:
    budget: Budget
    ssh: SshSettings | None  # None: the runtime never reaches a sandbox
    author_suffix: str = " (agent)"
    shell: ShellFactory = SandboxShell  # (sandbox name, ssh) -> its shell


@dataclass
class _Running:
    cancel: threading.Event
    shell: SandboxShell | None


class WorkerPool:
    def __init__(
        self,
        queue: TaskQueue,
        runtime: AgentRuntime,
        backoff: Backoff,
        max_attempts: int,
        run: RunSettings,
        transcript: Transcript,
        workers: int = 1,
        poll_interval: float = 1.0,
    ) -> None:
        self.queue = queue
        self.runtime = runtime
        self.backoff = backoff
        self.max_attempts = max_attempts
        self.run = run
        self.transcript = transcript
        self.poll_interval = poll_interval
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._running: dict[int, _Running] = {}
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

    def cancel(self, task_id: int) -> None:
        """Stop a running task: its session raises at the next check, its command is killed."""
        with self._lock:
            running = self._running.get(task_id)
        if running is not None:
            running.cancel.set()
            if running.shell is not None:
                running.shell.cancel()

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
        """Run one claimed (running) task to done, failed, cancelled, or back to queued."""
        ssh = self.run.ssh if self.runtime.in_sandbox else None
        shell = self.run.shell(task.sandbox, ssh) if ssh is not None else None
        running = _Running(threading.Event(), shell)
        if task.cancel_requested:
            running.cancel.set()
        with self._lock:
            self._running[task.id] = running
        try:
            self._attempts(task, running)
        finally:
            with self._lock:
                self._running.pop(task.id, None)

    def _attempts(self, task: Task, running: _Running) -> None:
        fields = {"task_id": task.id, "sandbox": task.sandbox, "sender": task.sender}
        last_error = task.error or "attempt limit reached before this run (recovered after crash)"
        attempts = task.attempts
        while attempts < self.max_attempts:
            attempts = self.queue.start_attempt(task.id)
            log.info("task attempt", extra={"fields": {**fields, "event": "attempt",
                                                       "attempt": attempts}})  # fmt: skip
            session = TaskSession(task, self.run.budget, self.transcript.record, running.cancel)
            try:
                outcome = self._run_once(task, session, running.shell)
            except TransientAgentError as exc:
                last_error = str(exc)
                if attempts >= self.max_attempts:
                    break
                delay = self.backoff.delay(attempts)
                self.queue.note_error(task.id, last_error)
                log.warning("backend away, will retry", extra={"fields": {
                    **fields, "event": "retry", "attempt": attempts, "delay_s": round(delay, 3),
                    "error": last_error}})  # fmt: skip
                if self._stop.wait(delay):
                    self.queue.requeue(task.id)
                    return
                if running.cancel.is_set():
                    self._end(task, "cancelled", Outcome(error="cancelled by request"), fields)
                    return
                continue
            except Cancelled as exc:
                self._end(task, "cancelled", _spent(session, exc.outcome, str(exc)), fields)
                return
            except AgentError as exc:
                if self._stop.is_set():
                    self.queue.requeue(task.id)  # most likely our own shutdown killed the work
                    return
                self._end(task, "failed", _spent(session, exc.outcome, str(exc)), fields)
                return
            except Exception as exc:  # a runtime bug must fail the task, not the worker
                log.exception("runtime raised unexpectedly", extra={"fields": fields})
                error = f"{type(exc).__name__}: {exc}"
                self._end(task, "failed", _spent(session, None, error), fields)
                return
            self._end(task, "done", outcome, fields)
            return
        error = f"gave up after {attempts} attempts; last error: {last_error}"
        self._end(task, "failed", Outcome(error=error), fields)

    def _run_once(self, task: Task, session: TaskSession, shell: SandboxShell | None) -> Outcome:
        """One attempt. An AgentError it raises carries the Outcome (what was set aside)."""
        if shell is None:
            summary = self.runtime.execute(task, session, None)
            return _spent(session, Outcome(summary=summary))
        workspace = Workspace(shell, task, self.run.author_suffix)
        workspace.begin()
        try:
            summary = self.runtime.execute(task, session, shell)
            session.check()
        except AgentError as exc:
            why = "cancelled" if isinstance(exc, Cancelled) else "did not finish"
            shell.reopen_for_cleanup()
            try:
                aside = workspace.set_aside(why)
            except AgentError as lost:
                aside = f"could not set the changes aside: {lost}"
            if aside:
                session.record("set_aside", stash=aside)
            exc.outcome = Outcome(error=str(exc), set_aside=aside)
            raise
        commit = workspace.commit(summary)
        pushed = workspace.push() if commit is not None else None
        if commit is not None:
            session.record("commit", sha=commit.sha, files=list(commit.files), pushed=pushed)
        return _spent(
            session,
            Outcome(summary=summary, commit_sha=commit.sha if commit else None,
                    files_changed=commit.files if commit else (), pushed=pushed),
        )  # fmt: skip

    def _end(self, task: Task, status: str, outcome: Outcome, fields: dict[str, object]) -> None:
        self.queue.end(task.id, status, outcome)  # type: ignore[arg-type]
        level = logging.INFO if status == "done" else logging.WARNING
        log.log(level, f"task {status}", extra={"fields": {
            **fields, "event": status, "error": outcome.error, "commit": outcome.commit_sha,
            "tokens": outcome.prompt_tokens + outcome.completion_tokens}})  # fmt: skip


def _spent(session: TaskSession, outcome: Outcome | None, error: str | None = None) -> Outcome:
    """`outcome` (or one with just `error`) with the tokens the session counted."""
    base = outcome if outcome is not None else Outcome(error=error)
    return replace(base, prompt_tokens=session.prompt_tokens,
                   completion_tokens=session.completion_tokens)  # fmt: skip
