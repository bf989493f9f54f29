"""Supervisor -> model server on ai-net, and into a sandbox over SSH: the builtin runtime with
llama-server and its tiny random-weight model. Its replies carry no tool call, so each task ends
cleanly after one completion, `done` with llama-server's text; also after the model server was
killed and came back (the task waits for it, within its time budget)."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from tests.integration.fleet import PREFIX, Fleet, health, http_json, wait_healthy
from tests.support.git_daemon import wait_for

pytestmark = pytest.mark.docker

MODEL_SERVER = f"{PREFIX}model-server"
SUPERVISOR = f"{PREFIX}supervisor"


def post_task(fleet: Fleet, prompt: str) -> dict[str, Any]:
    status, task = http_json(
        f"{fleet.supervisor_url}/tasks",
        {"sender": "sfit", "sandbox": "hl-existing", "prompt": prompt},
        token=fleet.supervisor_token,
    )
    assert status == 201, task
    return dict(task)


def get_task(fleet: Fleet, task_id: Any) -> dict[str, Any]:
    return dict(
        http_json(f"{fleet.supervisor_url}/tasks/{task_id}", token=fleet.supervisor_token)[1]
    )


def finished(fleet: Fleet, task_id: Any, timeout_s: float = 120) -> dict[str, Any]:
    return wait_for(
        lambda: ((t := get_task(fleet, task_id))["status"] in ("done", "failed") and t) or None,
        f"task {task_id} finished", timeout_s,
    )  # fmt: skip


# llama-server's per-request timing line, e.g. "slot print_timing: id 3 | task 0 |
# eval time = 1948.37 ms / 483 tokens (...)"; "prompt eval time" lines are not generation.
GENERATED = re.compile(r"\|\s+eval time =\s+[\d.]+ ms /\s+(\d+) tokens")


def generations(fleet: Fleet, since: float, until: float) -> list[int]:
    """Tokens generated per completion llama-server ran in [since, until] (epoch seconds)."""
    logs = fleet.client.containers.get(MODEL_SERVER).logs(since=since, until=until + 1)
    return [int(m) for m in GENERATED.findall(logs.decode(errors="replace"))]


def test_task_is_done_with_text_llama_server_generated(fleet: Fleet) -> None:
    since = time.time()
    task = finished(fleet, post_task(fleet, "Say hello.")["id"])
    assert task["status"] == "done", task
    assert isinstance(task["result"], str) and task["result"].strip(), task
    assert [s["kind"] for s in task["steps"]] == ["model"] and task["commit_sha"] is None
    assert task["prompt_tokens"] > 0 and task["completion_tokens"] > 0
    # The text came from llama-server: it generated exactly one completion meanwhile (it is not
    # published, so only the fleet's own containers can reach it).
    made = generations(fleet, since, time.time())
    assert len(made) == 1 and made[0] > 0, made


def waits(task: dict[str, Any]) -> int:
    return sum(step["kind"] == "wait" for step in task["steps"])


def test_supervisor_finishes_the_next_task_once_the_model_server_is_back(fleet: Fleet) -> None:
    fleet.client.containers.get(MODEL_SERVER).kill()
    # `docker kill` counts as a manual stop: unless-stopped does not bring it back by itself.
    assert fleet.client.containers.get(MODEL_SERVER).status == "exited"
    try:
        task_id = post_task(fleet, "Are you back?")["id"]
        # While the server is down the task waits for it, not failed and not done.
        waiting = wait_for(
            lambda: (waits(t := get_task(fleet, task_id)) >= 2 and t) or None,
            "two waits while the model server is down", 60, every_s=0.5,
        )  # fmt: skip
        assert waiting["status"] == "running", waiting
        since = time.time()
    finally:
        fleet.client.containers.get(MODEL_SERVER).start()  # "once it is back"
    task = finished(fleet, task_id)
    assert task["status"] == "done" and task["result"].strip(), task
    assert task["attempts"] == 1, task
    assert generations(fleet, since, time.time()), "the restarted server generated nothing"
    wait_healthy(fleet.client, [MODEL_SERVER, SUPERVISOR], timeout_s=120)
    assert health(fleet.client, MODEL_SERVER) == "healthy"
