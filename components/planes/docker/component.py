"""DockerPlane: the entries that run as hardened containers on this stack's host, one Sandbox
each, with the images they start from and, for entries with their own tailnet identity, a
tailscale sidecar."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import pulumi

from ...contract import FLEET_KEYS
from ...host.on_host import OnHost
from ...host.ssh_identity import host_private_key, known_hosts, supervisor_public_key
from ...outputs import SandboxOutputs
from ...settings import DESKTOP_SECRET_KEY, SSH_SECRET_KEY, StackSettings
from ...spec import FleetSpec, Mode, Runtime, SandboxSpec
from ...tailnet.access import TailnetAccess
from ..base import Effect, PlaneArgs, PlaneOutputs, SecretLookup
from .connections import connections, with_desktop_login
from .desktop_password import desktop_password
from .egress import EgressGateway, EgressGatewayArgs, egress_problems
from .fleet_keys import FleetKeys
from .memory import RepoMemory
from .mirror import RepoMirrors, RepoMirrorsArgs
from .readiness import Readiness, ReadinessArgs
from .routes import ROUTES, docker_entries, port_clashes, tailnet_identity_problems
from .sandbox import Sandbox, SandboxArgs, published_ports
from .tailnet_sidecar import TailnetSidecar
from .toolchains import SandboxImages, sandbox_images, toolchain_problems

TAILSCALE_IMAGE = "tailscale/tailscale:stable"  # pulled on the host; tailscaled for sidecars


@dataclass(frozen=True, kw_only=True)
class DockerHost:
    """What the Docker plane builds on: the host's shared pieces and its tailnet access."""

    on: OnHost
    tailnet: TailnetAccess
    sandbox_tag: str | None  # the ACL tag of sandboxes with their own identity (tailnet on)
    ready_timeout_s: int  # how long `up` waits for a new sandbox to be healthy (0: not at all)
    egress_deny: tuple[str, ...] = ()  # what no egress gateway lets a name lead to
    mirror_every_s: int = 300  # how often a repository's mirror fetches (0: no mirrors)


class DockerPlane(pulumi.ComponentResource):
    runtime: ClassVar[Runtime] = Runtime.DOCKER
    effects: ClassVar[Mapping[str, Effect]] = {n: route.effect for n, route in ROUTES.items()}
    outputs: PlaneOutputs
    keys: FleetKeys
    """The keys volume: the supervisor mounts it too (its known_hosts)."""

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
            *egress_problems(entries, spec, settings.name_prefix),
            *toolchain_problems(entries, spec),
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
        images = sandbox_images(on, args.entries, child)
        sidecar_image, egress_image = _helper_images(on, args.entries, child)
        ssh_secret = args.secret(SSH_SECRET_KEY)
        assert ssh_secret is not None, "Fleet's problems() stop a host stack without it"
        self.keys = FleetKeys(
            on.name,
            keys=[*args.authorized_keys, supervisor_public_key(ssh_secret)],
            known_hosts=known_hosts(ssh_secret, [e.name for e in args.entries]),
            image_id=images.headless,
            place=on.place(FLEET_KEYS),
            opts=child,
        )
        shared = _Shared(
            images=images,
            sidecar_image=sidecar_image,
            egress_image=egress_image,
            ssh_secret=ssh_secret,
            memory=RepoMemory(
                on.name, [e.repo for e in args.entries if e.repo], on.place("memory"), child
            ),
            mirrors=RepoMirrors(
                on.name,
                RepoMirrorsArgs(
                    entries=args.entries,
                    image_id=images.headless,
                    place=on.place("mirror"),
                    secrets=args.secrets,
                    every_s=own.mirror_every_s,
                ),
                child,
            ),
            desktop_seed=args.secret(DESKTOP_SECRET_KEY),  # problems() stop a desktop without
        )
        built = {e.name: self._sandbox(e, shared, args, child) for e in args.entries}
        self.outputs = {name: outputs for name, (_, outputs) in built.items()}
        watched = [*(m.ready for m in shared.mirrors.mirrors.values()),
                   *(sandbox.ready for sandbox, _ in built.values())]  # fmt: skip
        if own.ready_timeout_s and watched:  # one wait for them all: readiness.py says why
            ready = ReadinessArgs(watched=watched, timeout_s=own.ready_timeout_s, cli=on.host.cli)
            Readiness(f"{on.name}-ready", ready, child)
        self.register_outputs({"sandboxes": self.outputs})

    def _sandbox(
        self,
        entry: SandboxSpec,
        shared: _Shared,
        args: PlaneArgs[DockerHost],
        child: pulumi.ResourceOptions,
    ) -> tuple[Sandbox, SandboxOutputs | pulumi.Output[SandboxOutputs]]:
        """One entry's sandbox (and its sidecar or gateway), and how to reach it."""
        own, on = args.own, args.own.on
        password = None
        if entry.mode is Mode.VISUAL and shared.desktop_seed is not None:
            password = desktop_password(shared.desktop_seed, entry.name)
        sandbox = Sandbox(
            f"{on.name}-{entry.name}",
            SandboxArgs(
                spec=entry,
                image_id=shared.images.of(entry),
                place=on.place("sandbox", entry.name),
                keys=self.keys,
                secrets={k: args.secrets[k] for k in entry.secrets},
                tailnet=_sidecar(entry, own, shared.sidecar_image, shared.images.headless),
                desktop_password=password,
                egress=_gateway(entry, own, shared.egress_image, child),
                host_key=host_private_key(shared.ssh_secret, entry.name),
                memory=shared.memory.of(entry.repo),
                mirror=shared.mirrors.of(entry),
            ),
            child,
        )
        magic_dns = own.tailnet.magic_dns_names.get(entry.name)
        found = connections(entry, on.bind, on.identity, args.authorized_keys, magic_dns)
        return sandbox, found if password is None else with_desktop_login(found, password)


