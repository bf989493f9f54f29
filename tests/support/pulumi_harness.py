"""Run a Pulumi program under the SDK's mock runtime and record everything it registers.

Mocks accept any input, so the recording keeps what the engine would see (type, name, parent,
options, inputs with secret markers) for the tests to check against provider schemas and
invariants. Each call resets the runtime's global state so programs cannot leak into each other.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import runpy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import pulumi
import yaml
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.stack import run_in_stack

from components.settings import (
    BUS_SECRET_KEY,
    DESKTOP_SECRET_KEY,
    MODEL_SERVER_API_KEY_KEY,
    SSH_SECRET_KEY,
    STACK_SECRETS,
    SUPERVISOR_API_TOKEN_KEY,
)

PROJECT = "sandbox-fleet"
# The day every program run under mocks takes as today (`expires`): a fixed date, not the clock.
PINNED_TODAY = dt.date(2026, 11, 21)
SECRET_SIG = rpc._special_secret_sig  # the marker a secret carries on the wire


@dataclass(frozen=True)
class Registered:
    """One resource as the engine saw it."""

    type: str
    name: str
    urn: str
    parent: str
    custom: bool
    inputs: dict[str, Any]  # plain values, secrets unwrapped
    wire: dict[str, Any]  # as sent: secrets wrapped in {SECRET_SIG: ...}
    protect: bool
    retain_on_delete: bool
    delete_before_replace: bool
    provider: str
    dependencies: tuple[str, ...]
    replace_on_changes: tuple[str, ...]
    ignore_changes: tuple[str, ...]
    additional_secret_outputs: tuple[str, ...]
    alias_parents: tuple[str, ...] = ()  # the parent URN of each alias the resource carries

    def secret_input_paths(self) -> set[str]:
        """Top-level input names whose value is (or contains) a secret."""
        return {k for k, v in self.wire.items() if SECRET_SIG in json.dumps(v)}


@dataclass
class Run:
    resources: list[Registered] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)
    error: BaseException | None = None

    def of_type(self, type_: str) -> list[Registered]:
        return [r for r in self.resources if r.type == type_]

    def by_name(self, name: str) -> Registered:
        matches = [r for r in self.resources if r.name == name]
        assert len(matches) == 1, f"expected one resource named {name!r}, got {len(matches)}"
        return matches[0]


class _Mocks(pulumi.runtime.Mocks):
    """Echo inputs back as state; give each resource a stable fake id."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        state = dict(args.inputs)
        # Outputs the real providers compute, so dependants see values, not unknowns.
        if args.typ == "docker:index/remoteImage:RemoteImage":
            digest = hashlib.sha256(json.dumps(args.inputs, sort_keys=True).encode()).hexdigest()
            state["imageId"] = f"sha256:{digest}"
        elif args.typ == "command:local:Command":
            state.setdefault("stdout", "")
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[Any]]:
        if args.token == "tailscale:index/getDevice:getDevice":  # the device the tailnet knows
            name = args.args.get("name") or args.args.get("hostname", "host")
            return {
                "id": f"device-{name}",
                "nodeId": f"node-{name}",
                "name": name,
                "addresses": ["100.64.0.10"],
                "tags": [],
            }, []
        return {}, []


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: _Mocks, run: Run) -> None:
        super().__init__(mocks)
        self._run = run

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            wire = json_format.MessageToDict(request.object)
            self._run.resources.append(
                Registered(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    parent=request.parent,
                    custom=request.custom,
                    inputs=_unwrap_secrets(wire),
                    wire=wire,
                    protect=request.protect,
                    retain_on_delete=request.retainOnDelete,
                    delete_before_replace=request.deleteBeforeReplace,
                    provider=request.provider,
                    dependencies=tuple(request.dependencies),
                    replace_on_changes=tuple(request.replaceOnChanges),
                    ignore_changes=tuple(request.ignoreChanges),
                    additional_secret_outputs=tuple(request.additionalSecretOutputs),
                    alias_parents=tuple(
                        a.spec.parentUrn for a in request.aliases if a.HasField("spec")
                    ),
                )
            )
        return response


