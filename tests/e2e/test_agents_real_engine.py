"""Agents at work (issue #13) on the real Pulumi engine and a real Docker engine: the supervisor
takes tasks over its API and runs them in the sandboxes over SSH on ai-net, with the builtin
runtime against a scripted OpenAI-compatible test double (tests/support/fake_openai.py: it
checks every request against the chat-completions shape and answers from a script of tool
calls), and commits on each sandbox's branch in its workspace volume.

The double listens on the default bridge's gateway, where the containers reach the host (as the
integration tests' git daemon does); the sandboxes clone from a local git daemon. One stack for
the module; each test has sandboxes of its own. As in every e2e test, the program runs without
its pids-limit commands (pulumi-command cannot be built here: docs/engine.md).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import docker
import pytest

from tests.integration.fleet import http_json
from tests.integration.png import decode_png
from tests.support.fake_openai import FakeOpenAIServer, tool_call
from tests.support.git_daemon import bridge_gateway, git_daemon, port_block, wait_for
from tests.support.pulumi_cli import Project, copy_project, install_engine

from .conftest import TASK_API_TOKEN, init_host_stack, remove_named

pytestmark = pytest.mark.docker

PREFIX = "sfeag-"
SANDBOXES = ("alpha", "beta", "gamma", "delta", "eps")
DESKTOP = "ui"  # a visual sandbox: its agent also has the browser tools
TOOLS = "tools"  # a sandbox on a toolchain of its own (`image: {dockerfile: ...}`)
# Like Ubuntu's images, it has a user 1000 of its own, which the fleet's layer makes `dev`.
TOOLCHAIN = """FROM debian:bookworm-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y -q jq \\
 && rm -rf /var/lib/apt/lists/* && useradd --uid 1000 --create-home builder
"""


@dataclass
class Agents:
    project: Project
    engine: docker.DockerClient
    model: FakeOpenAIServer
    api: str

    def submit(self, sandbox: str, prompt: str, sender: str = "e2e") -> int:
        status, task = http_json(f"{self.api}/tasks", {"sender": sender, "sandbox": sandbox,
                                 "prompt": prompt}, token=TASK_API_TOKEN)  # fmt: skip
        assert status == 201, task
        return int(task["id"])

    def task(self, task_id: int) -> dict[str, Any]:
        return dict(http_json(f"{self.api}/tasks/{task_id}", token=TASK_API_TOKEN)[1])

    def ended(self, task_id: int, timeout_s: float = 180) -> dict[str, Any]:
        return wait_for(
            lambda: (t if (t := self.task(task_id))["status"] in ("done", "failed", "cancelled")
                     else None),
            f"task {task_id} to end", timeout_s, every_s=0.5,
        )  # fmt: skip

    def git(self, sandbox: str, *args: str) -> str:
        code, out = self.engine.containers.get(f"{PREFIX}{sandbox}").exec_run(
            ["git", "-C", "/workspace", *args], user="1000"
        )
        assert code == 0, out
        return str(out.decode())


@pytest.fixture(scope="module")
def agents(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agents]:
    from tests.support import ensure_base_image

    engine = docker.from_env(timeout=300)
    ensure_base_image(engine)
    remove_named(engine, PREFIX)
    work = tmp_path_factory.mktemp("agents")
    gateway = bridge_gateway(engine)
    model = FakeOpenAIServer(host=gateway).start()
    with git_daemon(work / "git", gateway) as git:
        project = Project(copy_project(work / "checkout"), install_engine(), work / "state")
        kinds = {name: "task: refactor" for name in SANDBOXES} | {
            DESKTOP: "task: frontend-dev",
            TOOLS: "task: test, image: {dockerfile: toolchains/jq/Dockerfile}",
        }
        # Pinned below the ephemeral range (a derived port was once taken mid-`up`); SSH, noVNC.
        first = port_block(2 * len(kinds))
        entries = "".join(
            f"  {name}: {{{kind}, ssh_port: {first + 2 * i}}}\n"
            for i, (name, kind) in enumerate(kinds.items())
        )
        toolchain = project.directory / "toolchains" / "jq" / "Dockerfile"
        toolchain.parent.mkdir(parents=True)
        toolchain.write_text(TOOLCHAIN)
        spec = f"version: 1\ndefaults:\n  repo: {git.url}\nsandboxes:\n{entries}"
        init_host_stack(project, PREFIX, spec, supervisorModelUrl=model.base_url,
                        supervisorWorkers="3", supervisorStepBudget="6",
                        gitAuthorSuffix=" (agent)")  # fmt: skip
        try:
            project.run("up", "--yes")
            api = project.outputs()["supervisor"]["apiUrl"]
            yield Agents(project, engine, model, api)
        finally:
            project.run("destroy", "--yes", "--exclude-protected", check=False)
            remove_named(engine, PREFIX)
            model.stop()
    assert model.violations == [], "a request did not have the chat-completions shape"


def test_a_task_edits_a_file_runs_a_command_and_commits_on_the_branch(agents: Agents) -> None:
    agents.model.scripts["add a changelog"] = [
        {"tool_calls": [tool_call("1", "write_file", path="CHANGELOG.md", content="- agents\n")]},
        {
            "tool_calls": [
                tool_call(
                    "2", "edit_file", path="README.md", old_text="fixture", new_text="agent-edited"
                )
            ]
        },
        {"tool_calls": [tool_call("3", "run_command", command="cat README.md CHANGELOG.md")]},
        {"tool_calls": [tool_call("4", "finish", summary="Add a changelog")]},
    ]
    task = agents.ended(agents.submit("alpha", "add a changelog", sender="ana"))
    assert task["status"] == "done", task
    assert sorted(task["files_changed"]) == ["CHANGELOG.md", "README.md"]
    run = next(s for s in task["steps"] if s["kind"] == "tool" and s["name"] == "run_command")
    assert run["output"] == "exit 0\nagent-edited repository\n- agents\n"
    log = agents.git("alpha", "log", "-1", "--format=%H|%an|%s").strip()
    assert log == f"{task['commit_sha']}|sandbox alpha (agent)|Add a changelog"
    assert agents.git("alpha", "branch", "--show-current").strip() == "alpha"
    assert agents.git("alpha", "status", "--porcelain") == ""
    # The transcript is on the logs volume too.
    code, out = agents.engine.containers.get(f"{PREFIX}supervisor").exec_run(
        ["cat", f"/logs/supervisor/tasks/{task['id']}.jsonl"]
    )
    assert code == 0 and [json.loads(line)["kind"] for line in out.decode().splitlines()] == [
        s["kind"] for s in task["steps"]
    ]


def sleepy(name: str) -> list[dict[str, Any]]:
    return [
        {"tool_calls": [tool_call("w", "write_file", path=f"{name}.txt", content=name)]},
        {"tool_calls": [tool_call("s", "run_command", command="sleep 3")]},
        {"tool_calls": [tool_call("f", "finish", summary=f"did {name}")]},
    ]


def span(task: dict[str, Any]) -> tuple[str, str]:
    return task["steps"][0]["at"], task["steps"][-1]["at"]


def test_two_sandboxes_run_tasks_at_the_same_time(agents: Agents) -> None:
    agents.model.scripts["left"], agents.model.scripts["right"] = sleepy("left"), sleepy("right")
    left, right = agents.submit("beta", "left"), agents.submit("gamma", "right")
    (a0, a1), (b0, b1) = span(agents.ended(left)), span(agents.ended(right))
    assert a0 < b1 and b0 < a1, "the two tasks did not overlap"


def test_three_tasks_for_one_sandbox_run_in_order(agents: Agents) -> None:
    for name in ("one", "two", "three"):
        agents.model.scripts[name] = sleepy(name)
    ids = [agents.submit("delta", name) for name in ("one", "two", "three")]
    tasks = [agents.ended(i) for i in ids]
    assert [t["status"] for t in tasks] == ["done"] * 3
    assert span(tasks[0])[1] < span(tasks[1])[0] and span(tasks[1])[1] < span(tasks[2])[0]
    assert agents.git("delta", "log", "--format=%s", "-3").split() == [
        "did", "three", "did", "two", "did", "one"]  # fmt: skip


def test_a_cancel_mid_task_leaves_no_commit(agents: Agents) -> None:
    agents.model.scripts["stop me"] = [
        {"tool_calls": [tool_call("w", "write_file", path="half.txt", content="half")]},
        {"tool_calls": [tool_call("s", "run_command", command="sleep 120")]},
        {"tool_calls": [tool_call("f", "finish", summary="never")]},
    ]
    head = agents.git("eps", "rev-parse", "HEAD").strip()
    task_id = agents.submit("eps", "stop me")
    wait_for(lambda: any(s["kind"] == "tool" for s in agents.task(task_id)["steps"]) or None,
             "the first tool call", 60, every_s=0.5)  # fmt: skip
    time.sleep(2)
    status, _ = http_json(f"{agents.api}/tasks/{task_id}/cancel", {}, token=TASK_API_TOKEN)
    assert status == 202
    task = agents.ended(task_id, timeout_s=60)
    assert task["status"] == "cancelled" and task["commit_sha"] is None
    assert agents.git("eps", "rev-parse", "HEAD").strip() == head
    assert agents.git("eps", "status", "--porcelain") == ""
    assert "sandbox-fleet task" in agents.git("eps", "stash", "list")


def test_a_budget_stops_a_looping_script(agents: Agents) -> None:
    spin = {"tool_calls": [tool_call("l", "run_command", command="date >> spin.txt")]}
    agents.model.scripts["spin"] = [spin] * 50
    task = agents.ended(agents.submit("beta", "spin"))
    assert task["status"] == "failed"
    assert task["error"] == "step budget exhausted: 6 steps (sandbox-fleet:supervisorStepBudget)"
    assert task["commit_sha"] is None and task["set_aside"]


def test_the_agent_reaches_only_its_own_sandbox(agents: Agents) -> None:
    agents.model.scripts["look around"] = [
        {"tool_calls": [tool_call("h", "run_command", command="cat /etc/hostname")]},
        {
            "tool_calls": [
                tool_call(
                    "o",
                    "run_command",
                    command=(
                        "ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o ConnectTimeout=5 "
                        "-p 2222 dev@beta true"
                    ),
                )
            ]
        },
        {"tool_calls": [tool_call("p", "read_file", path="../../etc/ssh/fleet-keys/x")]},
        {"tool_calls": [tool_call("f", "finish", summary="looked")]},
    ]
    task = agents.ended(agents.submit("gamma", "look around"))
    outputs = [s["output"] for s in task["steps"] if s["kind"] == "tool"]
    assert len(outputs) == 4 and outputs[3] == "done", task["steps"]
    assert outputs[0] == "exit 0\ngamma\n"
    assert not outputs[1].startswith("exit 0") and "Permission denied" in outputs[1], outputs[1]
    assert outputs[2].startswith("error: path '../../etc/ssh/fleet-keys/x' must be relative")


PAGE = "<!doctype html><title>shop</title><body style='background: rgb(20, 90, 200)'>shop"


def test_a_visual_sandboxs_agent_screenshots_a_page_served_in_its_sandbox(agents: Agents) -> None:
    serve = (
        "nohup python3 -m http.server 8123 --bind 127.0.0.1 >/dev/null 2>&1 & "
        "for i in $(seq 50); do bash -c '</dev/tcp/127.0.0.1/8123' 2>/dev/null && break; "
        "sleep 0.1; done"
    )
    agents.model.scripts["show the shop"] = [
        {"tool_calls": [tool_call("w", "write_file", path="shop.html", content=PAGE)]},
        {"tool_calls": [tool_call("s", "run_command", command=serve)]},
        {"tool_calls": [tool_call("o", "browser_open", url="http://127.0.0.1:8123/shop.html")]},
        {"tool_calls": [tool_call("p", "browser_screenshot")]},
        {"tool_calls": [tool_call("f", "finish", summary="Add a shop page")]},
    ]
    task = agents.ended(agents.submit(DESKTOP, "show the shop"))
    assert task["status"] == "done", task
    tools = [s for s in task["steps"] if s["kind"] == "tool"]
    assert tools[2]["output"] == "opened http://127.0.0.1:8123/shop.html (title: 'shop')"
    shot = tools[3]["screenshot"]
    code, png = agents.engine.containers.get(f"{PREFIX}supervisor").exec_run(
        ["cat", f"/logs/supervisor/{shot}"]
    )
    assert code == 0
    local = agents.project.directory.parent / "shop.png"
    local.write_bytes(png)  # kept beside the test's files, to look at
    pixels = decode_png(png)
    assert pixels.shape[0] > 200 and pixels.std() > 0, "blank"
    middle = pixels[pixels.shape[0] // 2, pixels.shape[1] // 2][:3]
    assert tuple(middle) == (20, 90, 200), f"the page's colour, at the middle: {tuple(middle)}"
    assert task["files_changed"] == ["shop.html"]


def test_a_lesson_one_sandbox_remembers_reaches_a_task_in_another(agents: Agents) -> None:
    agents.model.scripts["learn the build"] = [
        {"tool_calls": [tool_call("r", "remember", note="Run make setup before the tests.")]},
        {"tool_calls": [tool_call("f", "finish", summary="learned")]},
    ]
    first = agents.ended(agents.submit("alpha", "learn the build"))
    assert first["status"] == "done", first
    second = agents.ended(agents.submit("delta", "use what was learned"))
    assert second["status"] == "done", second
    asked = next(r for r in agents.model.requests if "use what was learned" in json.dumps(r))
    system = asked["messages"][0]["content"]
    assert f"task {first['id']} (alpha): Run make setup before the tests." in system
    code, notes = agents.engine.containers.get(f"{PREFIX}delta").exec_run(
        ["cat", "/memory/NOTES.md"], user="1000"
    )
    assert code == 0 and b"Run make setup before the tests." in notes


JQ = """echo '{"a": 7}' | jq .a; id -un"""


def test_a_sandbox_on_its_own_toolchain_has_its_tools(agents: Agents) -> None:
    agents.model.scripts["use jq"] = [
        {"tool_calls": [tool_call("j", "run_command", command=JQ)]},
        {"tool_calls": [tool_call("f", "finish", summary="used jq")]},
    ]
    task = agents.ended(agents.submit(TOOLS, "use jq"))
    assert task["status"] == "done", task
    run = next(s for s in task["steps"] if s["kind"] == "tool")
    assert run["output"] == "exit 0\n7\ndev\n", run
