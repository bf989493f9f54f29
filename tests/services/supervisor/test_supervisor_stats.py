"""GET /stats (a host's workload in a window: what the fleet view prints) and GET /fleet (the
web page's data), on a clock the test sets."""

from __future__ import annotations

from .bus_fleet import FakeClock, Gate, Spender, TwoHosts
from .conftest import StartSupervisor

ZERO = {"queued": 0, "running": 0, "done": 0, "failed": 0, "cancelled": 0}


def test_stats_count_tasks_per_state_and_tokens_of_the_last_24_hours(
    start_supervisor: StartSupervisor,
) -> None:
    clock = FakeClock()
    _, api = start_supervisor(
        runtime=Spender("solo", 1000, 200),
        clock=clock,
        SUPERVISOR_HOST_NAME="solo",
        SUPERVISOR_HOST_CAPABILITIES="headless",
    )
    old = api.submit("yesterday", sandbox="a")
    api.wait_status(old, "done")
    clock.advance(20)
    for prompt, sandbox in (("one", "a"), ("two", "b")):
        api.wait_status(api.submit(prompt, sandbox=sandbox), "done")
    clock.advance(5)  # `old` ended 25 h ago now, the other two 5 h ago
    status, _, stats = api.get("/stats")
    assert status == 200
    assert stats["host"] == {"name": "solo", "role": "single", "capabilities": ["headless"],
                             "runtime": "stub"}  # fmt: skip
    assert (stats["since"], stats["until"], stats["hours"]) == (
        "2031-03-04T11:30:00.000+00:00", "2031-03-05T11:30:00.000+00:00", 24
    )  # fmt: skip
    tokens = {"prompt_tokens": 2000, "completion_tokens": 400, "tokens": 2400}
    assert stats["tasks"] == {**ZERO, "done": 2, **tokens}
    assert stats["sandboxes"] == {
        "a": {**ZERO, "done": 1, "prompt_tokens": 1000, "completion_tokens": 200, "tokens": 1200},
        "b": {**ZERO, "done": 1, "prompt_tokens": 1000, "completion_tokens": 200, "tokens": 1200},
    }
    assert api.get("/stats?hours=26")[2]["tasks"]["done"] == 3
    assert api.get("/stats?hours=0")[0] == 400
    assert api.get("/stats?days=1")[2] == {
        "error": "unknown query parameter(s): days; allowed: hours"
    }


def test_queued_and_running_tasks_count_whatever_their_age(
    start_supervisor: StartSupervisor,
) -> None:
    clock, gate = FakeClock(), Gate("solo")
    _, api = start_supervisor(runtime=gate, clock=clock)
    running = api.submit("long", sandbox="a")
    api.wait_status(running, "running")
    api.submit("next", sandbox="a")  # waits: one task at a time per sandbox
    clock.advance(100)
    assert api.get("/stats")[2]["tasks"] == {
        **ZERO, "queued": 1, "running": 1, "prompt_tokens": 0, "completion_tokens": 0,
        "tokens": 0,
    }  # fmt: skip
    gate.release.set()


def test_stats_and_fleet_need_the_token(start_supervisor: StartSupervisor) -> None:
    _, api = start_supervisor()
    for path in ("/stats", "/fleet"):
        api.token = ""
        assert api.get(path)[0] == 401


def test_the_fleet_view_at_headquarters_shows_every_host_and_its_sandboxes(
    hosts: TwoHosts,
) -> None:
    clock = FakeClock()
    _, hq = hosts.start("hq", clock=clock)
    hosts.start("desk", clock=clock)
    first = hq.submit("a", sandbox="desk-box")
    hq.wait_status(first, "done")
    clock.advance(1)
    hq.wait_status(hq.submit("b", sandbox="hq-box"), "done")
    view = hq.get("/fleet")[2]
    assert (view["headquarters"], view["role"], view["hours"]) == ("hq", "headquarters", 24)
    by_name = {h["name"]: h for h in view["hosts"]}
    assert sorted(by_name) == ["desk", "hq"]
    desk = by_name["desk"]
    assert (desk["role"], desk["capabilities"], desk["alive"]) == (
        "member", ["headless", "visual", "gpu"], True
    )  # fmt: skip
    assert [s["name"] for s in desk["sandboxes"]] == ["desk-box", "desk-ui"]
    assert desk["sandboxes"][0] == {"name": "desk-box", **ZERO, "done": 1, "prompt_tokens": 100,
                                    "completion_tokens": 20, "tokens": 120}  # fmt: skip
    assert desk["tasks"]["done"] == 1 and by_name["hq"]["tasks"]["done"] == 1
    assert [(t["id"], t["host"]) for t in view["tasks"]] == [(first + 1, "hq"), (first, "desk")]
    hours = view["tokens_by_hour"]
    assert len(hours) == 24 and hours[-1]["hour"] == "2031-03-04T11:00Z"
    assert [h["tokens"] for h in hours[-2:]] == [120, 120]
    assert sum(h["tokens"] for h in hours) == 240
