"""ModalPlane: the spec entries with `runtime: modal`, one workspace Volume and Sandbox each."""

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
from .provider import ModalCredentials, ModalSandbox, ModalSandboxArgs, ModalWorkspace

TOKEN_KEYS = ("MODAL_TOKEN_ID", "MODAL_TOKEN_SECRET")  # the stack's secret config keys
MODAL_NAME_MAX = 64  # Modal's limit on object names (volumes, sandboxes)


def modal_entries(spec: FleetSpec, s: StackSettings) -> list[SandboxSpec]:
    """The entries this stack creates on Modal (none unless `modalEnabled`)."""
    if not s.top.modalEnabled:
        return []
    return [
        e for e in spec.sandboxes if e.runtime is Runtime.MODAL and e.host in (None, s.host.name)
    ]


def workspace_name(prefix: str, entry: str) -> str:
    return f"{prefix}{entry}-workspace"


def modal_problems(
    entries: list[SandboxSpec],
    spec: FleetSpec,
    tokens: list[pulumi.Output[str] | None],
    prefix: str,
) -> list[str]:
    """What the plane cannot do, as errors at the entry's line, before anything is created."""
    missing = [k for k, v in zip(TOKEN_KEYS, tokens, strict=True) if v is None]
    problems = plane_problems(Runtime.MODAL, entries, spec, missing)
    problems += [
        f"{spec.file}:{e.line}: sandboxes.{e.name}: its Modal volume name "
        f"'{workspace_name(prefix, e.name)}' is {len(workspace_name(prefix, e.name))} "
        f"characters; Modal allows {MODAL_NAME_MAX}: shorten the sandbox name or namePrefix"
        for e in entries
        if len(workspace_name(prefix, e.name)) > MODAL_NAME_MAX
    ]
    return problems


@dataclass(frozen=True, kw_only=True)
class ModalPlaneArgs:
    settings: StackSettings
    entries: list[SandboxSpec]
    credentials: ModalCredentials
    secrets: Mapping[str, pulumi.Output[str]]  # secret name -> value, for the entries' `secrets`
    fleet_id: str
    stack: str


class ModalPlane(pulumi.ComponentResource):
    outputs: dict[str, SandboxOutputs]
    """Per entry: how to reach its sandbox (stack output `sandboxes.NAME`)."""

    def __init__(
        self, name: str, args: ModalPlaneArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("sandbox-fleet:index:ModalPlane", name, None, opts)
        top = args.settings.top
        self.outputs = {}
        child = pulumi.ResourceOptions(parent=self)
        for e in args.entries:
            box_args = ModalSandboxArgs(
                credentials=args.credentials,
                app_name=top.modalApp,
                name=f"{args.settings.name_prefix}{e.name}",
                volume=workspace_name(args.settings.name_prefix, e.name),
                image=top.modalImage,
                env=sandbox_env(e, top.sshAuthorizedKeys),
                secret_env={k: args.secrets[k] for k in e.secrets},
                tags=identity_labels(args.fleet_id, args.stack, "sandbox", e.name),
                cpus=e.cpus,
                memory_bytes=e.memory_bytes,
                keep_data=e.data is DataPolicy.KEEP,
                timeout_seconds=top.modalTimeoutSeconds,
                idle_timeout_seconds=top.modalIdleTimeoutSeconds,
            )
            workspace = ModalWorkspace(f"{name}-{e.name}-workspace", box_args, child)
            box = ModalSandbox(f"{name}-{e.name}", box_args, workspace, child)
            self.outputs[e.name] = entry_outputs(e) | {
                "sandboxId": box.sandbox_id,
                "app": top.modalApp,
                "workspaceVolume": workspace_name(args.settings.name_prefix, e.name),
            }
        self.register_outputs({"sandboxes": self.outputs})