class _CollectWarnings(logging.Handler):
    def __init__(self, run: Run) -> None:
        super().__init__(level=logging.WARNING)
        self._run = run

    def emit(self, record: logging.LogRecord) -> None:
        self._run.warnings.append(record.getMessage())


def _unwrap_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == SECRET_SIG:
            return _unwrap_secrets(value.get("value"))
        return {k: _unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap_secrets(v) for v in value]
    return value


# A stack's own secrets as `scripts/up` sets them on a real stack (a run that means to test a
# stack without one passes the key with None).
STACK_SECRET_VALUES = {
    SUPERVISOR_API_TOKEN_KEY: "harness-task-api-token",
    MODEL_SERVER_API_KEY_KEY: "harness-model-api-key",
    DESKTOP_SECRET_KEY: "harness-desktop-secret",
    SSH_SECRET_KEY: "harness-ssh-secret",
    BUS_SECRET_KEY: "harness-bus-secret",  # made by hand, the same on every host's stack
}


def stack_config(stack_file: Path, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The `config:` of a Pulumi.<stack>.yaml; `secure:` values become placeholder plaintext.
    Overrides win; an override of None removes the key."""
    raw = yaml.safe_load(stack_file.read_text()) or {}
    config: dict[str, Any] = dict(STACK_SECRET_VALUES)
    for key, value in (raw.get("config") or {}).items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            value = f"test-secret-for-{key}"
        config[key] = value
    config.update(overrides or {})
    return {key: value for key, value in config.items() if value is not None}


def run_program(
    program: Path | Callable[[], None],
    config: Mapping[str, Any],
    *,
    secret_keys: tuple[str, ...] = (),
    stack: str = "dev",
    preview: bool = False,
    today: dt.date = PINNED_TODAY,
) -> Run:
    """Run `program` (a __main__.py path or a callable) under mocks; never raises for its errors.

    `expires` is judged as of `today`, never the clock: no run changes as the calendar moves.
    """
    run = Run()
    mocks = _Mocks()
    # The SDK binds futures to the current loop at construction: set the loop before anything
    # (set_mocks builds a root Stack) and drop whatever a previous run left behind.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    settings.ROOT.set(None)
    logger = logging.getLogger(f"pulumi-mock-run-{id(run)}")
    logger.propagate = False
    logger.addHandler(_CollectWarnings(run))
    pulumi_mocks.set_mocks(
        mocks,
        project=PROJECT,
        stack=stack,
        preview=preview,
        logger=logger,
        monitor=_RecordingMonitor(mocks, run),
    )
    wire_config = {
        (k if ":" in k else f"{PROJECT}:{k}"): v if isinstance(v, str) else json.dumps(v)
        for k, v in config.items()
    }
    secrets = {*secret_keys, *(k for k in STACK_SECRETS if k in config)}
    pulumi.runtime.set_all_config(
        wire_config, [k if ":" in k else f"{PROJECT}:{k}" for k in sorted(secrets)]
    )

    roots: list[pulumi.Resource | None] = []

    def body() -> None:
        # The root Stack lives in a context variable of the task run_in_stack creates: keep it.
        roots.append(settings.get_root_resource())
        if isinstance(program, Path):
            runpy.run_path(str(program), run_name="__main__")
        else:
            program()

    settings.ROOT.set(None)  # run_in_stack makes the program's own root Stack, as `pulumi up` does
    settings.SETTINGS.rpc_manager.clear()
    settings.SETTINGS.outputs.clear()
    try:
        with mock.patch("components.spec.loader.utc_today", return_value=today):
            loop.run_until_complete(run_in_stack(body))
    except BaseException as exc:
        run.error = exc
    finally:
        if roots and roots[0] is not None and run.error is None:
            run.outputs, run.secret_outputs = loop.run_until_complete(_stack_outputs(roots[0]))
        loop.close()
        asyncio.set_event_loop(None)
    return run


async def _stack_outputs(root: pulumi.Resource) -> tuple[dict[str, Any], set[str]]:
    outputs: dict[str, Any] = {}
    secret: set[str] = set()
    for key, value in getattr(root, "outputs", {}).items():
        out = pulumi.Output.from_input(value)
        outputs[key] = await out.future(with_unknowns=True)
        if await out.is_secret():
            secret.add(key)
    return outputs, secret
