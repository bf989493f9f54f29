"""DaytonaPlane: the spec entries with `runtime: daytona`, one DaytonaSandbox each."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from ...host.containers import identity_labels
from ...outputs import SandboxOutputs
from ...settings import StackSettings
from ...spec import DataPolicy, FleetSpec, Runtime, SandboxSpec
from ..cloud import entry_outputs, plane_problems
from ..docker.sandbox import sandbox_env
from .provider import DaytonaSandbox, DaytonaSandboxArgs

API_KEY = "DAYTONA_API_KEY"  # the stack's secret config key


def daytona_entries(spec: FleetSpec, s: StackSettings) -> list[SandboxSpec]:
    """The entries this stack creates on its Daytona server (none without `daytonaUrl`)."""
    if not s.top.daytonaUrl:
        return []
    return [
        e for e in spec.sandboxes if e.runtime is Runtime.DAYTONA and e.host in (None, s.host.name)
    ]


def daytona_problems(
    entries: list[SandboxSpec], spec: FleetSpec, api_key: pulumi.Output[str] | None
) -> list[str]:
    """What the plane cannot do, as errors at the entry's line, before anything is created."""
    missing = [API_KEY] if api_key is None else []
    return plane_problems(Runtime.DAYTONA, entries, spec, missing)


@dataclass(frozen=True, kw_only=True)
class DaytonaPlaneArgs:
    settings: StackSettings
    entries: list[SandboxSpec]
    api_key: pulumi.Output[str]
    secrets: Mapping[str, pulumi.Output[str]]  # secret name -> value, for the entries' `secrets`
    fleet_id: str
    stack: str


class DaytonaPlane(pulumi.ComponentResource):
    outputs: dict[str, SandboxOutputs]
    """Per entry: how to reach its sandbox (stack output `sandboxes.NAME`)."""

    def __init__(
        self, name: str, args: DaytonaPlaneArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("sandbox-fleet:index:DaytonaPlane", name, None, opts)
        top = args.settings.top
        self.outputs = {}
        for e in args.entries:
            box = DaytonaSandbox(
                f"{name}-{e.name}",
                DaytonaSandboxArgs(
                    api_url=top.daytonaUrl,
                    api_key=args.api_key,
                    prefix=args.settings.name_prefix,
                    entry=e.name,
                    env=sandbox_env(e, top.sshAuthorizedKeys),
                    secret_env={k: args.secrets[k] for k in e.secrets},
                    labels=identity_labels(args.fleet_id, args.stack, "sandbox", e.name),
                    cpus=e.cpus,
                    memory_bytes=e.memory_bytes,
                    keep_data=e.data is DataPolicy.KEEP,
                    snapshot=top.daytonaSnapshot,
                    target=top.daytonaTarget,
                    auto_stop_minutes=top.daytonaAutoStopMinutes,
                    timeout_seconds=top.daytonaTimeoutSeconds,
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