@dataclass(frozen=True, kw_only=True)
class _Shared:
    """What the plane's sandboxes share: images, keys, memories, the desktops' seed."""

    images: SandboxImages
    sidecar_image: pulumi.Output[str] | None
    egress_image: pulumi.Output[str] | None
    ssh_secret: pulumi.Output[str]
    memory: RepoMemory
    mirrors: RepoMirrors
    desktop_seed: pulumi.Output[str] | None


def _helper_images(
    on: OnHost, entries: list[SandboxSpec], child: pulumi.ResourceOptions
) -> tuple[pulumi.Output[str] | None, pulumi.Output[str] | None]:
    """tailscaled for the entries with their own tailnet node; images/egress (squid, socat)
    for the entries with an egress list. Neither is made for a fleet that does not use it."""
    sidecar = (
        on.pull("tailscale", TAILSCALE_IMAGE, child) if any(e.tailnet for e in entries) else None
    )
    egress = on.image("egress", child) if any(e.egress is not None for e in entries) else None
    return sidecar, egress


def _gateway(
    entry: SandboxSpec,
    own: DockerHost,
    image: pulumi.Output[str] | None,
    child: pulumi.ResourceOptions,
) -> EgressGateway | None:
    """The only way out of a sandbox with an egress list."""
    if entry.egress is None or image is None:
        return None
    args = EgressGatewayArgs(
        spec=entry,
        image_id=image,
        place=own.on.place("egress", entry.name),
        published=published_ports(entry),
        deny=own.egress_deny,
        ready_timeout_s=own.ready_timeout_s,
    )
    return EgressGateway(f"{own.on.name}-{entry.name}-egress", args, child)


def _sidecar(
    entry: SandboxSpec,
    own: DockerHost,
    image: pulumi.Output[str] | None,
    headless: pulumi.Output[str],
) -> TailnetSidecar | None:
    """tailscaled beside the sandbox, for an entry with its own tailnet identity."""
    if image is None or not entry.tailnet or own.sandbox_tag is None:
        return None
    key = own.tailnet.sandbox_auth_keys[entry.name]
    return TailnetSidecar(image, key, own.sandbox_tag, owner_image_id=headless)
