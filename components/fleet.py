"""Fleet: route every spec entry to its plane, build the shared pieces once, export connections."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_docker as docker

from .contract import MODEL_SERVER, SUPERVISOR
from .host.containers import Placement, identity_labels
from .host.engine import HeadlessHost, HeadlessHostArgs, engine_of, ssh_connection
from .host.images import LocalImage, LocalImageArgs
from .host.preflight import PreflightArgs
from .host.storage import SharedStorage, SharedStorageArgs
from .outputs import FleetOutputs
from .planes import PLANES, SecretLookup
from .planes.daytona.component import API_KEY, DaytonaPlane, DaytonaPlaneArgs
from .planes.docker.connections import connections, not_deployed_here
from .planes.docker.sandbox import (
    Sandbox,
    SandboxArgs,
    TailnetSidecar,
    published_ports,
)  # fmt: skip
from .planes.modal.component import TOKEN_KEYS, ModalPlane, ModalPlaneArgs
from .planes.modal.provider import ModalCredentials
from .services.model_server import ModelServer, ModelServerArgs
from .services.supervisor import Supervisor, SupervisorArgs
from .settings import HostVariant, StackSettings
from .spec import FleetSpec, Mode, Runtime, SandboxSpec
from .spec.fields import parse_size
from .tailnet.access import TailnetAccess, TailnetAccessArgs

PROJECT_DIR = Path(__file__).resolve().parent.parent
TAILSCALE_IMAGE = "tailscale/tailscale:stable"  # pulled on the host; tailscaled for sidecars


@dataclass(frozen=True, kw_only=True)
class FleetArgs:
    settings: StackSettings
    spec: FleetSpec
    stack: str
    secret: SecretLookup  # a Pulumi secret config value by key, or None when unset


def host_ports(entries: list[SandboxSpec], s: StackSettings) -> list[int]:
    """Every host port the fleet publishes: what the tailnet policy opens, and nothing more."""
    ports = [host for e in entries for _, host in published_ports(e)] + [s.supervisor.port]
    return sorted(ports + ([s.model_server.port] if s.model_server.publish else []))


def requested(entries: list[SandboxSpec], s: StackSettings) -> tuple[int, float]:
    """Summed memory (bytes) and CPUs of every container's limits, for the capacity check."""
    memory = sum(e.memory_bytes for e in entries) + parse_size(s.supervisor.memory)
    cpus = sum(e.cpus for e in entries) + float(s.supervisor.cpus)
    if s.model_server.enabled:
        memory += parse_size(s.model_server.memory)
        cpus += float(s.model_server.cpus)
    return memory, cpus


