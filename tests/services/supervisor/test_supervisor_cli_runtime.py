"""The cli runtime with real commands (python3 -c ...): stdin, placeholders, exit codes, timeout."""

from __future__ import annotations

import shlex
import sys
import threading
from pathlib import Path

import pytest
from supervisor.runtimes import AgentError, CliRuntime, TransientAgentError
from supervisor.task import Task

from .conftest import StartSupervisor, wait_until

PY = shlex.quote(sys.executable)


def make_task(prompt: str = "hello", sandbox: str = "sb-1", task_id: int = 7) -> Task:
    return Task(
        id=task_id,
        sender="tester",
        sandbox=sandbox,
        prompt=prompt,
        status="running",
        result=None,
        error=None,
        attempts=0,
        created_at="",
        updated_at="",
    )


def cli(code: str, *args: str, timeout: float = 30.0) -> CliRuntime:
    runtime = CliRuntime(" ".join([PY, "-c", shlex.quote(code), *args]), timeout=timeout)
    runtime.initialize()
    return runtime


def test_prompt_goes_to_stdin_and_stdout_is_the_result() -> None:
    runtime = cli(
        "import os, sys; print('got', sys.stdin.read().upper(), sys.argv[1:],"
        " os.environ['SUPERVISOR_TASK_ID'], os.environ['SUPERVISOR_SANDBOX'])",
        "--workdir",
        "/workspace/{sandbox}",
        "'two words'",
    )
    result = runtime.execute(make_task("fix $(rm -rf /) `it`", sandbox="feature-x"))
    assert result == (
        "got FIX $(RM -RF /) `IT` ['--workdir', '/workspace/feature-x', 'two words'] 7 feature-x\n"
    )


def test_api_token_is_not_passed_to_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPERVISOR_API_TOKEN", "s3cret")
    monkeypatch.setenv("SOME_AGENT_KEY", "visible")
    runtime = cli(
        "import os; print(os.environ.get('SUPERVISOR_API_TOKEN'), os.environ.get('SOME_AGENT_KEY'))"
    )
    assert runtime.execute(make_task()) == "None visible\n"


def test_non_zero_exit_fails_with_the_stderr_tail() -> None:
    runtime = cli("import sys; sys.stderr.write('x' * 5000 + 'disk full\\n'); sys.exit(3)")
    with pytest.raises(AgentError) as err:
        runtime.execute(make_task())
    message = str(err.value)
    assert not isinstance(err.value, TransientAgentError)
    assert message.startswith(f"command {sys.executable!r} exited with status 3; stderr tail: ")
    assert message.endswith("xdisk full") and len(message) < 2200


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def test_timeout_kills_the_command_and_its_children(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    code = (
        "import subprocess, sys, time;"
        f"p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']);"
        f"open({str(pidfile)!r}, 'w').write(str(p.pid));"
        "sys.stderr.write('started\\n'); sys.stderr.flush(); time.sleep(120)"
    )
    runtime = cli(code, timeout=3.0)  # room for python start-up on a busy machine
    with pytest.raises(AgentError, match=r"timed out after 3s and was killed; stderr tail: start"):
        runtime.execute(make_task())
    grandchild = int(pidfile.read_text())
    wait_until(lambda: not _alive(grandchild), f"grandchild {grandchild} to be killed")


def test_initialize_rejects_missing_or_unparsable_commands() -> None:
    with pytest.raises(AgentError, match="'no-such-agent-binary' is not on PATH"):
        CliRuntime("no-such-agent-binary --go").initialize()
    with pytest.raises(AgentError, match="cannot be parsed: No closing quotation"):
        CliRuntime("agent 'unbalanced").initialize()
    with pytest.raises(AgentError, match="program itself cannot be"):
        CliRuntime("{sandbox} run").initialize()


def test_terminate_kills_a_running_command() -> None:
    runtime = cli("import time; time.sleep(120)")
    errors: list[BaseException] = []

    def run() -> None:
        try:
            runtime.execute(make_task())
        except AgentError as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    wait_until(lambda: runtime._running, "the command to start")
    runtime.terminate()
    thread.join(20)
    assert not thread.is_alive()
    assert len(errors) == 1 and "was killed by signal 9" in str(errors[0])


def test_cli_tasks_through_the_supervisor(start_supervisor: StartSupervisor) -> None:
    command = f"{PY} -c " + shlex.quote(
        "import sys; p = sys.stdin.read(); print('ok:' + p) if p != 'bad' else sys.exit('no way')"
    )
    _, api = start_supervisor(SUPERVISOR_RUNTIME="cli", SUPERVISOR_CLI_COMMAND=command)
    good, bad = api.submit("build it"), api.submit("bad")
    done = api.wait_status(good, "done", "failed")
    assert (done["status"], done["result"], done["attempts"]) == ("done", "ok:build it\n", 1)
    failed = api.wait_status(bad, "done", "failed")
    assert (failed["status"], failed["attempts"]) == ("failed", 1)  # never retried
    assert failed["error"].endswith("exited with status 1; stderr tail: no way")
