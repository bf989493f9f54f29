"""The contract every plane (docker, daytona, modal) implements, so Fleet and the review treat
them alike: which entries it takes, what it cannot do (found before anything is built), and
which spec-field changes restart a sandbox there and which apply in place."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Protocol

import pulumi

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


class Plane(Protocol):
    runtime: Runtime
    effects: Mapping[str, Effect]
    """Spec field -> what a change to it does to a sandbox on this plane (absent: nothing)."""

    def entries(self, spec: FleetSpec, settings: StackSettings) -> list[SandboxSpec]:
        """The entries this stack creates on this plane."""
        ...

    def problems(
        self, entries: list[SandboxSpec], spec: FleetSpec, settings: StackSettings,
        secret: SecretLookup,
    ) -> list[str]:  # fmt: skip
        """Everything that stops these entries here, as `file:line: path: message` lines."""
        ...


def effects_from_props(
    fields: Mapping[str, tuple[str, ...]], replace_on: tuple[str, ...]
) -> dict[str, Effect]:
    """A cloud plane's table, derived from its provider's own: a field whose props include one
    the provider replaces on restarts the sandbox; the others apply in place."""
    return {
        field: Effect.REPLACE if set(props) & set(replace_on) else Effect.IN_PLACE
        for field, props in fields.items()
    }
