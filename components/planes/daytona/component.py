"""DaytonaPlane: the spec entries with `runtime: daytona`, one DaytonaSandbox each, on the
stack's Daytona server (`daytonaUrl`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import pulumi

from ...contract import DAYTONA_API_KEY
from ...outputs import entry_outputs
from ...settings import DaytonaSettings, StackSettings
from ...spec import DataPolicy, FleetSpec, Runtime, SandboxSpec
from ..base import (
    ENV_FIELDS,
    Effect,
    PlaneArgs,
    PlaneOutputs,
    SecretLookup,
    effects_from_props,
    placed_here,
)
from ..cloud import plane_problems
from ..environment import sandbox_env
from .provider import REPLACE_ON, DaytonaSandbox, DaytonaSandboxArgs

API_KEY = DAYTONA_API_KEY  # the stack's secret config key
# The DaytonaSandbox props each spec field feeds.
FIELD_PROPS = {
    "cpus": ("cpu",),
    "memory": ("memory_gb",),
    **dict.fromkeys(ENV_FIELDS, ("env",)),
}


class DaytonaPlane(pulumi.ComponentResource):
    runtime: ClassVar[Runtime] = Runtime.DAYTONA
    effects: ClassVar[Mapping[str, Effect]] = effects_from_props(FIELD_PROPS, REPLACE_ON)
    outputs: PlaneOutputs

    @staticmethod
    def entries(spec: FleetSpec, settings: StackSettings) -> list[SandboxSpec]:
        """The entries this stack creates on its Daytona server (none without `daytonaUrl`)."""
        if not settings.daytona.url:
            return []
        return placed_here(spec, settings, Runtime.DAYTONA)

    @staticmethod
    def problems(
        entries: list[SandboxSpec], spec: FleetSpec, settings: StackSettings,
        secret: SecretLookup,
    ) -> list[str]:  # fmt: skip
        missing = [API_KEY] if entries and secret(API_KEY) is None else []
        return plane_problems(Runtime.DAYTONA, entries, spec, missing)

    def __init__(
        self,
        name: str,
        args: PlaneArgs[DaytonaSettings],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("sandbox-fleet:index:DaytonaPlane", name, None, opts)
        s, api_key = args.own, args.secret(API_KEY)
        assert api_key is not None, "problems() stops a plane without its key"
        self.outputs = {}
        for e in args.entries:
            box = DaytonaSandbox(
                f"{name}-{e.name}",
                DaytonaSandboxArgs(
                    api_url=s.url,
                    api_key=api_key,
                    prefix=args.identity.name_prefix,
                    entry=e.name,
                    env=sandbox_env(e, args.authorized_keys),
                    secret_env={k: args.secrets[k] for k in e.secrets},
                    labels=args.identity.labels("sandbox", e.name),
                    cpus=e.cpus,
                    memory_bytes=e.memory_bytes,
                    keep_data=e.data is DataPolicy.KEEP,
                    snapshot=s.snapshot,
                    target=s.target,
                    auto_stop_minutes=s.auto_stop_minutes,
                    timeout_seconds=s.timeout_seconds,
                ),
                pulumi.ResourceOptions(parent=self),
            )
            self.outputs[e.name] = entry_outputs(e) | {
                "sandboxId": box.sandbox_id,
                "name": box.name,
                "state": box.state,
                "ssh": box.name.apply(lambda n: f"daytona ssh {n}" if n else ""),
            }
        self.register_outputs({"sandboxes": self.outputs})
