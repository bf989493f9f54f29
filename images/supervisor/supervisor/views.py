"""What GET /stats and GET /fleet answer.

/stats: this host's workload (its own queue) in the window: what `python -m components.cli
status` shows for each stack. /fleet: the corporation view of the web page: on headquarters
every host (what it said of itself on the bus, whether it still says so), its sandboxes and
their workload, the latest tasks and the tokens spent per hour; elsewhere the same for the one
host.
"""

from __future__ import annotations

from typing import Any

from .fleet_config import FleetConfig
from .headquarters import Headquarters
from .queue import Clock, TaskQueue, stamp
from .stats import activity, since, tokens_by_hour, total

RECENT_TASKS = 50
CHART_HOURS = 48  # at most this many bars, whatever the window


class Views:
    def __init__(
        self,
        fleet: FleetConfig,
        runtime_name: str,
        queue: TaskQueue,
        clock: Clock,
        hq: Headquarters | None = None,
    ) -> None:
        self.fleet = fleet
        self.runtime_name = runtime_name
        self.queue = queue
        self.clock = clock
        self.hq = hq

    def _me(self) -> dict[str, Any]:
        return {
            "name": self.fleet.host_name,
            "role": self.fleet.role,
            "capabilities": list(self.fleet.capabilities),
            "runtime": self.runtime_name,
        }

    def stats(self, hours: int) -> dict[str, Any]:
        until = self.clock()
        start = since(until, hours)
        per = {key[0]: v for key, v in activity(self.queue.read, "tasks", start).items()}
        return {
            "host": self._me(),
            "since": start,
            "until": stamp(until),
            "hours": hours,
            "tasks": total(list(per.values())),
            "sandboxes": dict(sorted(per.items())),
        }

    def fleet_view(self, hours: int) -> dict[str, Any]:
        until = self.clock()
        start = since(until, hours)
        read = self.queue.read
        if self.hq is not None:
            table = "fleet_tasks"
            hosts = self.hq.hosts()
            recent = self.hq.ledger.list_tasks(limit=RECENT_TASKS, newest=True)
            found = activity(read, table, start, ("host", "sandbox"))
        else:
            table = "tasks"
            hosts = {self.fleet.host_name: {**self._me(), "alive": True}}
            tasks = self.queue.list_tasks(limit=RECENT_TASKS, newest=True)
            recent = [{**t.to_json(), "host": self.fleet.host_name} for t in tasks]
            found = {(self.fleet.host_name, *k): v for k, v in activity(read, table, start).items()}
        return {
            "headquarters": self.fleet.host_name if self.hq is not None else None,
            "role": self.fleet.role,
            "since": start,
            "until": stamp(until),
            "hours": hours,
            "hosts": [self._host(info, found) for _, info in sorted(hosts.items())],
            "tasks": recent,
            "tokens_by_hour": tokens_by_hour(read, table, until, min(hours, CHART_HOURS)),
        }

    def _host(
        self, info: dict[str, Any], found: dict[tuple[str, ...], dict[str, int]]
    ) -> dict[str, Any]:
        name = info["name"]
        mapped = [s for s, h in (self.fleet.sandboxes or {}).items() if h == name]
        per = {k[1]: v for k, v in found.items() if k[0] == name}
        sandboxes = [{"name": s, **per.get(s, total([]))} for s in sorted({*mapped, *per})]
        return {
            **info,
            "sandboxes": sandboxes,
            "tasks": total(list(per.values())),
        }
