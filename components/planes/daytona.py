"""The Daytona plane's side of the contract (its component: components/daytona_plane.py)."""

from __future__ import annotations

from collections.abc import Mapping

from ..daytona import REPLACE_ON
from ..daytona_plane import API_KEY, daytona_entries, daytona_problems
from ..settings import StackSettings
from ..spec import FleetSpec, Runtime, SandboxSpec
from .base import ENV_FIELDS, Effect, SecretLookup, effects_from_props

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
