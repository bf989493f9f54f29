"""DaytonaPlane: the spec entries with `runtime: daytona`, one DaytonaSandbox each, on the
stack's Daytona server (`daytonaUrl`, or the stack's own with `daytonaServer`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True, kw_only=True)
class DaytonaTarget:
    """The server this plane creates its sandboxes on."""

    settings: DaytonaSettings
    url: pulumi.Input[str]  # daytonaUrl, or the own server's API on the bind address
    api_key: pulumi.Output[str] | None = None  # the own server's admin key (DAYTONA_API_KEY wins)
    ready: Sequence[pulumi.Resource] = ()  # the own server's API, healthy once created


class DaytonaPlane(pulumi.ComponentResource):
    runtime: ClassVar[Runtime] = Runtime.DAYTONA
    effects: ClassVar[Mapping[str, Effect]] = effects_from_props(FIELD_PROPS, REPLACE_ON)
    outputs: PlaneOutputs

    @staticmethod
    def entries(spec: FleetSpec, settings: StackSettings) -> list[SandboxSpec]:
        """The entries this stack creates on its Daytona server (none without `daytonaUrl` or
        the stack's own server)."""
        if not settings.daytona.url and not settings.runs_daytona_server:
            return []
        return placed_here(spec, settings, Runtime.DAYTONA)

    @staticmethod
    def problems(
        entries: list[SandboxSpec], spec: FleetSpec, settings: StackSettings,
        secret: SecretLookup,
    ) -> list[str]:  # fmt: skip
        # The stack's own server has an admin key of its own (derived by the fleet).
        unset = secret(API_KEY) is None and not settings.runs_daytona_server
        missing = [API_KEY] if entries and unset else []
        return plane_problems(Runtime.DAYTONA, entries, spec, missing)

    def __init__(
        self,
        name: str,
        args: PlaneArgs[DaytonaTarget],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("sandbox-fleet:index:DaytonaPlane", name, None, opts)
        s, api_key = args.own.settings, args.secret(API_KEY) or args.own.api_key
        assert api_key is not None, "problems() stops a plane without its key"
        # After the own server's API is healthy (and, through the provider, once it answers).
        after = pulumi.ResourceOptions(parent=self, depends_on=list(args.own.ready) or None)
        self.outputs = {}
        for e in args.entries:
            box = DaytonaSandbox(
                f"{name}-{e.name}",
                DaytonaSandboxArgs(
                    api_url=args.own.url,
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
                after,
            )
            self.outputs[e.name] = entry_outputs(e) | {
                "sandboxId": box.sandbox_id,
                "name": box.name,
                "state": box.state,
                "ssh": box.name.apply(lambda n: f"daytona ssh {n}" if n else ""),
            }
        self.register_outputs({"sandboxes": self.outputs})
