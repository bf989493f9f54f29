"""Tasks across hosts over a real redis-server: headquarters routes each task to the host of its
sandbox, that host pulls it (acknowledged only once queued, taken once however often it is
delivered) and reports back, and nothing accepted is lost to a host or Redis being away."""

from __future__ import annotations

import sqlite3

import pytest
from supervisor.bus import STATUS_STREAM, TASKS_GROUP, tasks_stream
from supervisor.bus_queue import BusQueue

from .bus_fleet import Gate, TwoHosts
from .conftest import wait_until

DESK = tasks_stream("desk")


def test_a_task_runs_on_the_host_of_its_sandbox_and_shows_at_headquarters(
    hosts: TwoHosts,
) -> None:
    hq_sup, hq = hosts.start("hq")
    desk_sup, desk = hosts.start("desk")
    status, headers, task = hq.post("/tasks", {"sender": "ann", "sandbox": "desk-box",
                                               "prompt": "fix it"})  # fmt: skip
    assert (status, task["host"], task["status"]) == (201, "desk", "queued")
    assert headers["Location"] == f"/tasks/{task['id']}"
    done = hq.wait_status(task["id"], "done", "failed")
    assert (done["status"], done["result"], done["host"]) == ("done", "ran on desk: fix it", "desk")
    assert (done["prompt_tokens"], done["completion_tokens"], done["attempts"]) == (100, 20, 1)
    assert (done["sender"], done["created_at"]) == ("ann", task["created_at"])
    step = done["steps"][-1]  # the transcript in short: the long output cut
    assert (step["kind"], step["name"]) == ("tool", "run_command")
    assert step["output"].startswith("line\n") and step["output"].endswith("[600 more characters]")
    ran = desk.get("/tasks")[2]["tasks"]
    assert [(t["sandbox"], t["status"]) for t in ran] == [("desk-box", "done")]
    assert desk.get(f"/tasks/{ran[0]['id']}")[2]["steps"][-1]["output"] == "line\n" * 200
    assert hq_sup.queue.list_tasks() == []  # headquarters ran none of it

    own = hq.submit("mine", sandbox="hq-box")
    assert hq.wait_status(own, "done")["result"] == "ran on hq: mine"
    assert len(desk_sup.queue.list_tasks()) == 1
    listed = hq.get("/tasks")[2]["tasks"]
    assert [(t["id"], t["host"], t["status"]) for t in listed] == [
        (task["id"], "desk", "done"), (own, "hq", "done")
    ]  # fmt: skip


def test_a_task_for_a_sandbox_the_fleet_lacks_is_404_naming_the_known_ones(
    hosts: TwoHosts,
) -> None:
    _, hq = hosts.start("hq")
    status, _, payload = hq.post("/tasks", {"sender": "a", "sandbox": "desk-bx", "prompt": "p"})
    assert (status, payload["error"]) == (
        404,
        "sandbox 'desk-bx' is not in the fleet (did you mean 'desk-box'?); "
        "known sandboxes: desk-box, desk-ui, hq-box",
    )
    assert hq.get("/tasks")[2] == {"tasks": []}
    assert hosts.redis.client().exists(DESK) == 0  # nothing was sent anywhere


def test_a_member_takes_tasks_from_the_bus_only(hosts: TwoHosts) -> None:
    _, desk = hosts.start("desk")
    status, _, payload = desk.post("/tasks", {"sender": "a", "sandbox": "desk-box",
                                              "prompt": "p"})  # fmt: skip
    assert status == 409
    assert "host 'desk', a member of the fleet: post tasks to headquarters" in payload["error"]


