"""The HTTP API against a real server on 127.0.0.1 (ephemeral port), stub runtime."""

from __future__ import annotations

import pytest

from .conftest import Http, StartSupervisor

GOOD = {"sender": "alice", "sandbox": "feature-x", "prompt": "say hi"}


@pytest.fixture
def api(start_supervisor: StartSupervisor) -> Http:
    return start_supervisor()[1]


def test_post_creates_a_queued_task_that_the_stub_runtime_completes(api: Http) -> None:
    status, headers, task = api.post("/tasks", GOOD)
    assert status == 201
    assert headers["Location"] == f"/tasks/{task['id']}"
    assert {k: task[k] for k in ("sender", "sandbox", "prompt", "status", "attempts")} == {
        **GOOD,
        "status": "queued",
        "attempts": 0,
    }
    assert set(task) == {
        "id",
        "sender",
        "sandbox",
        "prompt",
        "status",
        "result",
        "error",
        "attempts",
        "created_at",
        "updated_at",
        "cancel_requested",
        "commit_sha",
        "files_changed",
        "pushed",
        "set_aside",
        "prompt_tokens",
        "completion_tokens",
    }
    done = api.wait_status(task["id"], "done", "failed")
    assert done["status"] == "done"
    assert done["result"].startswith("stub: sandbox=feature-x sender=alice sha256=")
    assert done["result"].endswith(" say hi")
    assert (done["attempts"], done["error"]) == (1, None)
    assert done["steps"] == []  # the stub records no steps; GET /tasks/<id> lists them


def test_cancel_answers_by_the_tasks_state(api: Http) -> None:
    assert api.post("/tasks/999/cancel", {})[0] == 404
    assert api.post("/tasks/x/cancel", {})[0] == 400
    assert api.request("GET", "/tasks/1/cancel")[0] == 405
    task_id = api.submit("quick")
    api.wait_status(task_id, "done")
    status, _, body = api.post(f"/tasks/{task_id}/cancel", {})
    assert (status, body["error"]) == (409, f"task {task_id} has ended (done)")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"sandbox": "a", "prompt": "p"}, "field 'sender' is required"),
        ({"sender": "s", "prompt": "p"}, "field 'sandbox' is required"),
        ({"sender": "s", "sandbox": "a"}, "field 'prompt' is required"),
        ({**GOOD, "prompt": 42}, "field 'prompt' must be a string, got int"),
        ({**GOOD, "sender": "  "}, "field 'sender' must not be empty"),
        ({**GOOD, "sandbox": "-rf"}, "field 'sandbox' is not a valid sandbox name: '-rf'"),
        ({**GOOD, "sandbox": "a/b"}, "field 'sandbox' is not a valid sandbox name"),
        ({**GOOD, "priority": 1}, "unknown field(s): priority"),
        (["sender", "sandbox", "prompt"], "body must be a JSON object"),
    ],
)
def test_invalid_bodies_are_400_naming_the_field(api: Http, body: object, message: str) -> None:
    status, _, payload = api.post("/tasks", body)
    assert status == 400
    assert message in payload["error"]
    assert api.get("/tasks")[2] == {"tasks": []}  # nothing was queued


def test_malformed_requests(api: Http) -> None:
    status, _, payload = api.request("POST", "/tasks", raw=b"{not json")
    assert (status, payload["error"].startswith("body is not valid JSON")) == (400, True)
    status, _, payload = api.request("POST", "/tasks", GOOD, headers={"Content-Type": "text/plain"})
    assert (status, payload["error"]) == (415, "Content-Type must be application/json")
    # Declared length over the limit: refused before any of the body is read. (A real oversize
    # upload can see the connection closed mid-send, which is not what this checks.)
    status, _, payload = api.request(
        "POST", "/tasks", raw=b"{}", headers={"Content-Length": str(1024 * 1024 + 1)}
    )
    assert status == 413 and "larger than" in payload["error"]


