"""Sandbox: one spec entry on the Docker plane — a workspace volume and a hardened container.

The workspace volume is retained when the sandbox goes away (data outlives compute) unless the
entry says `data: discard`. Re-adding a sandbox of the same name reattaches its old workspace.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_docker as docker

from ...contract import (
    NOVNC_PORT,
    SANDBOX_HOST_KEY,
    SANDBOX_VNC_PASSWORD,
    SSH_PORT,
    WORKSPACE_PATH,
)
from ...host.containers import (
    Limits,
    Placement,
    container_labels,
    env_list,
    fleet_container,
    healthcheck,
    volume_labels,
)
from ...spec import DataPolicy, Mode, SandboxSpec
from ..environment import sandbox_env
from .config_hash import hash_labels
from .egress import EgressGateway, proxy_env
from .fleet_keys import FleetKeys
from .memory import MemoryMount
from .mirror import MirrorMount
from .readiness import Watched
from .tailnet_sidecar import TailnetSidecar, join_tailnet

HEALTH = "/usr/local/bin/sandbox-health"  # images/headless: prints why a sandbox is not ready
HEALTH_WATCH_S = 50  # how long one health probe watches a ready sandbox (under its timeout)
DESKTOP_SHM_MB = 1024  # Chromium renders into /dev/shm; Docker's 64 MB default crashes tabs


@dataclass(frozen=True, kw_only=True)
class SandboxArgs:
    spec: SandboxSpec
    image_id: pulumi.Input[str]
    place: Placement
    keys: FleetKeys  # the fleet's SSH public keys, mounted read-only
    secrets: Mapping[str, pulumi.Output[str]]  # secret name -> value, for this entry's `secrets`
    tailnet: TailnetSidecar | None = None  # its own tailnet identity, when the entry asks
    desktop_password: pulumi.Output[str] | None = None  # VNC's, for a visual sandbox (secret)
    egress: EgressGateway | None = None  # its only way out, for an entry with an egress list
    host_key: pulumi.Output[str] | None = None  # its SSH host key, which the supervisor pins
    memory: MemoryMount | None = None  # its repository's memory (a sandbox with a repo)
    mirror: MirrorMount | None = None  # its repository's mirror, read-only (git's alternate)

    def secret_env(self) -> dict[str, pulumi.Output[str]]:
        """The entry's `secrets`, its SSH host key and the desktop's VNC password: the env only
        state's secrets hold (hashed by name only for the drift check)."""
        found = {k: self.secrets[k] for k in self.spec.secrets}
        if self.host_key is not None:
            found[SANDBOX_HOST_KEY] = self.host_key
        if self.desktop_password is not None:
            found[SANDBOX_VNC_PASSWORD] = self.desktop_password
        return found

    def starts_after(self) -> list[pulumi.Resource]:
        """Its keys volume there (not the writer: sshd reads the keys at each login, and a new
        sandbox, which replaces the writer to add its host key, need not wait for it), its
        gateway up, its repository's memory there and its mirror's keeper started (the sandbox
        waits for the mirror's first clone itself: images/headless/sandbox-sync)."""
        found: list[pulumi.Resource] = [self.keys.volume]
        found += [self.egress.container] if self.egress else []
        found += [self.memory.volume] if self.memory else []
        return found + ([self.mirror.keeper] if self.mirror else [])

    def mounts(self, workspace: str) -> list[docker.ContainerMountArgs]:
        """Its workspace, the fleet's keys (read-only), its repository's memory and mirror."""
        own = docker.ContainerMountArgs(type="volume", source=workspace, target=WORKSPACE_PATH)
        repo = [m.mount() for m in (self.memory, self.mirror) if m is not None]
        return [own, self.keys.mount(), *repo]

    def mounted(self, workspace: str) -> list[tuple[str, str]]:
        """The same as (source, target), for the drift hash."""
        repo = [m.mounted for m in (self.memory, self.mirror) if m is not None]
        return [(workspace, WORKSPACE_PATH), self.keys.mounted, *repo]


def workspace_volume_name(prefix: str, sandbox: str) -> str:
    return f"{prefix}workspace-{sandbox}"


