"""The wait behind the Docker plane's Readiness (components/planes/docker/readiness.py): the code
its provider runs, in the SDK's dynamic provider host process. It watches containers through the
host engine's own CLI (`EngineCli.argv`: the host's SSH path on a remote host) until Docker
reports them `healthy`, polling them all with one `docker inspect` a quarter second. When one
stops first or the time runs out, the error names what it is and its container, says what its
health check says now and shows the last lines of its log (pulumi-docker's own `wait` says only
"container failed to be in healthy state").

Only the standard library and pulumi.dynamic here: the provider host imports this module (the
state holds the provider by reference) on its first call, which comes after the last container
of an `up`, and again in its preview. Importing the Docker plane's package there instead cost
0.63-0.75 s each time (`python -X importtime`): when the sandboxes are ready by then, time
between the last one ready and `up` returning (docs/benchmarks.md). Kept that way by
tests/program/test_dynamic_providers_round_trip.py.

Rules for dynamic providers (see ../planes/daytona/provider.py): the pickled provider holds
nothing; `diff` is written out; `read` returns what it has, so refresh finds no drift here (the
containers' own drift is theirs); `delete` has nothing to remove.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi.dynamic as dynamic

SETTING = "sandbox-fleet:readyTimeoutSeconds"
POLL_S = 0.25
LOG_LINES = 20
CALL_TIMEOUT_S = 30  # one CLI call; a wedged SSH connection must not hold `up` forever

Runner = Callable[[list[str]], subprocess.CompletedProcess[str]]


def engine_command(cli: list[str], *args: str) -> list[str]:
    """`cli` (from `EngineCli.argv`) with `args`, quoted for the host's shell when it is remote."""
    remote = cli[0] == "ssh"
    return [*cli, *(shlex.quote(a) for a in args)] if remote else [*cli, *args]


class NotReady(Exception):
    """A container was not ready in time or stopped; the message is all the user needs."""


_SDK_FORMAT_EXC = traceback.format_exc


def _format_exc(limit: int | None = None, chain: bool = True) -> str:
    error = sys.exc_info()[1]
    return str(error) if isinstance(error, NotReady) else _SDK_FORMAT_EXC(limit, chain)


def show_message_alone() -> None:
    """The SDK's dynamic provider host answers every error with `traceback.format_exc()`
    (pulumi/dynamic/__main__.py, `_abort_with_traceback`): a sandbox that is simply not ready
    would reach the user as a Python traceback. In that host process, for NotReady only,
    the answer is its message; any other error keeps its traceback."""
    traceback.format_exc = _format_exc


def run_cli(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """Run one engine CLI call; a missing CLI or a call that hangs is an answer, not a crash."""
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=CALL_TIMEOUT_S)
    except FileNotFoundError:
        return subprocess.CompletedProcess(argv, 127, "", f"{argv[0]}: not found on PATH")
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(argv, 124, "", f"no answer in {CALL_TIMEOUT_S} s")


@dataclass(frozen=True, kw_only=True)
class Watch:
    """One container, watched through the engine's CLI."""

    cli: Sequence[str]  # EngineCli.argv()
    subject: str  # what it is, for people: "sandbox NAME", "the mirror of URL"
    container: str  # the container's name
    probe: Sequence[str]  # the health check, once, without waiting: it prints why not
    run: Runner = run_cli

    def call(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run(engine_command(list(self.cli), *args))

    def reason(self, state: dict[str, Any]) -> str:
        """What the health check says now; a stopped container: what its last probe said."""
        if state.get("Running"):
            done = self.call("exec", self.container, *self.probe)
            if done.returncode != 0 and done.stdout.strip():
                return done.stdout.strip()
        probes = (state.get("Health") or {}).get("Log") or []
        return str(probes[-1].get("Output", "")).strip() if probes else ""

    def failure(self, what: str, state: dict[str, Any]) -> str:
        reason = self.reason(state)
        logs = self.call("logs", "--tail", str(LOG_LINES), self.container)
        lines = [line for line in (logs.stdout + logs.stderr).splitlines() if line.strip()]
        return "\n".join(
            [
                f"{self.subject} (container {self.container}) {what}.",
                *([f"Its health check says: {reason}"] if reason else []),
                f"Its last log lines (docker logs --tail {LOG_LINES} {self.container}):",
                *(f"  {line}" for line in lines[-LOG_LINES:] or ["(nothing logged)"]),
            ]
        )


def states(watches: Sequence[Watch]) -> dict[str, dict[str, Any]]:
    """Each container's state by its name, from one `inspect` of them all (one CLI call)."""
    done = watches[0].call("inspect", "--format", "{{.Name}} {{json .State}}",
                           *(w.container for w in watches))  # fmt: skip
    found: dict[str, dict[str, Any]] = {}
    for line in done.stdout.splitlines():
        name, _, state = line.partition(" ")
        try:
            found[name.removeprefix("/")] = dict(json.loads(state))
        except ValueError:
            continue
    said = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
    unread = [
        f"{w.subject}: cannot read the state of its container {w.container}: "
        + next((line for line in said if w.container in line), " ".join(said)).strip()
        for w in watches
        if w.container not in found
    ]
    if unread:
        raise NotReady("\n".join(unread))
    return found


def healthy(state: dict[str, Any]) -> bool:
    return (state.get("Health") or {}).get("Status") == "healthy"


def until_ready(
    watches: Sequence[Watch],
    timeout_s: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Return once Docker reports every container healthy; raise NotReady naming each that
    stopped first, or each still not ready after `timeout_s`."""
    deadline = clock() + timeout_s
    pending = list(watches)
    while pending:
        found = states(pending)
        pending = [w for w in pending if not healthy(found[w.container])]
        stopped = [w for w in pending if not found[w.container].get("Running")]
        if stopped:
            raise NotReady("\n\n".join(
                w.failure("stopped before it was ready (exit code "
                          f"{found[w.container].get('ExitCode')})", found[w.container])
                for w in stopped
            ))  # fmt: skip
        if pending and clock() >= deadline:
            what = (f"is not ready after {timeout_s:g} s; if it is only slow, raise {SETTING} "
                    "(0: `up` does not wait)")  # fmt: skip
            raise NotReady("\n\n".join(w.failure(what, found[w.container]) for w in pending))
        if pending:
            sleep(POLL_S)


def watches_of(props: dict[str, Any], only: Callable[[str], bool] = lambda _: True) -> list[Watch]:
    """The watches in a resource's props, of the containers whose id `only` lets through."""
    return [
        Watch(cli=props["cli"], subject=w["subject"], container=w["container"], probe=w["probe"])
        for w in props["watched"]
        if only(w["container_id"])
    ]


class ReadinessProvider(dynamic.ResourceProvider):
    """Creating it is waiting for every container; updating it, for the ones it had not seen."""

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        show_message_alone()
        until_ready(watches_of(props), float(props["timeout_seconds"]))
        return dynamic.CreateResult(id_="ready", outs=dict(props))

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        # A new or replaced container is waited for, a removed one only recorded (the update);
        # a changed timeout or CLI path changes nothing here.
        return dynamic.DiffResult(changes=olds.get("watched") != news.get("watched"))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        show_message_alone()
        seen = {w["container_id"] for w in olds["watched"]}
        if fresh := watches_of(news, only=lambda container_id: container_id not in seen):
            until_ready(fresh, float(news["timeout_seconds"]))
        return dynamic.UpdateResult(outs=dict(news))

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        return dynamic.ReadResult(id_=id_, outs=props)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        pass