class Fleet(pulumi.ComponentResource):
    outputs: FleetOutputs
    """Stack outputs: sandboxes, host, and the shared services this host runs."""

    def __init__(
        self, name: str, args: FleetArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        s, spec = args.settings, args.spec
        taken = {runtime: plane.entries(spec, s) for runtime, plane in PLANES.items()}
        here, daytona, modal = (taken[r] for r in (Runtime.DOCKER, Runtime.DAYTONA, Runtime.MODAL))
        # Every problem the spec and the settings have together, reported at once, before the
        # first resource (this one included) is registered.
        problems = [
            *(
                p
                for r, plane in PLANES.items()
                for p in plane.problems(taken[r], spec, s, args.secret)
            ),
            *_missing_secrets(here + daytona + modal, spec, args.secret),
        ]
        if problems:
            raise pulumi.RunError("\n".join(problems))
        super().__init__("sandbox-fleet:index:Fleet", name, None, opts)
        daytona_key = args.secret(API_KEY) if daytona else None
        modal_tokens = [args.secret(k) if modal else None for k in TOKEN_KEYS]
        secrets = {
            key: value
            for e in here + daytona + modal
            for key in e.secrets
            if (value := args.secret(key)) is not None
        }
        self.outputs = {
            "sandboxes": {e.name: not_deployed_here(e, why)
                          for e, why in _elsewhere(spec, s, here + daytona + modal)},
            "host": {"name": s.host.name, "variant": s.host.variant.value,
                     "bindAddress": s.bind_address},
        }  # fmt: skip
        if daytona_key is not None:
            plane = DaytonaPlane(
                f"{name}-daytona",
                DaytonaPlaneArgs(
                    settings=s,
                    entries=daytona,
                    api_key=daytona_key,
                    secrets=secrets,
                    fleet_id=fleet_id(s),
                    stack=args.stack,
                ),
                pulumi.ResourceOptions(parent=self),
            )
            self.outputs["sandboxes"] |= plane.outputs
        token_id, token_secret = modal_tokens
        if token_id is not None and token_secret is not None:
            modal_plane = ModalPlane(
                f"{name}-modal",
                ModalPlaneArgs(
                    settings=s,
                    entries=modal,
                    credentials=ModalCredentials(token_id, token_secret),
                    secrets=secrets,
                    fleet_id=fleet_id(s),
                    stack=args.stack,
                ),
                pulumi.ResourceOptions(parent=self),
            )  # fmt: skip
            self.outputs["sandboxes"] |= modal_plane.outputs
        if s.host.variant is not HostVariant.NONE:
            identities = [e for e in here if e.tailnet]
            tailnet = TailnetAccess(
                f"{name}-tailnet",
                TailnetAccessArgs(
                    settings=s.tailnet,
                    published_ports=host_ports(here, s),
                    hosts=[s.host.name],
                    sandbox_identities=[e.name for e in identities],
                    connection=ssh_connection(s.host),
                    project_dir=PROJECT_DIR,
                ),
                pulumi.ResourceOptions(parent=self),
            )
            on = _OnHost(self, name, args, tailnet, self._host(name, args, here, tailnet))
            self._shared_services(on)
            self._sandboxes(on, here, secrets, tailnet)
            self.outputs["host"] |= {"bindAddress": on.bind, "dockerHost": on.host.docker_host}
        self.register_outputs(self.outputs)

    def _host(
        self, name: str, args: FleetArgs, here: list[SandboxSpec], tailnet: TailnetAccess
    ) -> HeadlessHost:
        s = args.settings
        memory, cpus = requested(here, s)
        checks = PreflightArgs(
            settings=s.preflight,
            engine="docker",  # the host sets engine and connection
            requested_memory_bytes=memory,
            requested_cpus=cpus,
            expected_address=tailnet.bind_address if s.tailnet else None,
            daytona_url=f"{s.top.daytonaUrl.rstrip('/')}/health" if s.top.daytonaUrl else None,
            visual_sandboxes=[e.name for e in here if e.mode is Mode.VISUAL],
        )
        return HeadlessHost(
            f"{name}-host",
            HeadlessHostArgs(settings=s.host, preflight=checks),
            pulumi.ResourceOptions(parent=self),
        )

    def _shared_services(self, on: _OnHost) -> None:
        s = on.settings
        model_server = None
        if s.model_server.enabled:
            model_image = (
                on.image(MODEL_SERVER)
                if s.model_server.build
                else on.pull(MODEL_SERVER, s.model_server.image)
            )
            model_server = ModelServer(
                f"{on.name}-model-server",
                ModelServerArgs(
                    settings=s.model_server,
                    image_id=model_image,
                    model_volume=on.storage.model_data,
                    place=on.place(MODEL_SERVER),
                ),
                on.child,
            )
            self.outputs["modelServer"] = {
                "internalUrl": model_server.internal_url,
                "externalUrl": model_server.external_url,
            }
        supervisor = Supervisor(
            f"{on.name}-supervisor",
            SupervisorArgs(
                settings=s.supervisor,
                image_id=on.image(SUPERVISOR),
                logs_volume=on.storage.logs,
                workspace_volume=on.storage.workspace,
                place=on.place(SUPERVISOR),
                model_server=model_server.container if model_server else None,
            ),
            on.child,
        )
        self.outputs[SUPERVISOR] = {"apiUrl": supervisor.api_url}

    def _sandboxes(
        self,
        on: _OnHost,
        here: list[SandboxSpec],
        secrets: dict[str, pulumi.Output[str]],
        tailnet: TailnetAccess,
    ) -> None:
        s = on.settings
        modes = {e.mode for e in here}
        images: dict[Mode, pulumi.Output[str]] = {}
        if modes:  # the desktop image is built FROM the headless one
            images[Mode.HEADLESS] = on.image("headless")
        if Mode.VISUAL in modes:
            images[Mode.VISUAL] = on.image("desktop", base_image_id=images[Mode.HEADLESS])
        sidecar_image = (
            on.pull("tailscale", TAILSCALE_IMAGE) if any(e.tailnet for e in here) else None
        )
        for entry in here:
            sidecar = None
            if sidecar_image is not None and entry.tailnet and s.tailnet is not None:
                sidecar = TailnetSidecar(
                    sidecar_image, tailnet.sandbox_auth_keys[entry.name], s.tailnet.sandbox_tag
                )
            Sandbox(
                f"{on.name}-{entry.name}",
                SandboxArgs(
                    spec=entry,
                    image_id=images[entry.mode],
                    place=on.place("sandbox", entry.name),
                    authorized_keys=s.top.sshAuthorizedKeys,
                    secrets={k: secrets[k] for k in entry.secrets},
                    docker_host=on.host.docker_host,
                    engine=engine_of(s.host.variant),
                    tailnet=sidecar,
                ),
                on.child,
            )
            self.outputs["sandboxes"][entry.name] = connections(
                entry, on.bind, s.name_prefix, tailnet.magic_dns_names.get(entry.name)
            )


class _OnHost:
    """What every piece built on the host shares: its provider, storage, address, identity."""

    def __init__(
        self, fleet: Fleet, name: str, args: FleetArgs, tailnet: TailnetAccess, host: HeadlessHost
    ) -> None:
        s = self.settings = args.settings
        self.name, self.host, self.stack = name, host, args.stack
        self.child = pulumi.ResourceOptions(parent=fleet)
        self.on_host = pulumi.ResourceOptions(parent=fleet, provider=host.provider)
        self.fleet_id = fleet_id(s)
        self.bind: pulumi.Input[str] = tailnet.bind_address if s.tailnet else s.bind_address
        self.storage = SharedStorage(
            f"{name}-storage",
            SharedStorageArgs(
                fleet=self.fleet_id, stack=args.stack, prefix=s.name_prefix, provider=host.provider
            ),
            self.child,
        )

    def image(
        self, role: str, base_image_id: pulumi.Input[str] | None = None
    ) -> pulumi.Output[str]:
        """One of images/, built on the host (or expected there when buildImages is off)."""
        tag = f"sandbox-fleet/{role}:latest"
        if not self.settings.top.buildImages:
            return self.pull(role, tag)
        args = LocalImageArgs(
            directory=role, tag=tag, provider=self.host.provider, base_image_id=base_image_id
        )
        return LocalImage(f"{self.name}-{role}-image", args, self.child).image_id

    def pull(self, role: str, image: str) -> pulumi.Output[str]:
        return docker.RemoteImage(
            f"{self.name}-{role}-image", name=image, keep_locally=True, opts=self.on_host
        ).image_id

    def place(self, role: str, sandbox: str = "") -> Placement:
        return Placement(
            self.host.provider,
            self.storage.network_name,
            self.bind,
            self.settings.name_prefix,
            identity_labels(self.fleet_id, self.stack, role, sandbox),
        )


def fleet_id(s: StackSettings) -> str:
    """What the identity labels call this fleet: one project, isolated by the name prefix."""
    return f"{s.name_prefix}{pulumi.get_project()}"


def _elsewhere(
    spec: FleetSpec, s: StackSettings, deployed: list[SandboxSpec]
) -> list[tuple[SandboxSpec, str]]:
    """The entries this stack does not create, and why (logged, and put in the outputs)."""
    mine = {e.name for e in deployed}
    found = []
    for e in spec.sandboxes:
        if e.name in mine:
            continue
        if e.host not in (None, s.host.name):
            why = f"placed on host {e.host}; the stack for that host deploys it"
        elif e.runtime is Runtime.MODAL:
            why = (
                "this stack does not use Modal (sandbox-fleet:modalEnabled); "
                "the stack that does deploys it"
            )
        elif e.runtime is Runtime.DAYTONA:
            why = (
                "this stack has no Daytona server (sandbox-fleet:daytonaUrl); "
                "the stack with one deploys it"
            )
        else:
            why = (
                "runtime docker, but this stack has no container host (hostVariant: none); "
                "the stack with one deploys it"
            )
        found.append((e, why))
        if e.host in (None, s.host.name):
            pulumi.log.warn(f"sandboxes.{e.name}: {why}")
        else:
            pulumi.log.info(f"sandboxes.{e.name}: {why}")
    for name in spec.expired:
        pulumi.log.warn(
            f"sandboxes.{name}: expired; left out (its container is removed, "
            "its workspace kept unless the entry says data: discard)"
        )
    return found


def _missing_secrets(
    entries: list[SandboxSpec], spec: FleetSpec, lookup: SecretLookup
) -> list[str]:
    return [
        f"{spec.file}:{e.line}: sandboxes.{e.name}.secrets: {key} is not set in this stack; "
        f"run `pulumi config set --secret {key} <value>`"
        for e in entries
        for key in e.secrets
        if lookup(key) is None
    ]
