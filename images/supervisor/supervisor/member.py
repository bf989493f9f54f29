"""A host's side of the bus (every host of a fleet, headquarters too): it pulls its own tasks
stream, so nothing ever has to reach it (a desktop behind NAT works), and reports back.

- Pull: first the entries delivered to it before a restart and never acknowledged, then new
  ones. Each is acknowledged only once it is in the local queue; one delivered twice is taken
  once (bus_queue.py). A host that was down finds its backlog waiting in its stream.
- Report: every change of a task it took (status, tokens, a step of its transcript) goes to the
  status stream, in order; and every PRESENCE_SECONDS what the host is (its capabilities, its
  sandboxes), with a key that expires when it stops saying so.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

import redis

from .bus import (
    HOSTS_KEY,
    STATUS_STREAM,
    TASKS_GROUP,
    Bus,
    Consumer,
    alive_key,
    tasks_stream,
)
from .bus_queue import BusQueue
from .fleet_config import FleetConfig
from .worker import WorkerPool

log = logging.getLogger("supervisor.member")

PRESENCE_SECONDS = 10.0


class Member:
    def __init__(
        self,
        bus: Bus,
        queue: BusQueue,
        pool: WorkerPool,
        fleet: FleetConfig,
        runtime_name: str,
        poll_interval: float = 0.5,
    ) -> None:
        self.bus = bus
        self.queue = queue
        self.pool = pool
        self.fleet = fleet
        self.host = fleet.host_name
        self.stream = tasks_stream(self.host)
        self.runtime_name = runtime_name
        self.poll_interval = poll_interval
        self._stop = threading.Event()
        self.consumer = Consumer(bus, self.stream, TASKS_GROUP, self.host, self._take)
        self._next_presence = 0.0
        self._threads = [
            threading.Thread(target=bus.pump, args=(name, step, self._stop), name=name,
                             daemon=True)
            for name, step in (("bus-pull", self.consumer.pull), ("bus-report", self.report))
        ]  # fmt: skip

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout)

    def alive(self) -> bool:
        return all(thread.is_alive() for thread in self._threads)

    def _take(self, entry_id: str, fields: dict[str, Any]) -> None:
        try:
            self._apply(fields)
        except (KeyError, TypeError, ValueError) as exc:  # dropped: it would come back forever
            log.error(f"dropped a malformed task entry {entry_id}: {exc!r}",
                      extra={"fields": {"event": "bus_bad_entry"}})  # fmt: skip

    def _apply(self, fields: dict[str, Any]) -> None:
        fleet_id = int(fields["id"])
        if fields.get("kind") == "cancel":
            local = self.queue.local_id(fleet_id)
            task = self.queue.request_cancel(local) if local is not None else None
            if task is not None and task.status == "running":
                self.pool.cancel(task.id)
            return
        sandbox = str(fields["sandbox"])
        owner = self.fleet.host_of(sandbox)
        refused = (
            None
            if owner in (None, self.host)
            else f"sandbox {sandbox!r} lives on host {owner!r}, not on {self.host!r}"
        )
        task = self.queue.take(
            fleet_id, str(fields["sender"]), sandbox, str(fields["prompt"]), refused
        )
        if task is None:
            return  # delivered before: it is queued (or has run) already
        self.pool.notify()
        log.info("task taken from the bus", extra={"fields": {
            "event": "taken", "task_id": task.id, "fleet_id": fleet_id, "sandbox": sandbox,
            "refused": refused}})  # fmt: skip

    def report(self) -> None:
        """Publish the tasks that changed (and, when due, this host's presence)."""
        self._presence()
        changed = self.queue.changed()
        for task_id, fleet_id, version in changed:
            task = self.queue.report(task_id, fleet_id)
            if task is not None:
                self.bus.add(STATUS_STREAM, {"kind": "status", "host": self.host, "task": task})
            self.queue.reported(task_id, version)
        if not changed:
            self._stop.wait(self.poll_interval)

    def _presence(self) -> None:
        now = time.monotonic()
        if now < self._next_presence:
            return
        me = {
            "name": self.host,
            "role": self.fleet.role,
            "capabilities": list(self.fleet.capabilities),
            "runtime": self.runtime_name,
            "sandboxes": sorted(
                s for s, h in (self.fleet.sandboxes or {}).items() if h == self.host
            ),
        }

        def say(r: redis.Redis) -> None:
            pipe = r.pipeline(transaction=True)
            pipe.hset(HOSTS_KEY, self.host, json.dumps(me))
            pipe.set(alive_key(self.host), "1", ex=int(PRESENCE_SECONDS * 3))
            pipe.execute()

        self.bus.call(say)
        self._next_presence = now + PRESENCE_SECONDS
