"""One task's run: its budgets, its cancel flag, its token count and its transcript.

A runtime asks the session before each step (`next_step`) and reports what it spent
(`spend`); the session raises when the task was cancelled or a budget ran out, naming which,
so every runtime ends the same way. Each step it is told about goes to the transcript: the
queue database (GET /tasks/<id>) and the logs volume (`tasks/<id>.jsonl`), bounded in size.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import AgentError
from .task import Task

MAX_STEP_TEXT = 8192  # a step's recorded text; a tool's full output never reaches the database


class Cancelled(AgentError):
    """POST /tasks/<id>/cancel: stop now, keep nothing half-done."""


class BudgetExceeded(AgentError):
    """A task used up one of its budgets (steps, tokens, seconds)."""


@dataclass(frozen=True)
class Budget:
    max_steps: int
    max_tokens: int
    max_seconds: float


def bounded(text: str, limit: int = MAX_STEP_TEXT) -> str:
    """`text`, or its head and tail with the number of characters left out between them."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - 2 * half} characters left out ...]\n{text[-half:]}"


Recorder = Callable[[int, str, dict[str, Any]], None]


class TaskSession:
    def __init__(
        self,
        task: Task,
        budget: Budget,
        record: Recorder,
        cancel: threading.Event,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.task = task
        self.budget = budget
        self._record = record
        self._cancel = cancel
        self._clock = clock
        self._started = clock()
        self.steps = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def remaining_seconds(self) -> float:
        return self.budget.max_seconds - (self._clock() - self._started)

    def check(self) -> None:
        """Raise if the task was cancelled or its time is up."""
        if self._cancel.is_set():
            raise Cancelled("cancelled by request")
        if self.remaining_seconds() <= 0:
            raise BudgetExceeded(
                f"time budget exhausted: {self.budget.max_seconds:g} s "
                "(sandbox-fleet:supervisorTimeBudget)"
            )

    def pause(self, seconds: float) -> None:
        """Wait (for a backend to come back), waking at once for a cancel; then `check`."""
        self._cancel.wait(max(0.0, min(seconds, self.remaining_seconds())))
        self.check()

    def next_step(self) -> None:
        """Count one model step; raise when that is one too many."""
        self.check()
        if self.steps >= self.budget.max_steps:
            raise BudgetExceeded(
                f"step budget exhausted: {self.budget.max_steps} steps "
                "(sandbox-fleet:supervisorStepBudget)"
            )
        self.steps += 1

    def spend(self, prompt_tokens: int, completion_tokens: int) -> None:
        self.prompt_tokens += prompt_tokens
        self.completion_tokens += completion_tokens
        used = self.prompt_tokens + self.completion_tokens
        if used > self.budget.max_tokens:
            raise BudgetExceeded(
                f"token budget exhausted: {used} of {self.budget.max_tokens} tokens used "
                "(sandbox-fleet:supervisorTokenBudget)"
            )

    def record(self, kind: str, **content: Any) -> None:
        shown = {k: bounded(v) if isinstance(v, str) else v for k, v in content.items()}
        self._record(self.task.id, kind, shown)


def transcript_line(task_id: int, seq: int, kind: str, content: dict[str, Any], at: str) -> str:
    return json.dumps(
        {"task_id": task_id, "seq": seq, "kind": kind, "at": at, **content}, ensure_ascii=False
    )
