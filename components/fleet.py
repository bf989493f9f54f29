"""Fleet: route every spec entry to its plane, build the shared pieces once, export connections."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from . import factory
from .host.containers import FleetIdentity
from .host.engine import HeadlessHost, HeadlessHostArgs
from .host.on_host import OnHost
from .host.preflight import PreflightArgs
from .host.ssh import SshTarget
from .outputs import FleetOutputs, not_deployed_here, ssh_config
from .planes import PLANES, PlaneArgs, SecretLookup
from .planes.daytona.component import DaytonaTarget
from .planes.docker import DockerHost
from .planes.docker.sandbox import published_ports
from .services.daytona_server import daytona_server
from .services.daytona_server import requested as server_requested
from .services.shared import shared_services
from .settings import (
    BUS_SECRET_KEY,
    DAYTONA_SERVER_SECRET_KEY,
    DESKTOP_SECRET_KEY,
    MODEL_SERVER_API_KEY_KEY,
    PROJECT,
    SSH_SECRET_KEY,
    SUPERVISOR_API_TOKEN_KEY,
    HostVariant,
    StackSettings,
)
from .sizes import GIB, parse_size
from .spec import FleetSpec, Mode, Role, Runtime, SandboxSpec
from .tailnet.access import TailnetAccess, TailnetAccessArgs

PROJECT_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, kw_only=True)
class FleetArgs:
    settings: StackSettings
    spec: FleetSpec
    stack: str
    secret: SecretLookup  # a Pulumi secret config value by key, or None when unset


def host_ports(entries: list[SandboxSpec], s: StackSettings) -> list[int]:
    """Every host port the fleet publishes: what the tailnet policy opens, and nothing more."""
    return sorted(
        [host for e in entries for _, host in published_ports(e)] + [*s.host_ports.values()]
    )


def peer_ports(f: factory.Factory, s: StackSettings) -> list[int]:
    """What the hosts of a fleet on several hosts reach on one another over the tailnet:
    headquarters' bus. Every stack of such a fleet knows it (`busPort` is the same number on
    all), so the grant is in the policy whichever of them keeps it (`tailnetManageAcl`)."""
    return [] if f.role is Role.SINGLE else [s.bus.port]


def requested(entries: list[SandboxSpec], s: StackSettings) -> tuple[int, float]:
    """Summed memory (bytes) and CPUs of every container's limits, for the capacity check."""
    memory = sum(e.memory_bytes for e in entries) + parse_size(s.supervisor.memory)
    cpus = sum(e.cpus for e in entries) + float(s.supervisor.cpus)
    if s.model_server.enabled:
        memory += parse_size(s.model_server.memory)
        cpus += float(s.model_server.cpus)
    if s.runs_bus:
        memory += parse_size(s.bus.memory)
        cpus += float(s.bus.cpus)
    if s.runs_daytona_server:
        server_memory, server_cpus = server_requested(s.daytona_server)
        memory, cpus = memory + server_memory, cpus + server_cpus
    return memory, cpus


def problems(
    spec: FleetSpec, s: StackSettings, secret: SecretLookup, taken: dict[Runtime, list[SandboxSpec]]
) -> list[str]:
    """Every problem the spec and the settings have together, found in one pass; `taken` is
    each plane's entries."""
    found = [p for r, plane in PLANES.items() for p in plane.problems(taken[r], spec, s, secret)]
    found += _missing_service_secrets(s, secret, taken[Runtime.DOCKER])
    found += _host_problems(spec, s, secret, taken)
    return found + [
        f"{spec.file}:{e.line}: sandboxes.{e.name}.secrets: {key} is not set in this stack; "
        f"run `pulumi config set --secret {key} <value>`"
        for entries in taken.values()
        for e in entries
        for key in e.secrets
        if secret(key) is None
    ]


