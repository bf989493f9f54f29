"""Readiness: `up` returns once a new or replaced Docker sandbox (or a repository's mirror, which
its sandboxes wait for) is ready, and otherwise fails naming it, with why.

pulumi-docker's own `wait` fails with a fixed "container failed to be in healthy state" and
nothing about why. This resource comes after the container and watches it through the host
engine's own CLI (`EngineCli.argv`: the host's SSH path on a remote host) until Docker reports
it `healthy`. When it stops first or the time runs out, the error names what it is and its
container, says what its health check says now and shows the last lines of its log.

Its input is the container's id, so a replaced container is waited for again and a running one
never is. Rules for dynamic providers (see ../daytona/provider.py): the pickled provider holds
nothing; `diff` is written out; `read` returns what it has, so refresh finds no drift here (the
container's own drift is the container's); `delete` has nothing to remove.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic as dynamic
import pulumi_docker as docker

from ...host.engine_cli import EngineCli, engine_command

SETTING = "sandbox-fleet:readyTimeoutSeconds"
POLL_S = 0.25
LOG_LINES = 20
CALL_TIMEOUT_S = 30  # one CLI call; a wedged SSH connection must not hold `up` forever

Runner = Callable[[list[str]], subprocess.CompletedProcess[str]]


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

    def state(self) -> dict[str, Any]:
        done = self.call("inspect", "--format", "{{json .State}}", self.container)
        try:
            if done.returncode == 0:
                return dict(json.loads(done.stdout))
        except ValueError:
            pass
        raise NotReady(
            f"{self.subject}: cannot read the state of its container {self.container}: "
            f"{(done.stderr or done.stdout).strip()}"
        )

    def reason(self, state: dict[str, Any]) -> str:
        """What the health check says now; a stopped container: what its last probe said."""
        if state.get("Running"):
            done = self.call("exec", self.container, *self.probe)
            if done.returncode != 0 and done.stdout.strip():
                return done.stdout.strip()
        probes = (state.get("Health") or {}).get("Log") or []
        return str(probes[-1].get("Output", "")).strip() if probes else ""

    def failure(self, what: str, state: dict[str, Any]) -> NotReady:
        reason = self.reason(state)
        logs = self.call("logs", "--tail", str(LOG_LINES), self.container)
        lines = [line for line in (logs.stdout + logs.stderr).splitlines() if line.strip()]
        return NotReady(
            "\n".join(
                [
                    f"{self.subject} (container {self.container}) {what}.",
                    *([f"Its health check says: {reason}"] if reason else []),
                    f"Its last log lines (docker logs --tail {LOG_LINES} {self.container}):",
                    *(f"  {line}" for line in lines[-LOG_LINES:] or ["(nothing logged)"]),
                ]
            )
        )

    def until_ready(
        self,
        timeout_s: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Return once Docker reports the container healthy; raise NotReady when it
        stops first or `timeout_s` passes."""
        deadline = clock() + timeout_s
        while (state := self.state()).get("Health", {}).get("Status") != "healthy":
            if not state.get("Running"):
                code = state.get("ExitCode")
                raise self.failure(f"stopped before it was ready (exit code {code})", state)
            if clock() >= deadline:
                raise self.failure(
                    f"is not ready after {timeout_s:g} s; if it is only slow, raise "
                    f"{SETTING} (0: `up` does not wait)",
                    state,
                )
            sleep(POLL_S)


def watch_of(props: dict[str, Any]) -> Watch:
    return Watch(
        cli=props["cli"], subject=props["subject"], container=props["container"],
        probe=props["probe"],
    )  # fmt: skip


class ReadinessProvider(dynamic.ResourceProvider):
    """Creating it is waiting for the container; nothing else about it does anything."""

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        show_message_alone()
        watch_of(props).until_ready(float(props["timeout_seconds"]))
        return dynamic.CreateResult(id_=props["container_id"], outs=dict(props))

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        # A new container is waited for; a changed timeout or CLI path waits for nothing.
        replaced = olds.get("container_id") != news.get("container_id")
        return dynamic.DiffResult(changes=replaced, replaces=["container_id"] if replaced else [])

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        return dynamic.UpdateResult(outs=dict(news))

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        return dynamic.ReadResult(id_=id_, outs=props)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        pass


@dataclass(frozen=True, kw_only=True)
class ReadinessArgs:
    subject: str  # what it is, for people: "sandbox NAME", "the mirror of URL"
    container: docker.Container
    timeout_s: int  # readyTimeoutSeconds
    cli: EngineCli
    probe: Sequence[str]


class Readiness(dynamic.Resource, module="fleet", name="Readiness"):
    """The wait for one container to be ready (created once per container); its own type,
    `pulumi-python:dynamic/fleet:Readiness`, tells it apart from the cloud planes' resources."""

    def __init__(
        self, name: str, args: ReadinessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        props = {
            "container_id": args.container.id,
            "container": args.container.name,
            "subject": args.subject,
            "timeout_seconds": args.timeout_s,
            "cli": args.cli.argv(),
            "probe": list(args.probe),
        }
        super().__init__(ReadinessProvider(), name, props, opts)
