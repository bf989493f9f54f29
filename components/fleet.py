"""Fleet: route every spec entry to its plane, build the shared pieces once, export connections."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_docker as docker

from .containers import Placement, identity_labels
from .host import HeadlessHost, HeadlessHostArgs, ssh_connection
from .images import LocalImage, LocalImageArgs
from .model_server import ModelServer, ModelServerArgs
from .preflight import PreflightArgs
from .sandbox import (
    Sandbox,
    SandboxArgs,
    TailnetSidecar,
    published_ports,
    workspace_volume_name,
)  # fmt: skip
from .settings import HostVariant, StackSettings
from .spec import FleetSpec, Mode, Runtime
from .spec import Sandbox as SandboxSpec
from .spec.fields import parse_size
from .spec.models import NOVNC_CONTAINER_PORT, SSH_CONTAINER_PORT
from .storage import SharedStorage, SharedStorageArgs
from .supervisor import Supervisor, SupervisorArgs
from .tailnet import TailnetAccess, TailnetAccessArgs

PROJECT_DIR = Path(__file__).resolve().parent.parent
TAILSCALE_IMAGE = "tailscale/tailscale:stable"  # pulled on the host; tailscaled for sidecars
SecretLookup = Callable[[str], pulumi.Output[str] | None]


@dataclass(frozen=True)
class FleetArgs:
    settings: StackSettings
    spec: FleetSpec
    stack: str
    secret: SecretLookup  # a Pulumi secret config value by key, or None when unset


def docker_entries(spec: FleetSpec, settings: StackSettings) -> list[SandboxSpec]:
    """The entries this stack runs as containers: docker runtime, placed on this host."""
    if settings.host.variant is HostVariant.NONE:
        return []
    return [
        s
        for s in spec.sandboxes
        if s.runtime is Runtime.DOCKER and s.host in (None, settings.host.name)
    ]


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
    outputs: dict[str, Any]
    """Stack outputs: sandboxes, modelServer, supervisor, host."""

    def __init__(
        self, name: str, args: FleetArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("sandbox-fleet:index:Fleet", name, None, opts)
        s, spec = args.settings, args.spec
        here = docker_entries(spec, s)
        _report_elsewhere(spec, s)
        secrets = _secrets(here, spec, args.secret)
        fleet_id = f"{s.name_prefix}{pulumi.get_project()}"
        child = pulumi.ResourceOptions(parent=self)
        sandboxes: dict[str, Any] = {
            e.name: {
                "mode": e.mode.value,
                "runtime": e.runtime.value,
                "branch": e.branch,
                "status": f"not yet available: the {e.runtime.value} plane is not built",
            }
            for e in spec.sandboxes
            if e.runtime is not Runtime.DOCKER
        }
        self.outputs = {
            "sandboxes": sandboxes,
            "host": {
                "name": s.host.name,
                "variant": s.host.variant.value,
                "bindAddress": s.bind_address,
            },
        }
        if s.host.variant is HostVariant.NONE:
            self.register_outputs(self.outputs)
            return

        identities = _tailnet_identities(here, spec, s)
        tailnet = TailnetAccess(
            f"{name}-tailnet",
            TailnetAccessArgs(
                s.tailnet,
                host_ports(here, s),
                [s.host.name],
                [e.name for e in identities],
                ssh_connection(s.host),
                PROJECT_DIR,
            ),
            child,
        )
        bind: pulumi.Input[str] = tailnet.bind_address if s.tailnet else s.bind_address
        memory, cpus = requested(here, s)
        host = HeadlessHost(
            f"{name}-host",
            HeadlessHostArgs(
                s.host,
                PreflightArgs(
                    s.preflight,
                    "docker",
                    memory,
                    cpus,
                    expected_address=tailnet.bind_address if s.tailnet else None,
                    daytona_url=s.top.daytonaUrl or None,
                    visual_sandboxes=[e.name for e in here if e.mode is Mode.VISUAL],
                ),
            ),
            child,
        )
        provider = host.provider
        on_host = pulumi.ResourceOptions(parent=self, provider=provider)

        def image(role: str) -> pulumi.Output[str]:
            if not s.top.buildImages:
                return docker.RemoteImage(
                    f"{name}-{role}-image",
                    keep_locally=True,
                    name=f"sandbox-fleet/{role}:latest",
                    opts=on_host,
                ).image_id
            return LocalImage(
                f"{name}-{role}-image",
                LocalImageArgs(role, f"sandbox-fleet/{role}:latest", provider),
                child,
            ).image_id

        def place(role: str, sandbox: str = "") -> Placement:
            return Placement(
                provider,
                storage.network_name,
                bind,
                s.name_prefix,
                identity_labels(fleet_id, args.stack, role, sandbox),
            )

        storage = SharedStorage(
            f"{name}-storage",
            SharedStorageArgs(fleet_id, args.stack, s.name_prefix, provider),
            child,
        )
        model_server = None
        if s.model_server.enabled:
            model_image = (
                image("model-server")
                if s.model_server.build
                else docker.RemoteImage(
                    f"{name}-model-server-image",
                    name=s.model_server.image,
                    keep_locally=True,
                    opts=on_host,
                ).image_id
            )
            model_server = ModelServer(
                f"{name}-model-server",
                ModelServerArgs(
                    s.model_server, model_image, storage.model_data, place("model-server")
                ),
                child,
            )
            self.outputs["modelServer"] = {
                "internalUrl": model_server.internal_url,
                "externalUrl": model_server.external_url,
            }
        supervisor = Supervisor(
            f"{name}-supervisor",
            SupervisorArgs(
                s.supervisor,
                image("supervisor"),
                storage.logs,
                storage.workspace,
                place("supervisor"),
                model_server.container if model_server else None,
            ),
            child,
        )
        self.outputs["supervisor"] = {"apiUrl": supervisor.api_url}

        images = {
            mode: image("desktop" if mode is Mode.VISUAL else "headless")
            for mode in sorted({e.mode for e in here})
        }
        sidecar_image = (
            docker.RemoteImage(f"{name}-tailscale-image", name=TAILSCALE_IMAGE,
                               keep_locally=True, opts=on_host).image_id
            if identities else None
        )  # fmt: skip
        for entry in here:
            sidecar = None
            if sidecar_image is not None and entry.tailnet and s.tailnet is not None:
                sidecar = TailnetSidecar(
                    sidecar_image, tailnet.sandbox_auth_keys[entry.name], s.tailnet.sandbox_tag
                )
            Sandbox(
                f"{name}-{entry.name}",
                SandboxArgs(
                    entry,
                    images[entry.mode],
                    place("sandbox", entry.name),
                    s.top.sshAuthorizedKeys,
                    {k: secrets[k] for k in entry.secrets},
                    host.docker_host,
                    sidecar,
                ),
                child,
            )
            sandboxes[entry.name] = _connections(
                entry, bind, s.name_prefix, tailnet.magic_dns_names.get(entry.name)
            )
        self.outputs["host"] |= {"bindAddress": bind, "dockerHost": host.docker_host}
        self.register_outputs(self.outputs)


def _report_elsewhere(spec: FleetSpec, s: StackSettings) -> None:
    for e in spec.sandboxes:
        if e.runtime is not Runtime.DOCKER:
            pulumi.log.warn(
                f"sandboxes.{e.name}: runtime {e.runtime.value} is not yet "
                "available; the entry is listed in outputs and not deployed"
            )
        elif s.host.variant is HostVariant.NONE:
            pulumi.log.warn(
                f"sandboxes.{e.name}: runtime docker, but this stack has no "
                "container host (hostVariant: none); the stack with one deploys it"
            )
        elif e.host not in (None, s.host.name):
            pulumi.log.info(
                f"sandboxes.{e.name}: placed on host {e.host}; the stack for that host deploys it"
            )
    for name in spec.expired:
        pulumi.log.warn(
            f"sandboxes.{name}: expired; left out (its container is removed, "
            "its workspace kept unless the entry says data: discard)"
        )


def _secrets(
    entries: list[SandboxSpec], spec: FleetSpec, lookup: SecretLookup
) -> dict[str, pulumi.Output[str]]:
    found: dict[str, pulumi.Output[str]] = {}
    missing = []
    for e in entries:
        for key in e.secrets:
            value = lookup(key)
            if value is None:
                missing.append(
                    f"{spec.file}:{e.line}: sandboxes.{e.name}.secrets: {key} is not "
                    f"set in this stack; run `pulumi config set --secret {key} <value>`"
                )
            else:
                found[key] = value
    if missing:
        raise pulumi.RunError("\n".join(missing))
    return found


def _tailnet_identities(
    here: list[SandboxSpec], spec: FleetSpec, s: StackSettings
) -> list[SandboxSpec]:
    identities = [e for e in here if e.tailnet]
    if identities and (s.tailnet is None or not s.tailnet.sandbox_identity):
        raise pulumi.RunError(
            "\n".join(
                f"{spec.file}:{e.line}: sandboxes.{e.name}.tailnet: joining the tailnet needs "
                "sandbox-fleet:tailnetEnabled and sandbox-fleet:tailnetSandboxIdentity set to true "
                "in this stack"
                for e in identities
            )
        )
    return identities


def _connections(
    entry: SandboxSpec, bind: pulumi.Input[str], prefix: str, magic_dns: str | None = None
) -> Any:
    def info(address: str) -> dict[str, Any]:
        found = connection_info(entry, address) | {
            "workspace": workspace_volume_name(prefix, entry.name)
        }
        if magic_dns:  # its own tailnet name answers on the sandbox's own ports
            found |= connection_info(entry, magic_dns, own_identity=True)
        return found

    # A plain address (no tailnet discovery) needs no Output: cheaper for large fleets.
    if isinstance(bind, str):
        return info(bind)
    return pulumi.Output.from_input(bind).apply(info)  # type: ignore[arg-type]


def connection_info(
    entry: SandboxSpec, address: str, *, own_identity: bool = False
) -> dict[str, Any]:
    """How a person reaches the sandbox: SSH, editors, the desktop, and app ports. On its own
    tailnet identity the container ports answer directly; otherwise the host's published ones."""
    ports = {c: (c if own_identity else h) for c, h in published_ports(entry)}
    ssh = ports[SSH_CONTAINER_PORT]
    info: dict[str, Any] = {
        "mode": entry.mode.value,
        "runtime": entry.runtime.value,
        "task": entry.task.value,
        "branch": entry.branch,
        "ssh": f"ssh://dev@{address}:{ssh}",
        "zed": f"zed://ssh/dev@{address}:{ssh}/workspace",
        "vscode": f"vscode://vscode-remote/ssh-remote+dev@{address}:{ssh}/workspace",
        "ports": {str(c): h for c, h in ports.items()},
    }
    if NOVNC_CONTAINER_PORT in ports:
        info["novnc"] = (
            f"http://{address}:{ports[NOVNC_CONTAINER_PORT]}/vnc.html?autoconnect=1&resize=scale"
        )
    if own_identity:
        info["tailnetName"] = address
    return info
