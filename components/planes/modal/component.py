"""ModalPlane: the spec entries with `runtime: modal`, one workspace Volume and Sandbox each."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import pulumi

from ...contract import MODAL_TOKEN_ID, MODAL_TOKEN_SECRET
from ...outputs import entry_outputs
from ...settings import ModalSettings, StackSettings
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
from .provider import (
    SANDBOX_REPLACE_ON,
    ModalCredentials,
    ModalSandbox,
    ModalSandboxArgs,
    ModalWorkspace,
)

TOKEN_KEYS = (MODAL_TOKEN_ID, MODAL_TOKEN_SECRET)  # the stack's secret config keys
MODAL_NAME_MAX = 64  # Modal's limit on object names (volumes, sandboxes)
# The ModalSandbox props each spec field feeds.
FIELD_PROPS = {
    "cpus": ("cpu",),
    "memory": ("memory_mib",),
    **dict.fromkeys(ENV_FIELDS, ("env",)),
}


def workspace_name(prefix: str, entry: str) -> str:
    return f"{prefix}{entry}-workspace"


class ModalPlane(pulumi.ComponentResource):
    runtime: ClassVar[Runtime] = Runtime.MODAL
    effects: ClassVar[Mapping[str, Effect]] = effects_from_props(FIELD_PROPS, SANDBOX_REPLACE_ON)
    outputs: PlaneOutputs

    @staticmethod
    def entries(spec: FleetSpec, settings: StackSettings) -> list[SandboxSpec]:
        """The entries this stack creates on Modal (none unless `modalEnabled`)."""
        if not settings.modal.enabled:
            return []
        return placed_here(spec, settings, Runtime.MODAL)

    @staticmethod
    def problems(
        entries: list[SandboxSpec], spec: FleetSpec, settings: StackSettings,
        secret: SecretLookup,
    ) -> list[str]:  # fmt: skip
        missing = [k for k in TOKEN_KEYS if entries and secret(k) is None]
        prefix = settings.name_prefix
        return plane_problems(Runtime.MODAL, entries, spec, missing) + [
            f"{spec.file}:{e.line}: sandboxes.{e.name}: its Modal volume name "
            f"'{workspace_name(prefix, e.name)}' is {len(workspace_name(prefix, e.name))} "
            f"characters; Modal allows {MODAL_NAME_MAX}: shorten the sandbox name or namePrefix"
            for e in entries
            if len(workspace_name(prefix, e.name)) > MODAL_NAME_MAX
        ]

    def __init__(
        self, name: str, args: PlaneArgs[ModalSettings], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("sandbox-fleet:index:ModalPlane", name, None, opts)
        s, prefix = args.own, args.identity.name_prefix
        token_id, token_secret = (args.secret(k) for k in TOKEN_KEYS)
        assert token_id is not None and token_secret is not None, "problems() stops it"
        credentials = ModalCredentials(token_id, token_secret)
        self.outputs = {}
        child = pulumi.ResourceOptions(parent=self)
        for e in args.entries:
            box_args = ModalSandboxArgs(
                credentials=credentials,
                app_name=s.app,
                name=f"{prefix}{e.name}",
                volume=workspace_name(prefix, e.name),
                image=s.image,
                env=sandbox_env(e, args.authorized_keys),
                secret_env={k: args.secrets[k] for k in e.secrets},
                tags=args.identity.labels("sandbox", e.name),
                cpus=e.cpus,
                memory_bytes=e.memory_bytes,
                keep_data=e.data is DataPolicy.KEEP,
                timeout_seconds=s.timeout_seconds,
                idle_timeout_seconds=s.idle_timeout_seconds,
            )
            workspace = ModalWorkspace(f"{name}-{e.name}-workspace", box_args, child)
            box = ModalSandbox(f"{name}-{e.name}", box_args, workspace, child)
            self.outputs[e.name] = entry_outputs(e) | {
                "sandboxId": box.sandbox_id,
                "app": s.app,
                "workspaceVolume": workspace_name(prefix, e.name),
            }
        self.register_outputs({"sandboxes": self.outputs})
