"""The cli runtime: a configured agent command in the task's sandbox, prompt on stdin (the
sandboxes are conftest.LocalSandboxes; the runs that change files are in
test_supervisor_agent_loop)."""

from __future__ import annotations

import pytest
from supervisor.runtimes import AgentError, CliRuntime

from .conftest import LocalSandboxes, StartSupervisor


def test_a_failing_command_fails_the_task_with_its_output_and_sets_its_changes_aside(
    start_supervisor: StartSupervisor, sandboxes: LocalSandboxes
) -> None:
    command = "echo partial > half.txt; echo 'no model configured' >&2; exit 3"
    _, api = start_supervisor(SUPERVISOR_RUNTIME="cli", SUPERVISOR_CLI_COMMAND=command)
    task = api.wait_status(api.submit("try", sandbox="fails"), "failed", "done")
    assert task["status"] == "failed"
    assert task["error"] == "the agent command exited 3: no model configured"
    assert task["commit_sha"] is None and task["set_aside"]
    assert sandboxes.git("fails", "status", "--porcelain") == ""
    assert [s["kind"] for s in task["steps"]] == ["command", "set_aside"]


def test_initialize_rejects_missing_or_unparsable_commands() -> None:
    for command, message in [("", "is empty"), ('agent "unclosed', "cannot be parsed")]:
        with pytest.raises(AgentError, match=message):
            CliRuntime(command).initialize()
