"""The builtin runtime end to end in-process: a real supervisor, FakeOpenAIServer scripted with
tool calls (every request checked against the chat-completions shape), and local stand-ins for
the sandboxes (conftest.LocalSandboxes: the supervisor's own shell scripts, run by bash in a git
repository instead of over SSH)."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.fake_openai import FakeOpenAIServer, tool_call

from .conftest import Http, LocalSandboxes, StartSupervisor, wait_until


@pytest.fixture
def model() -> Iterator[FakeOpenAIServer]:
    server = FakeOpenAIServer().start()
    yield server
    assert server.violations == [], "a request did not have the chat-completions shape"
    server.stop()


def builtin(start: StartSupervisor, model: FakeOpenAIServer, **env: str) -> Http:
    _, api = start(SUPERVISOR_RUNTIME="builtin", MODEL_URL=model.base_url, **env)
    return api


def edit_and_test(prompt: str) -> list[dict[str, Any]]:
    return [
        {"tool_calls": [tool_call("c1", "list_files")]},
        {"tool_calls": [tool_call("c2", "write_file", path="src/hello.txt", content="hello\n")]},
        {
            "tool_calls": [
                tool_call("c3", "edit_file", path="README.md", old_text="# ", new_text="# Project ")
            ]
        },
        {"tool_calls": [tool_call("c4", "run_command", command="cat src/hello.txt | wc -c")]},
        {"tool_calls": [tool_call("c5", "finish", summary="Add hello.txt and name the README")]},
    ]


def test_a_task_edits_runs_and_commits_on_the_branch_with_the_agents_name(
    start_supervisor: StartSupervisor, model: FakeOpenAIServer, sandboxes: LocalSandboxes,
    tmp_path: Path,
) -> None:  # fmt: skip
    model.scripts["greet"] = edit_and_test("greet")
    api = builtin(start_supervisor, model, SUPERVISOR_GIT_AUTHOR_SUFFIX=" (agent)")
    task = api.wait_status(api.submit("greet", sandbox="web", sender="ana"), "done", "failed")
    assert task["status"] == "done", task
    assert task["result"] == "Add hello.txt and name the README"
    assert sorted(task["files_changed"]) == ["README.md", "src/hello.txt"]
    log = sandboxes.git("web", "log", "-1", "--format=%H|%an|%s|%b")
    sha, author, subject, body = log.strip().split("|", 3)
    assert (sha, author, subject) == (task["commit_sha"], "sandbox web (agent)", task["result"])
    assert f"Task {task['id']} from ana" in body
    assert sandboxes.git("web", "branch", "--show-current").strip() == "web"
    assert sandboxes.git("web", "status", "--porcelain") == ""
    assert (task["prompt_tokens"], task["completion_tokens"]) == (7 * 5, 5 * 5)
    kinds = [s["kind"] for s in task["steps"]]
    assert kinds == ["model", "tool"] * 5 + ["commit"]
    run = task["steps"][7]
    assert (run["name"], run["output"]) == ("run_command", "exit 0\n6\n")
    # The same transcript on the logs volume, one line per step.
    lines = (tmp_path / "logs" / "tasks" / f"{task['id']}.jsonl").read_text().splitlines()
    assert [json.loads(line)["kind"] for line in lines] == kinds
    # What the model was told: the tools, and the result of each call before the next turn.
    last = model.requests[-1]
    assert {t["function"]["name"] for t in last["tools"]} >= {"run_command", "finish"}
    assert [m["content"] for m in last["messages"] if m["role"] == "tool"][-1] == "exit 0\n6\n"


def test_a_reply_without_a_tool_call_ends_the_task_cleanly(
    start_supervisor: StartSupervisor, model: FakeOpenAIServer, sandboxes: LocalSandboxes
) -> None:
    api = builtin(start_supervisor, model)
    task = api.wait_status(api.submit("just say hi", sandbox="quiet"), "done", "failed")
    assert (task["status"], task["result"]) == ("done", "fake-openai reply to: just say hi")
    assert task["commit_sha"] is None and task["files_changed"] == []
    assert sandboxes.git("quiet", "rev-list", "--count", "HEAD").strip() == "1"


def test_the_repositorys_agents_file_joins_the_instructions(
    start_supervisor: StartSupervisor, model: FakeOpenAIServer, sandboxes: LocalSandboxes
) -> None:
    (sandboxes.workspace("docs") / "AGENTS.md").write_text("Always run `make check`.\n")
    sandboxes.git("docs", "add", "AGENTS.md")
    sandboxes.git("docs", "commit", "-q", "-m", "agents")
    api = builtin(start_supervisor, model)
    api.wait_status(api.submit("anything", sandbox="docs"), "done")
    system = model.requests[0]["messages"][0]
    assert system["role"] == "system" and "Always run `make check`." in system["content"]
    assert "Call `finish` exactly once" in system["content"]  # the image's own instructions


def test_a_bad_tool_call_is_told_to_the_model_which_carries_on(
    start_supervisor: StartSupervisor, model: FakeOpenAIServer, sandboxes: LocalSandboxes
) -> None:
    model.scripts["escape"] = [
        {"tool_calls": [tool_call("a", "read_file", path="../other-sandbox/secret")]},
        {
            "tool_calls": [
                tool_call("b", "edit_file", path="README.md", old_text="nowhere", new_text="x")
            ]
        },
        {"tool_calls": [tool_call("c", "fly")]},
        {"tool_calls": [tool_call("d", "finish", summary="nothing to do")]},
    ]
    api = builtin(start_supervisor, model)
    task = api.wait_status(api.submit("escape", sandbox="box"), "done", "failed")
    outputs = [s["output"] for s in task["steps"] if s["kind"] == "tool"]
    assert outputs[0].startswith("error: path '../other-sandbox/secret' must be relative")
    assert outputs[1].startswith("error: old_text occurs 0 times in README.md")
    assert outputs[2].startswith("error: no tool 'fly'")
    assert task["status"] == "done" and task["commit_sha"] is None


def slow(prompt: str, seconds: int) -> list[dict[str, Any]]:
    return [
        {"tool_calls": [tool_call("w", "write_file", path=f"{prompt}.txt", content=prompt)]},
        {"tool_calls": [tool_call("s", "run_command", command=f"sleep {seconds}; date +%s.%N")]},
        {"tool_calls": [tool_call("f", "finish", summary=f"did {prompt}")]},
    ]


def test_three_tasks_for_one_sandbox_run_one_after_another_in_order(
    start_supervisor: StartSupervisor, model: FakeOpenAIServer, sandboxes: LocalSandboxes
) -> None:
    for name in ("first", "second", "third"):
        model.scripts[name] = slow(name, 1)
    api = builtin(start_supervisor, model, SUPERVISOR_WORKERS="3")
    ids = [api.submit(name, sandbox="one") for name in ("first", "second", "third")]
    tasks = [api.wait_status(i, "done", "failed") for i in ids]
    assert [t["status"] for t in tasks] == ["done"] * 3
    spans = [(t["steps"][0]["at"], t["steps"][-1]["at"]) for t in tasks]
    assert spans[0][1] < spans[1][0] and spans[1][1] < spans[2][0], spans
    subjects = sandboxes.git("one", "log", "--format=%s", "-3").split("\n")[:3]
    assert subjects == ["did third", "did second", "did first"]


def test_tasks_for_two_sandboxes_run_at_the_same_time(
    start_supervisor: StartSupervisor, model: FakeOpenAIServer, sandboxes: LocalSandboxes
) -> None:
    model.scripts["left"], model.scripts["right"] = slow("left", 2), slow("right", 2)
    api = builtin(start_supervisor, model, SUPERVISOR_WORKERS="2")
    ids = [api.submit("left", sandbox="a"), api.submit("right", sandbox="b")]
    tasks = [api.wait_status(i, "done", "failed") for i in ids]
    assert [t["status"] for t in tasks] == ["done", "done"]
    (a0, a1), (b0, b1) = [(t["steps"][0]["at"], t["steps"][-1]["at"]) for t in tasks]
    assert a0 < b1 and b0 < a1, "the two tasks did not overlap"


def test_a_cancel_mid_task_stops_it_commits_nothing_and_sets_its_changes_aside(
    start_supervisor: StartSupervisor, model: FakeOpenAIServer, sandboxes: LocalSandboxes
) -> None:
    model.scripts["long"] = [
        {"tool_calls": [tool_call("w", "write_file", path="half.txt", content="half done")]},
        {"tool_calls": [tool_call("s", "run_command", command="sleep 60")]},
        {"tool_calls": [tool_call("f", "finish", summary="never")]},
    ]
    api = builtin(start_supervisor, model)
    task_id = api.submit("long", sandbox="stop-me")
    wait_until(lambda: len(model.requests) >= 2, "the sleep to start")
    time.sleep(0.5)
    status, _, accepted = api.post(f"/tasks/{task_id}/cancel", {})
    assert (status, accepted["cancel_requested"]) == (202, True)
    task = api.wait_status(task_id, "cancelled", "done", "failed")
    assert task["status"] == "cancelled" and task["commit_sha"] is None, task
    assert sandboxes.git("stop-me", "rev-list", "--count", "HEAD").strip() == "1"
    assert sandboxes.git("stop-me", "status", "--porcelain") == ""  # left clean
    stash = sandboxes.git("stop-me", "stash", "list")
    assert f"sandbox-fleet task {task_id} (cancelled)" in stash and task["set_aside"]
    assert sandboxes.git("stop-me", "show", f"{task['set_aside']}:half.txt") == "half done"
    assert api.post(f"/tasks/{task_id}/cancel", {})[0] == 409  # it has ended


def test_a_queued_task_is_cancelled_before_it_starts(
    start_supervisor: StartSupervisor, model: FakeOpenAIServer, sandboxes: LocalSandboxes
) -> None:
    model.scripts["busy"] = slow("busy", 2)
    api = builtin(start_supervisor, model)
    busy, waiting = api.submit("busy", sandbox="q"), api.submit("cancelled-unrun", sandbox="q")
    status, _, task = api.post(f"/tasks/{waiting}/cancel", {})
    assert (status, task["status"]) == (200, "cancelled")
    assert api.wait_status(busy, "done")["status"] == "done"
    assert "cancelled-unrun" not in json.dumps(model.requests)


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({"SUPERVISOR_MAX_STEPS": "4"},
         "step budget exhausted: 4 steps (sandbox-fleet:supervisorStepBudget)"),
        ({"SUPERVISOR_MAX_TOKENS": "30"},
         "token budget exhausted: 36 of 30 tokens used (sandbox-fleet:supervisorTokenBudget)"),
        ({"SUPERVISOR_MAX_SECONDS": "2"},
         "time budget exhausted: 2 s (sandbox-fleet:supervisorTimeBudget)"),
    ],
)  # fmt: skip
def test_a_looping_script_is_stopped_by_its_budget(
    start_supervisor: StartSupervisor, model: FakeOpenAIServer, sandboxes: LocalSandboxes,
    env: dict[str, str], reason: str,
) -> None:  # fmt: skip
    loop = {
        "tool_calls": [tool_call("l", "run_command", command="echo more >> loop.txt; sleep 0.2")]
    }
    model.scripts["loop"] = [loop] * 500
    api = builtin(start_supervisor, model, **env)
    task = api.wait_status(api.submit("loop", sandbox="spin"), "failed", "done")
    assert (task["status"], task["error"]) == ("failed", reason)
    assert task["commit_sha"] is None and task["set_aside"]
    assert sandboxes.git("spin", "status", "--porcelain") == ""


def test_a_model_server_that_is_away_is_waited_for_within_the_task(
    start_supervisor: StartSupervisor, model: FakeOpenAIServer, sandboxes: LocalSandboxes
) -> None:
    model.fail_next = [503, 503]
    api = builtin(start_supervisor, model)
    task = api.wait_status(api.submit("patience", sandbox="w"), "done", "failed")
    assert task["status"] == "done" and task["attempts"] == 1
    waits = [s for s in task["steps"] if s["kind"] == "wait"]
    assert len(waits) == 2 and "HTTP 503" in waits[0]["reason"]


def test_work_left_uncommitted_by_someone_else_stops_the_task_and_is_not_touched(
    start_supervisor: StartSupervisor, model: FakeOpenAIServer, sandboxes: LocalSandboxes
) -> None:
    (sandboxes.workspace("mine") / "notes.txt").write_text("my own work\n")
    api = builtin(start_supervisor, model)
    task = api.wait_status(api.submit("tidy up", sandbox="mine"), "failed", "done")
    assert task["status"] == "failed"
    assert "has uncommitted changes that are not this task's (notes.txt)" in task["error"]
    assert (sandboxes.workspace("mine") / "notes.txt").read_text() == "my own work\n"
    assert model.requests == []


def test_the_cli_runtime_runs_its_command_in_the_sandbox_with_the_prompt_on_stdin(
    start_supervisor: StartSupervisor, sandboxes: LocalSandboxes
) -> None:
    command = 'cat > from-agent.txt; echo "task $SUPERVISOR_TASK_ID by $SUPERVISOR_SENDER"'
    _, api = start_supervisor(SUPERVISOR_RUNTIME="cli", SUPERVISOR_CLI_COMMAND=command)
    task = api.wait_status(api.submit("write this down", sandbox="cli", sender="bo"), "done",
                           "failed")  # fmt: skip
    assert task["status"] == "done", task
    assert task["result"] == f"task {task['id']} by bo"
    assert task["files_changed"] == ["from-agent.txt"]
    assert sandboxes.git("cli", "show", "HEAD:from-agent.txt") == "write this down"


def test_a_cancel_kills_the_running_command_and_its_children(
    start_supervisor: StartSupervisor, sandboxes: LocalSandboxes
) -> None:
    command = "sleep 300 & sleep 301; true"
    _, api = start_supervisor(SUPERVISOR_RUNTIME="cli", SUPERVISOR_CLI_COMMAND=command)
    task_id = api.submit("x", sandbox="kill")
    wait_until(lambda: api.get(f"/tasks/{task_id}")[2]["status"] == "running", "running")
    time.sleep(0.5)
    api.post(f"/tasks/{task_id}/cancel", {})
    assert api.wait_status(task_id, "cancelled", "failed", "done")["status"] == "cancelled"
    # The kill runs beside the task's end (over its own SSH call): wait for it, bounded, never
    # for the sleeps' own 300 s.
    workspace = sandboxes.workspace("kill")
    wait_until(lambda: not _sleeping_in(workspace), "the command's processes to be killed")


def _sleeping_in(workspace: Path) -> list[int]:
    """The live `sleep` processes working in `workspace`: this test's command's, never another
    `sleep 300` on the machine (a repository mirror's keeper, in its container, runs one)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            alive = "\nState:\tZ" not in (proc / "status").read_text()
            if (
                alive
                and (proc / "comm").read_text().strip() == "sleep"
                and ((proc / "cwd").resolve() == workspace.resolve())
            ):
                found.append(int(proc.name))
        except (OSError, ValueError):  # not a process, or it ended while being read
            continue
    return found


def test_a_sandbox_with_a_token_for_its_remote_pushes_the_branch(
    start_supervisor: StartSupervisor, model: FakeOpenAIServer, sandboxes: LocalSandboxes,
    tmp_path: Path,
) -> None:  # fmt: skip
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    for name in ("pusher", "keeper"):
        sandboxes.git(name, "remote", "add", "origin", str(remote))
    sandboxes.tokens["pusher"] = "GITHUB_TOKEN"  # the entry's repo_token: it can push
    for name in ("pusher", "keeper"):
        model.scripts[f"push {name}"] = [
            {"tool_calls": [tool_call("w", "write_file", path=f"{name}.txt", content=name)]},
            {"tool_calls": [tool_call("f", "finish", summary=f"{name} work")]},
        ]
    api = builtin(start_supervisor, model)
    pushed = api.wait_status(api.submit("push pusher", sandbox="pusher"), "done", "failed")
    kept = api.wait_status(api.submit("push keeper", sandbox="keeper"), "done", "failed")
    assert pushed["pushed"] == "pushed" and kept["pushed"] is None, (pushed, kept)
    heads = subprocess.run(["git", "-C", str(remote), "branch", "--list"], capture_output=True,
                           text=True, check=True).stdout.split()  # fmt: skip
    assert heads == ["pusher"]


def test_a_lesson_remembered_in_one_sandbox_reaches_the_next_task_in_another(
    start_supervisor: StartSupervisor, model: FakeOpenAIServer, sandboxes: LocalSandboxes,
    tmp_path: Path,
) -> None:  # fmt: skip
    model.scripts["learn"] = [
        {"tool_calls": [tool_call("r", "remember", note="The tests need  make\nsetup first.")]},
        {"tool_calls": [tool_call("f", "finish", summary="learned")]},
    ]
    api = builtin(start_supervisor, model)
    first = api.wait_status(api.submit("learn", sandbox="one"), "done", "failed")
    assert first["steps"][1]["output"] == "noted for the later tasks on this repository"
    notes = (tmp_path / "memory" / "NOTES.md").read_text()
    assert notes.endswith(f"task {first['id']} (one): The tests need make setup first.\n")
    api.wait_status(api.submit("go on", sandbox="two"), "done")
    system = next(r for r in model.requests if r["messages"][1]["content"] == "go on")
    assert "The tests need make setup first." in system["messages"][0]["content"]
    assert sandboxes.git("one", "status", "--porcelain") == "", "memory is not the workspace"


def test_a_sandbox_without_a_repository_has_no_memory_to_write(
    start_supervisor: StartSupervisor, model: FakeOpenAIServer, tmp_path: Path
) -> None:
    model.scripts["note"] = [
        {"tool_calls": [tool_call("r", "remember", note="x")]},
        {"tool_calls": [tool_call("f", "finish", summary="tried")]},
    ]
    api = builtin(start_supervisor, model, SUPERVISOR_SANDBOX_MEMORY=str(tmp_path / "none"))
    task = api.wait_status(api.submit("note", sandbox="bare"), "done", "failed")
    assert task["steps"][1]["output"] == "error: this sandbox has no memory (it has no repository)"
