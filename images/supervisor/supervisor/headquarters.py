"""Headquarters' side of the bus: the one place a person posts tasks for the whole fleet.

A task goes to the stream of the host that runs its sandbox (headquarters' own sandboxes too,
through its own stream: every host takes its tasks the same way). It is accepted (201) only
once Redis has it. The hosts' reports come back on the status stream; each is written to the
ledger before it is acknowledged, in order, so one delivered again (after a restart) only
writes the same row again.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import redis

from .bus import (
    HOSTS_KEY,
    STATUS_GROUP,
    STATUS_STREAM,
    Bus,
    BusDown,
    Consumer,
    alive_key,
    tasks_stream,
)
from .fleet_config import FleetConfig
from .ledger import BadReport, Ledger

log = logging.getLogger("supervisor.headquarters")


class Headquarters:
    def __init__(self, bus: Bus, ledger: Ledger, fleet: FleetConfig) -> None:
        self.bus = bus
        self.ledger = ledger
        self.fleet = fleet
        self.dropped = ledger.drop_unsent()
        self._stop = threading.Event()
        self.consumer = Consumer(bus, STATUS_STREAM, STATUS_GROUP, fleet.host_name, self._report)
        self._thread = threading.Thread(
            target=bus.pump, args=("bus-status", self.consumer.pull, self._stop), name="bus-status",
            daemon=True,
        )  # fmt: skip

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def alive(self) -> bool:
        return self._thread.is_alive()

    def submit(self, host: str, sender: str, sandbox: str, prompt: str) -> dict[str, Any]:
        """Record the task and append it to its host's stream; BusDown: not accepted."""
        task = self.ledger.record(host, sender, sandbox, prompt)
        entry = {"kind": "task", "id": task["id"], "sender": sender, "sandbox": sandbox,
                 "prompt": prompt}  # fmt: skip
        try:
            self.bus.add(tasks_stream(host), entry)
        except BusDown:
            self.ledger.forget(task["id"])
            raise
        self.ledger.sent(task["id"])
        log.info("task sent", extra={"fields": {
            "event": "sent", "task_id": task["id"], "host": host, "sandbox": sandbox,
            "sender": sender, "prompt_chars": len(prompt)}})  # fmt: skip
        return task

    def cancel(self, task: dict[str, Any]) -> None:
        self.bus.add(tasks_stream(task["host"]), {"kind": "cancel", "id": task["id"]})
        self.ledger.cancel_requested(task["id"])

    def _report(self, entry_id: str, fields: dict[str, Any]) -> None:
        try:
            self.ledger.apply(str(fields["host"]), fields["task"])
        except (BadReport, KeyError) as exc:
            log.error(f"dropped a status entry {entry_id}: {exc}",
                      extra={"fields": {"event": "bus_bad_entry"}})  # fmt: skip

    def hosts(self) -> dict[str, dict[str, Any]]:
        """Every host of the fleet: what it last said of itself and whether it still says so
        (``alive``: None when the bus cannot tell)."""
        names = {*(self.fleet.sandboxes or {}).values(), self.fleet.host_name}
        found: dict[str, dict[str, Any]] = {
            name: {"name": name, "capabilities": [], "alive": None} for name in sorted(names)
        }
        try:
            said, alive = self.bus.call(lambda r: _presence(r, sorted(names)))
        except BusDown:
            return found
        for name, text in said.items():
            found.setdefault(name, {"name": name})
            found[name].update(json.loads(text))
        for name in found:
            found[name]["alive"] = name in alive
        return found


def _presence(r: redis.Redis, names: list[str]) -> tuple[dict[str, str], set[str]]:
    said: dict[str, str] = r.hgetall(HOSTS_KEY)
    every = sorted({*names, *said})
    flags = r.mget([alive_key(name) for name in every]) if every else []
    return said, {name for name, flag in zip(every, flags, strict=True) if flag}
