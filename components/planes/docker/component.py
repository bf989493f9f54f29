"""DockerPlane: the entries that run as hardened containers on this stack's host, one Sandbox
each, with the images they start from and, for entries with their own tailnet identity, a
tailscale sidecar."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import pulumi

from ...host.on_host import OnHost
from ...settings import StackSettings
from ...spec import FleetSpec, Mode, Runtime, SandboxSpec
from ...tailnet.access import TailnetAccess
from ..base import Effect, PlaneArgs, PlaneOutputs, SecretLookup
from .connections import connections
from .routes import ROUTES, docker_entries, port_clashes, tailnet_identity_problems
from .sandbox import Sandbox, SandboxArgs, TailnetSidecar

TAILSCALE_IMAGE = "tailscale/tailscale:stable"  # pulled on the host; tailscaled for sidecars


@dataclass(frozen=True, kw_only=True)
class DockerHost:
    """What the Docker plane builds on: the host's shared pieces and its tailnet access."""

    on: OnHost
    tailnet: TailnetAccess
    sandbox_tag: str | None  # the ACL tag of sandboxes with their own identity (tailnet on)


class DockerPlane(pulumi.ComponentResource):
    runtime: ClassVar[Runtime] = Runtime.DOCKER
    effects: ClassVar[Mapping[str, Effect]] = {n: route.effect for n, route in ROUTES.items()}
    outputs: PlaneOutputs

    @staticmethod
    def entries(spec: FleetSpec, settings: StackSettings) -> list[SandboxSpec]:
        return docker_entries(spec, settings)

    @staticmethod
    def problems(
        entries: list[SandboxSpec], spec: FleetSpec, settings: StackSettings,
        secret: SecretLookup,
    ) -> list[str]:  # fmt: skip
        return [
            *tailnet_identity_problems(entries, spec, settings),
            *port_clashes(entries, spec, settings),
        ]

    def __init__(
        self, name: str, args: PlaneArgs[DockerHost], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("sandbox-fleet:index:DockerPlane", name, None, opts)
        own, on = args.own, args.own.on
        # The sandboxes and their images were the Fleet's own children until the plane had a
        # component: the alias keeps their URNs, so an existing stack moves nothing.
        old_parent = [pulumi.Alias(parent=opts.parent)] if opts and opts.parent else []
        child = pulumi.ResourceOptions(parent=self, aliases=old_parent)
        images = {Mode.HEADLESS: on.image("headless", child)}
        if any(e.mode is Mode.VISUAL for e in args.entries):  # built FROM the headless one
            images[Mode.VISUAL] = on.image("desktop", child, base_image_id=images[Mode.HEADLESS])
        sidecar_image = (
            on.pull("tailscale", TAILSCALE_IMAGE, child)
            if any(e.tailnet for e in args.entries)
            else None
        )
        self.outputs = {}
        for entry in args.entries:
            sidecar = None
            if sidecar_image is not None and entry.tailnet and own.sandbox_tag is not None:
                auth_key = own.tailnet.sandbox_auth_keys[entry.name]
                sidecar = TailnetSidecar(sidecar_image, auth_key, own.sandbox_tag)
            Sandbox(
                f"{on.name}-{entry.name}",
                SandboxArgs(
                    spec=entry,
                    image_id=images[entry.mode],
                    place=on.place("sandbox", entry.name),
                    authorized_keys=args.authorized_keys,
                    secrets={k: args.secrets[k] for k in entry.secrets},
                    tailnet=sidecar,
                ),
                child,
            )
            self.outputs[entry.name] = connections(
                entry,
                on.bind,
                on.identity,
                args.authorized_keys,
                own.tailnet.magic_dns_names.get(entry.name),
            )
        self.register_outputs({"sandboxes": self.outputs})
