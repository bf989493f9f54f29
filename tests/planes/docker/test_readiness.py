"""The wait for containers to be ready (components/host/readiness_wait.py), against a fake
engine CLI: a runner that answers `inspect`, `exec` and `logs` as docker does, and a clock that
moves only when the wait sleeps (no wall-clock time in these tests)."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from components.host import readiness_wait
from components.host.readiness_wait import (
    POLL_S,
    SETTING,
    NotReady,
    ReadinessProvider,
    Watch,
    run_cli,
    until_ready,
)

LOCAL = ["docker", "--host", "unix:///var/run/docker.sock"]
REMOTE = ["ssh", "-o", "BatchMode=yes", "-l", "fleet", "--", "fleet-host", "docker"]
STARTING = {"Running": True, "Health": {"Status": "starting", "Log": []}}
HEALTHY = {"Running": True, "Health": {"Status": "healthy"}}
REASON = "workspace: waiting: cannot reach git://127.0.0.1:9/none.git (attempt 3)"
FORMAT = "{{.Name}} {{json .State}}"


@dataclass
class FakeEngine:
    """What `docker inspect/exec/logs` print, from a script of states per container (the last
    one stays); `sf-stuck-d` is the container a test watches unless it names others."""

    cli: list[str]
    states: list[dict[str, Any]]
    probe_says: str = REASON
    log: list[str] = field(default_factory=list)
    calls: list[list[str]] = field(default_factory=list)
    now: float = 1000.0
    others: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def run(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        assert argv[: len(self.cli)] == self.cli, argv
        args = argv[len(self.cli) :]
        if self.cli[0] == "ssh":  # what the host's shell makes of the one line ssh hands it
            args = shlex.split(" ".join(args))
        self.calls.append(args)
        if args[:3] == ["inspect", "--format", FORMAT]:
            scripts = {"sf-stuck-d": self.states, **self.others}
            lines = []
            for name in args[3:]:
                script = scripts[name]
                state = script.pop(0) if len(script) > 1 else script[0]
                lines.append(f"/{name} {json.dumps(state)}\n")
            return done(argv, 0, "".join(lines))
        if args[0] == "exec":
            return done(argv, 1, self.probe_says + "\n")
        if args[:2] == ["logs", "--tail"]:
            lines = self.log[-int(args[2]) :]
            return done(argv, 0, "".join(f"{line}\n" for line in lines))
        raise AssertionError(f"unexpected call {args}")

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def watch(self, container: str = "sf-stuck-d") -> Watch:
        return Watch(
            cli=self.cli,
            subject=f"sandbox {container.removeprefix('sf-')}",
            container=container,
            probe=["/usr/local/bin/sandbox-health"],
            run=self.run,
        )

    def until_ready(self, timeout_s: float, containers: tuple[str, ...] = ("sf-stuck-d",)) -> None:
        watches = [self.watch(c) for c in containers]
        until_ready(watches, timeout_s, clock=lambda: self.now, sleep=self.sleep)


def done(argv: list[str], code: int, out: str, err: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.CompletedProcess(argv, code, out, err)


def not_ready(engine: FakeEngine, timeout_s: float = 20) -> str:
    with pytest.raises(NotReady) as raised:
        engine.until_ready(timeout_s)
    return str(raised.value)


def test_it_returns_once_docker_says_healthy_polling_every_quarter_second() -> None:
    engine = FakeEngine(LOCAL, [STARTING, STARTING, STARTING, HEALTHY])
    engine.until_ready(20)
    assert [c[0] for c in engine.calls] == ["inspect"] * 4, "no probe, no logs when ready"
    assert engine.calls[0][-1] == "sf-stuck-d"
    assert engine.now == 1000.0 + 3 * POLL_S


def test_not_ready_in_time_names_it_the_setting_the_reason_and_its_last_log_lines() -> None:
    log = [f"2026-01-01T00:00:{i:02d}Z sandbox-sync: attempt {i} failed" for i in range(1, 31)]
    engine = FakeEngine(LOCAL, [STARTING], log=log)
    message = not_ready(engine)
    first, *rest = message.splitlines()
    assert first == (
        f"sandbox stuck-d (container sf-stuck-d) is not ready after 20 s; if it is only slow, "
        f"raise {SETTING} (0: `up` does not wait)."
    )
    assert rest[0] == f"Its health check says: {REASON}"
    assert rest[1] == "Its last log lines (docker logs --tail 20 sf-stuck-d):"
    assert rest[2:] == [f"  {line}" for line in log[-20:]]
    assert ["exec", "sf-stuck-d", "/usr/local/bin/sandbox-health"] in engine.calls
    assert engine.now >= 1000.0 + 20, "it waited the whole timeout"


def test_a_container_that_stops_fails_at_once_with_its_exit_code_and_last_probe() -> None:
    stopped = {
        "Running": False,
        "ExitCode": 1,
        "Health": {"Status": "unhealthy", "Log": [{"Output": "sshd: not running\n"}]},
    }
    engine = FakeEngine(LOCAL, [STARTING, stopped], log=["sshd: fatal: no host key"])
    message = not_ready(engine, timeout_s=300)
    assert message.startswith(
        "sandbox stuck-d (container sf-stuck-d) stopped before it was ready (exit code 1)."
    )
    assert "Its health check says: sshd: not running" in message, "its last probe's output"
    assert "  sshd: fatal: no host key" in message
    assert not any(c[0] == "exec" for c in engine.calls), "no exec into a stopped container"
    assert engine.now == 1000.0 + POLL_S, "no waiting for the timeout"


def test_a_container_that_logged_nothing_says_so() -> None:
    message = not_ready(FakeEngine(LOCAL, [STARTING], probe_says=""), timeout_s=1)
    assert "health check says" not in message
    assert message.endswith("  (nothing logged)")


@pytest.mark.parametrize(
    ("code", "out", "err", "said"),
    [
        (1, "", "Error: No such object: sf-stuck-d\n", "Error: No such object: sf-stuck-d"),
        (0, "Welcome to fleet-host!\n", "", "Welcome to fleet-host!"),  # not the JSON asked for
    ],
)
def test_a_state_the_engine_cannot_give_is_named_with_its_answer(
    code: int, out: str, err: str, said: str
) -> None:
    def answer(argv: list[str]) -> subprocess.CompletedProcess[str]:
        return done(argv, code, out, err)

    watch = Watch(
        cli=LOCAL, subject="sandbox stuck-d", container="sf-stuck-d", probe=[], run=answer
    )
    with pytest.raises(NotReady) as raised:
        until_ready([watch], 20)
    assert str(raised.value) == (
        f"sandbox stuck-d: cannot read the state of its container sf-stuck-d: {said}"
    )


def test_among_many_a_container_the_engine_cannot_find_is_named_with_its_own_answer() -> None:
    """docker inspect of several names prints the ones it found and one error line per missing
    one (exit 1): each missing container gets its own line, the found ones none."""

    def answer(argv: list[str]) -> subprocess.CompletedProcess[str]:
        found = f"/sf-here {json.dumps(STARTING)}\n"
        return done(
            argv, 1, found, "Error: No such object: sf-gone\nError: No such object: sf-lost\n"
        )

    watches = [Watch(cli=LOCAL, subject=f"sandbox {n}", container=f"sf-{n}", probe=[], run=answer)
               for n in ("here", "gone", "lost")]  # fmt: skip
    with pytest.raises(NotReady) as raised:
        until_ready(watches, 20)
    assert str(raised.value).splitlines() == [
        "sandbox gone: cannot read the state of its container sf-gone: "
        "Error: No such object: sf-gone",
        "sandbox lost: cannot read the state of its container sf-lost: "
        "Error: No such object: sf-lost",
    ]


def test_on_a_remote_host_every_argument_reaches_the_hosts_shell_intact() -> None:
    engine = FakeEngine(REMOTE, [STARTING, HEALTHY])
    engine.until_ready(20)
    assert engine.calls[0] == ["inspect", "--format", FORMAT, "sf-stuck-d"]
    message = not_ready(FakeEngine(REMOTE, [STARTING], log=["x"]), timeout_s=1)
    assert REASON in message


def test_a_missing_cli_or_one_that_hangs_is_an_answer_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = run_cli([str(tmp_path / "no-such-docker"), "inspect"])
    assert missing.returncode == 127 and "not found on PATH" in missing.stderr
    monkeypatch.setattr(readiness_wait, "CALL_TIMEOUT_S", 0.2)
    hung = run_cli(["sleep", "30"])
    assert hung.returncode == 124 and hung.stderr == "no answer in 0.2 s"


def props(*ids: str, timeout_seconds: int = 20) -> dict[str, Any]:
    """A Readiness's props watching one container per id (named after it)."""
    watched = [{"container_id": i, "container": f"sf-{i}", "subject": f"sandbox {i}",
                "probe": ["/usr/local/bin/sandbox-health"]} for i in ids]  # fmt: skip
    return {"watched": watched, "timeout_seconds": timeout_seconds, "cli": LOCAL}