def test_a_task_is_acknowledged_only_once_it_is_in_the_local_queue(
    hosts: TwoHosts, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, hq = hosts.start("hq")
    fleet_id = hq.submit("keep me", sandbox="desk-box")
    desk = hosts.unstarted("desk")
    try:
        assert desk.member is not None and isinstance(desk.queue, BusQueue)
        take = desk.queue.take
        monkeypatch.setattr(desk.queue, "take", _raise(sqlite3.OperationalError("disk I/O error")))
        with pytest.raises(sqlite3.OperationalError):
            desk.member.consumer.pull()
        bus = hosts.redis.client()
        assert bus.xpending(DESK, TASKS_GROUP)["pending"] == 1  # delivered, not acknowledged
        assert desk.queue.list_tasks() == []
        monkeypatch.setattr(desk.queue, "take", take)
        desk.member.consumer.pull()  # the same entry again, from the pending list
        assert [(t.prompt, t.status) for t in desk.queue.list_tasks()] == [("keep me", "queued")]
        assert desk.queue.local_id(fleet_id) == desk.queue.list_tasks()[0].id
        assert (bus.xpending(DESK, TASKS_GROUP)["pending"], bus.xlen(DESK)) == (0, 0)
    finally:
        desk.stop()


def test_a_task_delivered_again_after_a_restart_is_queued_once(
    hosts: TwoHosts, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, hq = hosts.start("hq")
    fleet_id = hq.submit("once", sandbox="desk-box")
    desk = hosts.unstarted("desk")
    assert desk.member is not None
    # Queued, then the process dies before its acknowledgement reaches Redis.
    monkeypatch.setattr(desk.bus, "done", _raise(SystemExit("killed before XACK")))
    with pytest.raises(SystemExit):
        desk.member.consumer.pull()
    desk.stop()
    monkeypatch.undo()
    bus = hosts.redis.client()
    assert bus.xpending(DESK, TASKS_GROUP)["pending"] == 1
    # Headquarters' own retry of an append can also deliver an id twice.
    bus.xadd(DESK, {"json": bus.xrange(DESK)[0][1]["json"]})
    _, desk_api = hosts.start("desk")  # the restart: pending entries first
    assert hq.wait_status(fleet_id, "done")["result"] == "ran on desk: once"
    wait_until(lambda: bus.xlen(DESK) == 0, "the desk's stream to be drained")
    assert [t["prompt"] for t in desk_api.get("/tasks")[2]["tasks"]] == ["once"]
    assert bus.xpending(DESK, TASKS_GROUP)["pending"] == 0


def test_a_host_that_was_down_takes_its_backlog_when_it_comes_back(hosts: TwoHosts) -> None:
    _, hq = hosts.start("hq")
    ids = [hq.submit(f"backlog {n}", sandbox="desk-box") for n in range(3)]
    assert {hq.get(f"/tasks/{i}")[2]["status"] for i in ids} == {"queued"}
    assert hosts.redis.client().xlen(DESK) == 3
    hosts.start("desk")
    results = [hq.wait_status(i, "done")["result"] for i in ids]
    assert results == [f"ran on desk: backlog {n}" for n in range(3)]


@pytest.mark.parametrize("kill", [False, True], ids=["sigterm", "sigkill"])
def test_a_redis_restart_loses_no_accepted_task(hosts: TwoHosts, kill: bool) -> None:
    _, hq = hosts.start("hq")
    before = [hq.submit(f"before {n}", sandbox="desk-box") for n in range(2)]
    hosts.redis.restart(kill=kill)
    _, desk = hosts.start("desk")
    assert [hq.wait_status(i, "done")["result"] for i in before] == [
        "ran on desk: before 0", "ran on desk: before 1"
    ]  # fmt: skip
    hosts.redis.restart(kill=kill)  # both supervisors running: they reconnect
    after = wait_until(lambda: _accepted(hq), "headquarters to accept a task again")
    assert hq.wait_status(after, "done")["result"] == "ran on desk: after"
    assert len(desk.get("/tasks")[2]["tasks"]) == 3


def test_reports_made_while_headquarters_is_down_are_taken_when_it_is_back(
    hosts: TwoHosts,
) -> None:
    hq_sup, hq = hosts.start("hq")
    gate = Gate("desk")
    hosts.start("desk", runtime=gate)
    task_id = hq.submit("while hq sleeps", sandbox="desk-box")
    hq.wait_status(task_id, "running")
    hq_sup.stop()
    gate.release.set()
    bus = hosts.redis.client()
    wait_until(lambda: bus.xlen(STATUS_STREAM) > 0, "the desk's report to wait for hq")
    _, hq = hosts.start("hq")
    done = hq.wait_status(task_id, "done")
    assert (done["result"], done["prompt_tokens"]) == ("ran on desk: while hq sleeps", 100)
    wait_until(lambda: bus.xlen(STATUS_STREAM) == 0, "the status stream to be drained")


def test_a_cancel_posted_to_headquarters_stops_the_task_on_its_host(hosts: TwoHosts) -> None:
    _, hq = hosts.start("hq")
    gate = Gate("desk")
    hosts.start("desk", runtime=gate)
    task_id = hq.submit("long", sandbox="desk-box")
    hq.wait_status(task_id, "running")
    status, _, payload = hq.post(f"/tasks/{task_id}/cancel", {})
    assert (status, payload["cancel_requested"]) == (202, True)
    cancelled = hq.wait_status(task_id, "cancelled", "done")
    assert (cancelled["status"], cancelled["error"]) == ("cancelled", "cancelled by request")
    assert hq.post(f"/tasks/{task_id}/cancel", {})[0] == 409


def _raise(exc: BaseException):
    def fail(*args: object, **kwargs: object) -> None:
        raise exc

    return fail


def _accepted(hq):
    status, _, task = hq.post("/tasks", {"sender": "t", "sandbox": "desk-box", "prompt": "after"})
    return task["id"] if status == 201 else None