class Fleet(pulumi.ComponentResource):
    outputs: FleetOutputs
    """Stack outputs: sandboxes, host, and the shared services this host runs."""

    def __init__(
        self, name: str, args: FleetArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        spec, this_host = args.spec, factory.factory(args.spec, args.settings)
        s = factory.pruned(args.settings, this_host)  # what it builds, by its capabilities
        taken = {runtime: plane.entries(spec, s) for runtime, plane in PLANES.items()}
        # Reported at once, before the first resource (this one included) is registered.
        if found := problems(spec, s, args.secret, taken):
            raise pulumi.RunError("\n".join(found))
        super().__init__("sandbox-fleet:index:Fleet", name, None, opts)
        deployed = [e for entries in taken.values() for e in entries]
        self.outputs = {
            "sandboxes": {e.name: not_deployed_here(e, why)
                          for e, why in _elsewhere(spec, s, deployed)},
            "host": {"name": s.host.name, "variant": s.host.variant.value,
                     "bindAddress": s.bind_address, "role": this_host.role.value,
                     "capabilities": [c.value for c in this_host.capabilities]},
        }  # fmt: skip
        own: dict[Runtime, object] = {Runtime.MODAL: s.modal}
        own[Runtime.DAYTONA] = DaytonaTarget(settings=s.daytona, url=s.daytona.url)
        if s.host.variant is not HostVariant.NONE:
            own[Runtime.DOCKER] = host = self._host(
                name, s, args.stack, taken[Runtime.DOCKER], peer_ports(this_host, s)
            )
            if s.runs_daytona_server:
                own[Runtime.DAYTONA] = _own_daytona(host, s, args.secret, self.outputs)
        keys = None
        for runtime, plane in PLANES.items():
            if taken[runtime]:
                built = plane(
                    f"{name}-{runtime.value}",
                    PlaneArgs(
                        own=own[runtime],
                        entries=taken[runtime],
                        identity=_identity(s, args.stack),
                        authorized_keys=s.top.sshAuthorizedKeys,
                        secrets=_secrets(taken[runtime], args.secret),
                        secret=args.secret,
                    ),
                    pulumi.ResourceOptions(parent=self),
                )
                self.outputs["sandboxes"] |= built.outputs
                keys = getattr(built, "keys", keys)  # the Docker plane's keys volume
        if isinstance(docker_host := own.get(Runtime.DOCKER), DockerHost):
            # After the planes: the supervisor mounts the Docker plane's keys volume.
            shared_services(docker_host.on, s, args.secret, keys, self.outputs, this_host)
            self.outputs["sshConfig"] = ssh_config(self.outputs["sandboxes"])
        self.register_outputs(self.outputs)

    def _host(
        self, name: str, s: StackSettings, stack: str, here: list[SandboxSpec], peers: list[int]
    ) -> DockerHost:
        """The container host with its tailnet access and shared services: what the Docker
        plane builds on."""
        child = pulumi.ResourceOptions(parent=self)
        tailnet = TailnetAccess(
            f"{name}-tailnet",
            TailnetAccessArgs(
                settings=s.tailnet,
                published_ports=host_ports(here, s),
                peer_ports=peers,
                hosts=[s.host.name],
                sandbox_identities=[e.name for e in here if e.tailnet],
                ssh=SshTarget.of(s.host),
                project_dir=PROJECT_DIR,
            ),
            child,
        )
        memory, cpus = requested(here, s)
        checks = PreflightArgs(
            settings=s.preflight,
            engine="docker",  # the host sets engine and SSH path
            requested_memory_bytes=memory,
            requested_cpus=cpus,
            expected_address=tailnet.bind_address if s.tailnet else None,
            **_daytona_checks(s),
            visual_sandboxes=[e.name for e in here if e.mode is Mode.VISUAL],
        )
        host = HeadlessHost(
            f"{name}-host", HeadlessHostArgs(settings=s.host, preflight=checks), child
        )
        on = OnHost(
            name,
            host=host,
            bind=tailnet.bind_address if s.tailnet else s.bind_address,
            identity=_identity(s, stack),
            build_images=s.top.buildImages,
            parent=self,
        )
        self.outputs["host"] |= {"bindAddress": on.bind, "dockerHost": host.docker_host}
        sandbox_tag = s.tailnet.sandbox_tag if s.tailnet else None
        return DockerHost(
            on=on,
            tailnet=tailnet,
            sandbox_tag=sandbox_tag,
            ready_timeout_s=s.top.readyTimeoutSeconds,
            egress_deny=s.top.egressDenyAddresses,
            mirror_every_s=s.top.mirrorFetchSeconds if s.top.mirrorEnabled else 0,
        )


def _own_daytona(
    host: DockerHost, s: StackSettings, secret: SecretLookup, outputs: FleetOutputs
) -> DaytonaTarget:
    """The stack's own Daytona server, on its host, as the Daytona plane's target."""
    server = daytona_server(host.on, s, secret, outputs)
    return DaytonaTarget(
        settings=s.daytona,
        url=s.daytona.url or server.api_url,  # daytonaUrl may name it otherwise
        api_key=server.admin_api_key,
        ready=[server.api],
    )


def _daytona_checks(s: StackSettings) -> dict[str, Any]:
    """The preflight's Daytona checks: a server elsewhere must answer; the stack's own (not
    there yet: `up` waits for its health) must find disk and kernel features on the host."""
    if s.runs_daytona_server:
        return {"daytona_server_disk_bytes": s.daytona_server.disk_gib * GIB}
    return {"daytona_url": f"{s.daytona.url.rstrip('/')}/health" if s.daytona.url else None}


def _missing_service_secrets(
    s: StackSettings, secret: SecretLookup, here: list[SandboxSpec]
) -> list[str]:
    """The host's services take work only with their credentials: the task API its token, the
    model server (when the stack runs one) its API key, each desktop its VNC password."""
    if s.host.variant is HostVariant.NONE:
        return []
    needed = {
        SUPERVISOR_API_TOKEN_KEY: "the task API takes work only with this token",
        SSH_SECRET_KEY: "the supervisor's SSH key and every sandbox's host key are derived from it",
    }
    if s.model_server.enabled:
        needed[MODEL_SERVER_API_KEY_KEY] = "the model server answers only with this key"
    if any(e.mode is Mode.VISUAL for e in here):
        needed[DESKTOP_SECRET_KEY] = "each desktop's VNC password is derived from it"
    if s.runs_daytona_server:
        needed[DAYTONA_SERVER_SECRET_KEY] = (
            "the Daytona server's keys and passwords are derived from it"
        )
    return [
        f"Pulumi.{pulumi.get_stack()}.yaml: {PROJECT}:{key}: not set; {why}. `scripts/up` "
        f'makes one, or run `pulumi config set --secret {key} "$(openssl rand -hex 32)"`'
        for key, why in needed.items()
        if secret(key) is None
    ]


def _identity(s: StackSettings, stack: str) -> FleetIdentity:
    """What the identity labels call this fleet: one project, isolated by the name prefix."""
    return FleetIdentity(
        fleet_id=f"{s.name_prefix}{pulumi.get_project()}", stack=stack, name_prefix=s.name_prefix
    )


def _secrets(entries: list[SandboxSpec], lookup: SecretLookup) -> dict[str, pulumi.Output[str]]:
    """The values of the secrets these entries name (all set: `problems` checked)."""
    return {key: value for e in entries for key in e.secrets if (value := lookup(key)) is not None}


def _host_problems(
    spec: FleetSpec, s: StackSettings, secret: SecretLookup, taken: dict[Runtime, list[SandboxSpec]]
) -> list[str]:
    """Between the spec's `hosts:` and this stack (components/factory.py), and, with `hosts:`,
    an entry placed on this host that it does not build: it would be built nowhere."""
    stack_file = f"Pulumi.{pulumi.get_stack()}.yaml"
    found = factory.problems(spec, s, stack_file, secret(BUS_SECRET_KEY) is not None)
    if found or not spec.hosts:
        return found
    found += factory.capacity_problems(spec, s, *requested(taken[Runtime.DOCKER], s))
    built = {e.name for entries in taken.values() for e in entries}
    return found + [
        f"{spec.file}:{e.line}: sandboxes.{e.name}: placed on host {e.host}, whose stack "
        f"({stack_file}) cannot build it: {factory.why_not_here(e, s)[0]}"
        for e in spec.sandboxes
        if e.host == s.host.name and e.name not in built
    ]


def _elsewhere(
    spec: FleetSpec, s: StackSettings, deployed: list[SandboxSpec]
) -> list[tuple[SandboxSpec, str]]:
    """The entries this stack does not create, and why (logged, and put in the outputs)."""
    mine = {e.name for e in deployed}
    found = []
    for e in (e for e in spec.sandboxes if e.name not in mine):
        why, who = factory.why_not_here(e, s)
        found.append((e, f"{why}; {who} deploys it"))
        log = pulumi.log.warn if e.host in (None, s.host.name) else pulumi.log.info
        log(f"sandboxes.{e.name}: {why}; {who} deploys it")
    for name in spec.expired:
        pulumi.log.warn(
            f"sandboxes.{name}: expired; left out (its container is removed, "
            "its workspace kept unless the entry says data: discard)"
        )
    return found