def test_the_provider_waits_through_the_real_cli_call_and_returns_every_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fake `docker` on PATH that says every container it is asked about is healthy: create
    runs the real subprocess path."""
    fake = tmp_path / "docker"
    answer = json.dumps(HEALTHY)
    fake.write_text(f"#!/bin/sh\nshift 4\nfor name; do echo \"/$name\" '{answer}'; done\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    asked = props("c0ffee", "d00d")
    created = ReadinessProvider().create(asked)
    assert created.id == "ready" and created.outs == asked


def test_many_containers_are_polled_with_one_call_and_each_failure_is_named() -> None:
    engine = FakeEngine(LOCAL, [STARTING], others={
        "sf-fine": [STARTING, HEALTHY], "sf-slow": [STARTING, STARTING, HEALTHY],
    })  # fmt: skip
    with pytest.raises(NotReady) as raised:
        engine.until_ready(1, ("sf-fine", "sf-stuck-d", "sf-slow"))
    message = str(raised.value)
    inspects = [c for c in engine.calls if c[0] == "inspect"]
    assert inspects[0][3:] == ["sf-fine", "sf-stuck-d", "sf-slow"], "one call for them all"
    assert inspects[-1][3:] == ["sf-stuck-d"], "a healthy one is not asked about again"
    assert message.startswith("sandbox stuck-d (container sf-stuck-d) is not ready after 1 s")
    assert "sf-fine" not in message and "sf-slow" not in message


def test_an_update_waits_only_for_containers_it_has_not_seen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    waited: list[list[str]] = []

    def until_ready(watches: list[Watch], _timeout_s: float) -> None:
        waited.append([w.container for w in watches])

    monkeypatch.setattr(readiness_wait, "until_ready", until_ready)
    provider = ReadinessProvider()
    provider.update("ready", props("a", "b"), props("a", "c", "d"))
    assert waited == [["sf-c", "sf-d"]], "a replaced or new container; not a running one"
    provider.update("ready", props("a", "b"), props("a"))
    assert waited == [["sf-c", "sf-d"]], "a removed one waits for nothing"


def test_only_a_new_or_removed_container_changes_it() -> None:
    provider = ReadinessProvider()
    old = {**props("a"), "__provider": "old code"}
    same = provider.diff("ready", old, {**old, "__provider": "new code"})
    assert not same.changes and not same.replaces
    assert not provider.diff("ready", old, {**old, "timeout_seconds": 60}).changes
    replaced = provider.diff("ready", old, props("b"))
    assert replaced.changes and not replaced.replaces, "updated in place, never replaced"


def test_refresh_reads_back_what_it_has() -> None:
    outs = props("a")
    read = ReadinessProvider().read("ready", dict(outs))
    assert read.id == "ready" and read.outs == outs and read.inputs is None


def test_the_provider_host_shows_a_not_ready_error_as_its_message_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The SDK's host answers an error with traceback.format_exc(): for this error, the text."""
    monkeypatch.setattr(traceback, "format_exc", traceback.format_exc)  # restored afterwards
    readiness_wait.show_message_alone()
    try:
        raise NotReady("sandbox stuck-d (container sf-stuck-d) is not ready after 20 s")
    except NotReady:
        shown = traceback.format_exc()
    assert shown == "sandbox stuck-d (container sf-stuck-d) is not ready after 20 s"
    try:
        int("a bug")
    except ValueError:
        shown = traceback.format_exc()
    assert shown.startswith("Traceback (most recent call last):"), "a bug keeps its traceback"
