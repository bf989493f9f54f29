"""The Daytona plane's side of the contract (its component: component.py)."""

from __future__ import annotations

from collections.abc import Mapping

from ...settings import StackSettings
from ...spec import FleetSpec, Runtime, SandboxSpec
from ..base import ENV_FIELDS, Effect, SecretLookup, effects_from_props
from .component import API_KEY, daytona_entries, daytona_problems
from .provider import REPLACE_ON

# The DaytonaSandbox props each spec field feeds.
FIELD_PROPS = {
    "cpus": ("cpu",),
    "memory": ("memory_gb",),
    **dict.fromkeys(ENV_FIELDS, ("env",)),
}


class DaytonaPlane:
    runtime = Runtime.DAYTONA
    effects: Mapping[str, Effect] = effects_from_props(FIELD_PROPS, REPLACE_ON)

    def entries(self, spec: FleetSpec, settings: StackSettings) -> list[SandboxSpec]:
        return daytona_entries(spec, settings)

    def problems(
        self, entries: list[SandboxSpec], spec: FleetSpec, settings: StackSettings,
        secret: SecretLookup,
    ) -> list[str]:  # fmt: skip
        return daytona_problems(entries, spec, secret(API_KEY) if entries else None)


DAYTONA = DaytonaPlane()
