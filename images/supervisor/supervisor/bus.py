"""The fleet's bus: Redis Streams on headquarters, through the `redis` client (Debian's
python3-redis); no protocol code of our own.

Keys: each host's tasks stream (headquarters appends, the host pulls it in consumer group
``supervisors``), one status stream every host appends to and headquarters pulls (group
``headquarters``), and each host's presence (a hash of what it says of itself, a key that
expires when it stops saying it). A consumer acknowledges an entry only once what it carries is
in its own database, then deletes it: the streams hold only what is not yet taken.

Every call goes through :meth:`Bus.call`, which keeps the bus's state for /health (connected,
unreachable, refused) and logs each change of state once, rather than a traceback per retry.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar
from urllib.parse import urlsplit

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from .backoff import Backoff

log = logging.getLogger("supervisor.bus")

PREFIX = "sandbox-fleet"
STATUS_STREAM = f"{PREFIX}:status"
HOSTS_KEY = f"{PREFIX}:hosts"
TASKS_GROUP = "supervisors"
STATUS_GROUP = "headquarters"
# A blocking read returns at least this often, so a stopping thread never waits long.
BLOCK_MS = 1000
# The client's own retries (about 3 s in all) ride out a short Redis restart within one call:
# a task posted meanwhile waits rather than being refused. Past them the API answers 503 and
# the loops below wait with a capped backoff of their own.
RETRY = Retry(ExponentialBackoff(cap=1.0, base=0.05), 6)
LOOP_BACKOFF = (0.2, 5.0)  # seconds: first wait, longest wait between tries of a loop

T = TypeVar("T")


def tasks_stream(host: str) -> str:
    return f"{PREFIX}:tasks:{host}"


def alive_key(host: str) -> str:
    return f"{PREFIX}:alive:{host}"


class BusDown(Exception):
    """The bus cannot be used now; the message says why (for /health and the API's 503)."""


class Bus:
    def __init__(self, url: str, password: str, client: redis.Redis | None = None) -> None:
        parts = urlsplit(url)
        self.address = f"{parts.hostname}:{parts.port}"
        self.client = client or redis.Redis.from_url(
            url,
            password=password,
            decode_responses=True,
            socket_connect_timeout=5,
            socket_timeout=BLOCK_MS / 1000 + 10,
            retry=RETRY,
            retry_on_error=[redis.ConnectionError, redis.TimeoutError],
            health_check_interval=30,
        )
        self._lock = threading.Lock()
        self.state = "connecting"
        self.error: str | None = None

    def health(self) -> dict[str, Any]:
        with self._lock:
            return {"state": self.state, "address": self.address, "error": self.error}

    def call(self, fn: Callable[[redis.Redis], T]) -> T:
        """Run ``fn`` with the client; BusDown when Redis is away or refuses our password."""
        try:
            result = fn(self.client)
        except redis.AuthenticationError as exc:
            self._down("refused", _refused(exc))
        except redis.ResponseError as exc:
            if not str(exc).startswith(("WRONGPASS", "NOAUTH")):
                raise  # a command of ours is wrong: a bug to see, not a state of the bus
            self._down("refused", _refused(exc))
        except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
            self._down("unreachable", f"cannot reach the bus at {self.address}: {exc}")
        self._set("connected", None)
        return result

    def _down(self, state: str, error: str) -> NoReturn:
        self._set(state, error)
        raise BusDown(error)

    def _set(self, state: str, error: str | None) -> None:
        with self._lock:
            changed = (state, error) != (self.state, self.error)
            self.state, self.error = state, error
        if not changed:
            return
        fields = {"event": f"bus_{state}", "bus": self.address}
        if state == "connected":
            log.info("bus connected", extra={"fields": fields})
        else:  # once per change: a bus that stays away does not flood the log
            level = logging.ERROR if state == "refused" else logging.WARNING
            log.log(level, f"bus {state}: {error}", extra={"fields": fields})

    def ensure_group(self, stream: str, group: str) -> None:
        """Create the consumer group from the stream's start: entries added before the
        consumer first came up are its backlog."""

        def create(r: redis.Redis) -> None:
            try:
                r.xgroup_create(stream, group, id="0", mkstream=True)
            except redis.ResponseError as exc:
                if not str(exc).startswith("BUSYGROUP"):
                    raise

        self.call(create)

    def add(self, stream: str, fields: dict[str, Any]) -> str:
        """Append one entry (its fields as one JSON document); its id once Redis has it."""
        body = json.dumps(fields, ensure_ascii=False)
        return str(self.call(lambda r: r.xadd(stream, {"json": body})))

    def read(
        self, stream: str, group: str, consumer: str, pending: bool, count: int = 16
    ) -> list[tuple[str, dict[str, Any]]]:
        """This consumer's entries: those delivered to it but not acknowledged (``pending``,
        after a restart) or new ones, waiting up to BLOCK_MS for them."""
        start = "0" if pending else ">"
        block = None if pending else BLOCK_MS
        found = self.call(lambda r: r.xreadgroup(group, consumer, {stream: start}, count, block))
        taken = []
        for entry_id, body in found[0][1] if found else []:
            try:
                taken.append((entry_id, _fields(body)))
            except ValueError as exc:  # kept, it would come back after every restart
                log.error(f"dropped entry {entry_id} of {stream}: {exc}",
                          extra={"fields": {"event": "bus_bad_entry"}})  # fmt: skip
                self.done(stream, group, entry_id)
        return taken

    def done(self, stream: str, group: str, entry_id: str) -> None:
        """Acknowledge an entry whose content is safely stored, and drop it from the stream."""

        def ack(r: redis.Redis) -> None:
            pipe = r.pipeline(transaction=True)
            pipe.xack(stream, group, entry_id)
            pipe.xdel(stream, entry_id)
            pipe.execute()

        self.call(ack)

    def pump(self, name: str, step: Callable[[], None], stop: threading.Event) -> None:
        """Run ``step`` until ``stop``; while the bus is down, wait with a capped backoff."""
        backoff = Backoff(*LOOP_BACKOFF)
        failures = 0
        while not stop.is_set():
            try:
                step()
                failures = 0
            except BusDown:
                failures += 1
                stop.wait(backoff.delay(failures))
            except Exception:  # a bug must not end the loop for good: log it, go on slowly
                log.exception(f"{name} failed", extra={"fields": {"event": "bus_loop_error"}})
                stop.wait(LOOP_BACKOFF[1])


class Consumer:
    """This host's consumer of one stream's group: the entries delivered to it before a restart
    and never acknowledged first, then new ones. Each is acknowledged (and dropped) only after
    ``handle`` returned; if it raises, the entry stays pending and comes back."""

    def __init__(
        self,
        bus: Bus,
        stream: str,
        group: str,
        name: str,
        handle: Callable[[str, dict[str, Any]], None],
    ) -> None:
        self.bus, self.stream, self.group, self.name = bus, stream, group, name
        self.handle = handle
        self._group = False
        self._pending = True

    def pull(self) -> None:
        """Handle one batch (waiting up to BLOCK_MS for one)."""
        if not self._group:
            self.bus.ensure_group(self.stream, self.group)
            self._group, self._pending = True, True
        try:
            entries = self._read()
        except redis.ResponseError as exc:
            if not str(exc).startswith("NOGROUP"):
                raise
            self._group = False  # the bus lost its data (no AOF?): make the group again
            return
        for entry_id, fields in entries:
            try:
                self.handle(entry_id, fields)
                self.bus.done(self.stream, self.group, entry_id)
            except BaseException:
                self._pending = True  # the entry stays delivered to us: read it again next
                raise

    def _read(self) -> list[tuple[str, dict[str, Any]]]:
        if self._pending:
            if entries := self.bus.read(self.stream, self.group, self.name, pending=True):
                return entries
            self._pending = False
        return self.bus.read(self.stream, self.group, self.name, pending=False)


def _fields(body: dict[str, str] | None) -> dict[str, Any]:
    """An entry's JSON document; ValueError when it has none (a pending entry deleted since
    reads back empty) or it is not an object."""
    found = json.loads((body or {}).get("json", "null"))
    if not isinstance(found, dict):
        raise ValueError(f"expected a JSON object, got {found!r:.80}")
    return found


def _refused(exc: Exception) -> str:
    return (
        f"the bus refused our password ({exc}): SUPERVISOR_BUS_PASSWORD must be the bus's "
        "password (the stack secret the fleet sets it from)"
    )
