"""The tasks the API shows, by the supervisor's role: a host's own queue (a single host; a
member, which takes its tasks from the bus only), or headquarters' ledger of the whole fleet.
Both answer with the same task shape; the ledger's also names the task's ``host``."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any, Protocol

from .bus import BusDown
from .fleet_config import FleetConfig
from .headquarters import Headquarters
from .queue import TaskQueue
from .task import ENDED, Status
from .validation import BadRequest, unknown_sandbox
from .worker import WorkerPool

log = logging.getLogger("supervisor.api")


class Book(Protocol):
    def create(self, sender: str, sandbox: str, prompt: str) -> dict[str, Any]: ...

    def list(
        self, status: Status | None, sandbox: str | None, limit: int
    ) -> list[dict[str, Any]]: ...

    def get(self, task_id: int) -> dict[str, Any] | None: ...

    def cancel(self, task_id: int) -> tuple[HTTPStatus, dict[str, Any]]: ...


def _known(fleet: FleetConfig, sandbox: str) -> None:
    if fleet.sandboxes is not None and sandbox not in fleet.sandboxes:
        raise unknown_sandbox(sandbox, fleet.sandboxes)


def _not_found(task_id: int) -> BadRequest:
    return BadRequest(f"task {task_id} not found", HTTPStatus.NOT_FOUND)


def _ended(task_id: int, status: str) -> BadRequest:
    return BadRequest(f"task {task_id} has ended ({status})", HTTPStatus.CONFLICT)


class LocalBook:
    def __init__(self, queue: TaskQueue, pool: WorkerPool, fleet: FleetConfig) -> None:
        self.queue = queue
        self.pool = pool
        self.fleet = fleet

    def create(self, sender: str, sandbox: str, prompt: str) -> dict[str, Any]:
        if self.fleet.role == "member":
            # A task queued here would have no fleet-wide id: headquarters would never see it.
            raise BadRequest(
                f"this is the supervisor of host {self.fleet.host_name!r}, a member of the "
                "fleet: post tasks to headquarters' supervisor, which sends them here",
                HTTPStatus.CONFLICT,
            )
        _known(self.fleet, sandbox)
        task = self.queue.enqueue(sender, sandbox, prompt)
        self.pool.notify()
        log.info("task queued", extra={"fields": {
            "event": "queued", "task_id": task.id, "sandbox": sandbox, "sender": sender,
            "prompt_chars": len(prompt)}})  # fmt: skip
        return task.to_json()

    def list(self, status: Status | None, sandbox: str | None, limit: int) -> list[dict[str, Any]]:
        tasks = self.queue.list_tasks(status=status, sandbox=sandbox, limit=limit)
        return [t.to_json() for t in tasks]

    def get(self, task_id: int) -> dict[str, Any] | None:
        task = self.queue.get(task_id)
        return None if task is None else {**task.to_json(), "steps": self.queue.steps(task_id)}

    def cancel(self, task_id: int) -> tuple[HTTPStatus, dict[str, Any]]:
        """202 while a running task stops, 200 once it is cancelled, 409 if it had ended."""
        before = self.queue.get(task_id)
        if before is None:
            raise _not_found(task_id)
        if before.status in ENDED:
            raise _ended(task_id, before.status)
        task = self.queue.request_cancel(task_id)
        assert task is not None
        if task.status == "running":
            self.pool.cancel(task_id)
            return HTTPStatus.ACCEPTED, task.to_json()
        return HTTPStatus.OK, task.to_json()


class FleetBook:
    def __init__(self, hq: Headquarters) -> None:
        self.hq = hq

    def create(self, sender: str, sandbox: str, prompt: str) -> dict[str, Any]:
        fleet = self.hq.fleet
        _known(fleet, sandbox)
        host = fleet.host_of(sandbox)
        assert host is not None  # headquarters always has the fleet's map (fleet_config)
        try:
            return self.hq.submit(host, sender, sandbox, prompt)
        except BusDown as exc:
            raise _bus_down(exc) from None

    def list(self, status: Status | None, sandbox: str | None, limit: int) -> list[dict[str, Any]]:
        return self.hq.ledger.list_tasks(status, sandbox, limit)

    def get(self, task_id: int) -> dict[str, Any] | None:
        return self.hq.ledger.get(task_id)

    def cancel(self, task_id: int) -> tuple[HTTPStatus, dict[str, Any]]:
        """202: the cancel is on its way to the task's host (which answers like a single one)."""
        task = self.hq.ledger.get(task_id)
        if task is None:
            raise _not_found(task_id)
        if task["status"] in ENDED:
            raise _ended(task_id, task["status"])
        try:
            self.hq.cancel(task)
        except BusDown as exc:
            raise _bus_down(exc) from None
        return HTTPStatus.ACCEPTED, {**task, "cancel_requested": True}


def _bus_down(exc: BusDown) -> BadRequest:
    return BadRequest(f"not accepted: {exc}", HTTPStatus.SERVICE_UNAVAILABLE)