def published_ports(spec: SandboxSpec) -> list[tuple[int, int]]:
    """(container port, host port) for everything the sandbox publishes."""
    hp = spec.host_ports
    pairs = [(SSH_PORT, hp.ssh)]
    if hp.novnc is not None:
        pairs.append((NOVNC_PORT, hp.novnc))
    return pairs + list(hp.apps)


class Sandbox(pulumi.ComponentResource):
    container: docker.Container
    """The sandbox container."""
    workspace: docker.Volume
    """Its workspace volume, mounted at /workspace."""

    def __init__(
        self, name: str, args: SandboxArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("sandbox-fleet:index:Sandbox", name, None, opts)
        spec = args.spec
        on_host = pulumi.ResourceOptions(parent=self, provider=args.place.provider)
        workspace = workspace_volume_name(args.place.prefix, spec.name)
        keep = spec.data is DataPolicy.KEEP
        kept = pulumi.ResourceOptions.merge(on_host, pulumi.ResourceOptions(retain_on_delete=keep))
        self.workspace = docker.Volume(
            f"{name}-workspace", name=workspace, labels=volume_labels(args.place.labels), opts=kept
        )
        env, port_pairs, network = _networking(args)
        self.container = fleet_container(
            f"{name}-container",
            args.place,
            Limits(memory_bytes=spec.memory_bytes, cpus=spec.cpus, pids=spec.pids),
            pulumi.ResourceOptions.merge(
                on_host,
                pulumi.ResourceOptions(
                    replace_on_changes=["healthcheck"],
                    depends_on=[self.workspace, *args.starts_after()],
                ),
            ),
            name=f"{args.place.prefix}{spec.name}",
            hostname=spec.name,
            image=args.image_id,
            envs=env_list(env, args.secret_env()),
            mounts=args.mounts(workspace),
            **network,
            ports=[args.place.port(c, h) for c, h in port_pairs],
            shm_size=DESKTOP_SHM_MB if spec.mode is Mode.VISUAL else None,
            # A long poll (images/headless/sandbox-health): the first probe a quarter second
            # after the start (Docker 20.10 has no start_interval), healthy within 0.1 s of
            # ready after that, one probe a minute once running.
            healthcheck=healthcheck(
                [HEALTH, "--watch", str(HEALTH_WATCH_S)],
                interval="250ms",
                timeout="1m0s",
                start_period="1m0s",
            ),
            labels=_labels(args, env, port_pairs, workspace),
        )
        # What `up` waits for (the plane's Readiness): checkout done, sshd answering.
        self.ready = Watched(subject=f"sandbox {spec.name}", container=self.container,
                             probe=[HEALTH])  # fmt: skip
        if args.tailnet is not None:
            join_tailnet(name, self.container, spec.name, args.place, args.tailnet, keep, on_host)
        self.register_outputs({"containerId": self.container.id, "workspace": workspace})


def _networking(
    args: SandboxArgs,
) -> tuple[dict[str, str], list[tuple[int, int]], dict[str, Any]]:
    """(env, the ports it publishes itself, its network inputs): on ai-net publishing its own
    ports, or alone behind its egress gateway, which publishes them."""
    spec, gateway = args.spec, args.egress
    env = sandbox_env(spec, authorized_keys=None)
    if gateway is None:
        return env, published_ports(spec), {"networks_advanced": args.place.network(spec.name)}
    return proxy_env(env), [], gateway.sandbox_inputs()


def _labels(
    args: SandboxArgs, env: dict[str, str], port_pairs: list[tuple[int, int]], workspace: str
) -> pulumi.Output[list[docker.ContainerLabelArgs]]:
    """Identity, plus a hash of what the engine reads back (image, env, ports, mounts), so the
    drift check sees out-of-band edits that refresh cannot (docs/drift.md)."""
    return pulumi.Output.all(args.image_id, args.place.bind_address).apply(
        lambda v: container_labels(
            {
                **args.place.labels,
                **hash_labels(
                    v[0],
                    env,
                    [(v[1], h, c) for c, h in port_pairs],
                    args.mounted(workspace),
                    secret_names=tuple(args.secret_env()),
                ),
            }
        )
    )
