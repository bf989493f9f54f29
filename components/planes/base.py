"""The contract every plane (docker, daytona, modal) implements, so Fleet and the review treat
them alike: which entries it takes, what it cannot do (found before anything is built), how it
builds them and what it hands back for each, and which spec-field changes restart a sandbox
there and which apply in place. A plane is one ComponentResource class that carries all of it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import pulumi

from ..host.containers import FleetIdentity
from ..outputs import SandboxOutputs
from ..settings import StackSettings
from ..spec import FleetSpec, Runtime, SandboxSpec

SecretLookup = Callable[[str], pulumi.Output[str] | None]
# The spec fields that reach a cloud sandbox only through its environment (SANDBOX_*, GIT_*).
ENV_FIELDS = ("repo", "branch", "base", "env", "secrets", "mode")


class Effect(StrEnum):
    """Strongest first: a sandbox's verdict is the strongest effect among its changes."""

    MOVE = "moves (recreated elsewhere)"
    REPLACE = "restarts (container replaced)"
    IN_PLACE = "applies in place"
    NO_RESTART = "no restart"


Own = TypeVar("Own")
PlaneOutputs = dict[str, SandboxOutputs | pulumi.Output[SandboxOutputs]]


@dataclass(frozen=True, kw_only=True)
class PlaneArgs(Generic[Own]):
    own: Own
    """What only this plane gets: its settings group (cloud planes), the host (Docker)."""
    entries: list[SandboxSpec]
    identity: FleetIdentity
    authorized_keys: Sequence[str]  # SSH public keys allowed into every sandbox
    secrets: Mapping[str, pulumi.Output[str]]  # secret name -> value, for the entries' `secrets`
    secret: SecretLookup  # the stack's secret config, for the plane's own credentials


class Plane(Protocol):
    runtime: ClassVar[Runtime]
    effects: ClassVar[Mapping[str, Effect]]
    """Spec field -> what a change to it does to a sandbox on this plane (absent: nothing)."""
    outputs: PlaneOutputs
    """Per entry: how to reach its sandbox (stack output `sandboxes.NAME`), one shape for all."""

    @staticmethod
    def entries(spec: FleetSpec, settings: StackSettings) -> list[SandboxSpec]:
        """The entries this stack creates on this plane."""
        ...

    @staticmethod
    def problems(
        entries: list[SandboxSpec], spec: FleetSpec, settings: StackSettings,
        secret: SecretLookup,
    ) -> list[str]:  # fmt: skip
        """Everything that stops these entries here, as `file:line: path: message` lines."""
        ...

    def __init__(
        self, name: str, args: PlaneArgs[Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Builds the entries: called only when there are some, after `problems` found none."""
        ...


def placed_here(spec: FleetSpec, settings: StackSettings, runtime: Runtime) -> list[SandboxSpec]:
    """The entries of `runtime` that this stack's host deploys (no `host:`, or this one)."""
    return [
        e for e in spec.sandboxes if e.runtime is runtime and e.host in (None, settings.host.name)
    ]


def effects_from_props(
    fields: Mapping[str, tuple[str, ...]], replace_on: tuple[str, ...]
) -> dict[str, Effect]:
    """A cloud plane's table, derived from its provider's own: a field whose props include one
    the provider replaces on restarts the sandbox; the others apply in place."""
    return {
        field: Effect.REPLACE if set(props) & set(replace_on) else Effect.IN_PLACE
        for field, props in fields.items()
    }