def test_get_unknown_and_bad_ids(api: Http) -> None:
    status, _, payload = api.get("/tasks/999")
    assert (status, payload) == (404, {"error": "task 999 not found"})
    status, _, payload = api.get("/tasks/abc")
    assert status == 400 and "positive integer" in payload["error"]
    status, _, payload = api.get("/nowhere")
    assert (status, payload) == (404, {"error": "no route for /nowhere"})


def test_wrong_method_is_405_with_allow(api: Http) -> None:
    status, headers, payload = api.request("DELETE", "/tasks")
    assert (status, headers["Allow"]) == (405, "GET, POST")
    assert "DELETE not allowed" in payload["error"]
    status, headers, _ = api.request("POST", "/health", {})
    assert (status, headers["Allow"]) == (405, "GET")


def test_list_filters_by_status_and_sandbox(api: Http) -> None:
    ids = {
        api.submit("p1", sandbox="a"),
        api.submit("p2", sandbox="b"),
        api.submit("p3", sandbox="a"),
    }
    for task_id in ids:
        assert api.wait_status(task_id, "done", "failed")["status"] == "done"
    status, _, listing = api.get("/tasks?status=done&sandbox=a")
    assert status == 200
    assert [t["prompt"] for t in listing["tasks"]] == ["p1", "p3"]
    assert api.get("/tasks?status=queued")[2] == {"tasks": []}
    assert [t["prompt"] for t in api.get("/tasks?limit=2")[2]["tasks"]] == ["p1", "p2"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=finished", "query parameter 'status'='finished' is not one of queued, running"),
        ("colour=red", "unknown query parameter(s): colour"),
        ("limit=0", "query parameter 'limit' must be an integer 1..1000"),
        ("status=done&status=failed", "query parameter 'status' given more than once"),
    ],
)
def test_list_rejects_bad_queries(api: Http, query: str, message: str) -> None:
    status, _, payload = api.get(f"/tasks?{query}")
    assert status == 400 and message in payload["error"]


def test_health_reports_the_supervisor_and_its_runtime(api: Http) -> None:
    assert api.get("/health")[0::2] == (
        200,
        {"status": "ok", "runtime": "stub", "workers": 1, "host": "", "role": "single",
         "capabilities": []},
    )  # fmt: skip


def test_health_reports_the_hosts_name_and_capabilities(start_supervisor: StartSupervisor) -> None:
    _, api = start_supervisor(
        SUPERVISOR_HOST_NAME="desk", SUPERVISOR_HOST_CAPABILITIES="visual, headless,visual"
    )
    status, _, health = api.get("/health")
    assert status == 200
    assert (health["host"], health["role"], health["capabilities"]) == (
        "desk", "single", ["headless", "visual"]
    )  # fmt: skip
    assert "bus" not in health  # a single host runs no bus


def test_a_single_host_given_the_fleets_sandboxes_refuses_others_by_name(
    start_supervisor: StartSupervisor,
) -> None:
    _, api = start_supervisor(SUPERVISOR_FLEET_SANDBOXES='{"feature-x": "hq", "audit": "hq"}')
    status, _, payload = api.post("/tasks", {**GOOD, "sandbox": "featur-x"})
    assert (status, payload["error"]) == (
        404,
        "sandbox 'featur-x' is not in the fleet (did you mean 'feature-x'?); "
        "known sandboxes: audit, feature-x",
    )
    assert api.get("/tasks")[2] == {"tasks": []}
    assert api.post("/tasks", GOOD)[0] == 201


def test_api_token_guards_tasks_but_not_health(start_supervisor: StartSupervisor) -> None:
    _, api = start_supervisor(SUPERVISOR_API_TOKEN="s3cret")
    anonymous = Http(api.base)
    status, headers, payload = anonymous.post("/tasks", GOOD)
    assert (status, headers["WWW-Authenticate"]) == (401, "Bearer")
    assert payload == {"error": "missing or wrong bearer token"}
    assert Http(api.base, token="wrong").get("/tasks/1")[0] == 401
    assert anonymous.get("/health")[0] == 200
    assert api.post("/tasks", GOOD)[0] == 201
