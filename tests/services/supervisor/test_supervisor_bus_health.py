"""The bus as /health and the API tell it: a wrong password, a Redis that is away."""

from __future__ import annotations

import logging
import time

from .bus_fleet import TwoHosts
from .conftest import Http, wait_until


def _health(api: Http, state: str) -> dict[str, object]:
    def reached() -> dict[str, object] | None:
        health = api.get("/health")[2]
        return health if health["bus"]["state"] == state else None

    found: dict[str, object] = wait_until(reached, f"the bus to be {state}")
    return found


def test_health_reports_the_host_its_capabilities_and_the_bus(hosts: TwoHosts) -> None:
    _, desk = hosts.start("desk")
    health = _health(desk, "connected")
    assert {k: health[k] for k in ("status", "host", "role", "capabilities")} == {
        "status": "ok",
        "host": "desk",
        "role": "member",
        "capabilities": ["headless", "visual", "gpu"],
    }
    assert health["bus"] == {"state": "connected", "address": f"127.0.0.1:{hosts.redis.port}",
                             "error": None}  # fmt: skip


def test_a_wrong_bus_password_is_a_clear_error_in_health_and_logged_once(
    hosts: TwoHosts, captured_logs: list[logging.LogRecord]
) -> None:
    _, desk = hosts.start("desk", SUPERVISOR_BUS_PASSWORD="not-the-password")
    health = _health(desk, "refused")
    status, _, again = desk.get("/health")
    assert (status, again["status"]) == (503, "unhealthy")
    assert again["reason"] == (
        "bus refused: the bus refused our password (WRONGPASS invalid username-password pair or "
        "user is disabled.): SUPERVISOR_BUS_PASSWORD must be the bus's password (the stack "
        "secret the fleet sets it from)"
    )
    assert health["bus"]["error"] in again["reason"]  # type: ignore[index]
    time.sleep(1.0)  # several tries of both bus threads; never an assertion on speed
    refused = [r for r in captured_logs if getattr(r, "fields", {}).get("event") == "bus_refused"]
    assert len(refused) == 1, [r.getMessage() for r in refused]
    assert refused[0].levelno == logging.ERROR and refused[0].exc_info is None
    assert "not-the-password" not in "".join(r.getMessage() for r in captured_logs)


def test_while_redis_is_away_headquarters_accepts_nothing_and_says_why(hosts: TwoHosts) -> None:
    _, hq = hosts.start("hq")
    _health(hq, "connected")
    hosts.redis.stop()
    status, _, payload = hq.post("/tasks", {"sender": "a", "sandbox": "hq-box", "prompt": "p"})
    assert status == 503
    assert payload["error"].startswith(
        f"not accepted: cannot reach the bus at 127.0.0.1:{hosts.redis.port}: "
    )
    assert hq.get("/tasks")[2] == {"tasks": []}  # nothing half-accepted shows
    health = _health(hq, "unreachable")
    assert hq.get("/health")[0] == 503 and "bus unreachable" in str(health)
    hosts.redis.start()
    _health(hq, "connected")
    task_id = hq.submit("back", sandbox="hq-box")
    assert hq.wait_status(task_id, "done")["result"] == "ran on hq: back"
