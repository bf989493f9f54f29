"""The Modal plane's side of the contract (its component: component.py)."""

from __future__ import annotations

from collections.abc import Mapping

from ...settings import StackSettings
from ...spec import FleetSpec, Runtime, SandboxSpec
from ..base import ENV_FIELDS, Effect, SecretLookup, effects_from_props
from .component import TOKEN_KEYS, modal_entries, modal_problems
from .provider import SANDBOX_REPLACE_ON

# The ModalSandbox props each spec field feeds.
FIELD_PROPS = {
    "cpus": ("cpu",),
    "memory": ("memory_mib",),
    **dict.fromkeys(ENV_FIELDS, ("env",)),
}


class ModalPlane:
    runtime = Runtime.MODAL
    effects: Mapping[str, Effect] = effects_from_props(FIELD_PROPS, SANDBOX_REPLACE_ON)

    def entries(self, spec: FleetSpec, settings: StackSettings) -> list[SandboxSpec]:
        return modal_entries(spec, settings)

    def problems(
        self, entries: list[SandboxSpec], spec: FleetSpec, settings: StackSettings,
        secret: SecretLookup,
    ) -> list[str]:  # fmt: skip
        tokens = [secret(k) if entries else None for k in TOKEN_KEYS]
        return modal_problems(entries, spec, tokens, settings.name_prefix)


MODAL = ModalPlane()
