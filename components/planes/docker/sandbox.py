"""Sandbox: one spec entry on the Docker plane — a workspace volume and a hardened container.

The workspace volume is retained when the sandbox goes away (data outlives compute) unless the
entry says `data: discard`. Re-adding a sandbox of the same name reattaches its old workspace.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_command as command
import pulumi_docker as docker

from ...contract import (
    GIT_BASE,
    GIT_BRANCH,
    GIT_REPO,
    NOVNC_PORT,
    SANDBOX_AUTHORIZED_KEYS,
    SANDBOX_MODE,
    SANDBOX_NAME,
    SSH_PORT,
    TAILNET_SIDECAR_SUFFIX,
    TS_AUTHKEY,
    WORKSPACE_PATH,
)
from ...host.containers import (
    Placement,
    container_labels,
    env_list,
    hardened,
    healthcheck,
    volume_labels,
)
from ...spec import DataPolicy, Mode, SandboxSpec
from .config_hash import hash_labels

DESKTOP_SHM_MB = 1024  # Chromium renders into /dev/shm; Docker's 64 MB default crashes tabs


@dataclass(frozen=True, kw_only=True)
class SandboxArgs:
    spec: SandboxSpec
    image_id: pulumi.Input[str]
    place: Placement
    authorized_keys: Sequence[str]
    secrets: Mapping[str, pulumi.Output[str]]  # secret name -> value, for this entry's `secrets`
    docker_host: pulumi.Input[str]  # for the `update` command that sets the pids limit
    engine: str = "docker"  # which CLI runs that command: docker, or podman (no docker CLI)
    tailnet: TailnetSidecar | None = None  # its own tailnet identity, when the entry asks


@dataclass(frozen=True)
class TailnetSidecar:
    image_id: pulumi.Input[str]
    auth_key: pulumi.Output[str]  # secret: ephemeral, tagged, single use
    tag: str


def sandbox_env(spec: SandboxSpec, authorized_keys: Sequence[str]) -> dict[str, str]:
    """Plain (non-secret) environment: the user's env, then what the image's entrypoint reads.
    Public keys go in as a variable, not as a file upload: an upload costs a copy into the
    stopped container on every create, and the engine never reads it back, so drift checks
    could not see it; a variable is read back like every other input."""
    return {
        **dict(spec.env),
        SANDBOX_AUTHORIZED_KEYS: "\n".join(authorized_keys),
        SANDBOX_NAME: spec.name,
        SANDBOX_MODE: spec.mode.value,
        GIT_REPO: spec.repo or "",
        GIT_BRANCH: spec.branch,
        GIT_BASE: spec.base,
    }


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
        self.workspace = docker.Volume(
            f"{name}-workspace",
            name=workspace,
            labels=volume_labels(args.place.labels),
            opts=pulumi.ResourceOptions.merge(
                on_host, pulumi.ResourceOptions(retain_on_delete=spec.data is DataPolicy.KEEP)
            ),
        )
        env = sandbox_env(spec, args.authorized_keys)
        port_pairs = published_ports(spec)
        visual = spec.mode is Mode.VISUAL
        self.container = docker.Container(
            f"{name}-container",
            name=f"{args.place.prefix}{spec.name}",
            hostname=spec.name,
            image=args.image_id,
            envs=env_list(env, {k: args.secrets[k] for k in spec.secrets}),
            mounts=[
                docker.ContainerMountArgs(type="volume", source=workspace, target=WORKSPACE_PATH)
            ],
            networks_advanced=args.place.network(spec.name),
            ports=[args.place.port(c, h) for c, h in port_pairs],
            shm_size=DESKTOP_SHM_MB if visual else None,
            healthcheck=healthcheck(
                ["/usr/local/bin/sandbox-health"], interval="5s", start_period="1m0s"
            ),
            labels=_labels(args, env, port_pairs, workspace),
            **hardened(memory_bytes=spec.memory_bytes, cpus=spec.cpus),
            opts=pulumi.ResourceOptions.merge(
                on_host,
                pulumi.ResourceOptions(
                    replace_on_changes=["healthcheck"], depends_on=[self.workspace]
                ),
            ),
        )
        self._limit_pids(name, args)
        if args.tailnet is not None:
            self._join_tailnet(name, args, args.tailnet, on_host)
        self.register_outputs({"containerId": self.container.id, "workspace": workspace})

    def _limit_pids(self, name: str, args: SandboxArgs) -> None:
        """pulumi-docker has no pids limit input: `update` sets it in place, without a
        restart, and re-runs when the container is replaced or the limit changes."""
        cli = "docker" if args.engine == "docker" else 'podman --url "$DOCKER_HOST"'
        command.local.Command(
            f"{name}-pids-limit",
            create=f'{cli} update --pids-limit {args.spec.pids} "$CONTAINER" >/dev/null',
            environment={"DOCKER_HOST": args.docker_host, "CONTAINER": self.container.id},
            triggers=[self.container.id],
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _join_tailnet(
        self, name: str, args: SandboxArgs, sidecar: TailnetSidecar, on_host: pulumi.ResourceOptions
    ) -> None:
        """tailscaled in the sandbox's network namespace, in userspace mode: no tun device, no
        capabilities. It answers on the sandbox's own ports under its MagicDNS name."""
        spec = args.spec
        docker.Container(
            f"{name}-tailscale",
            name=f"{args.place.prefix}{spec.name}{TAILNET_SIDECAR_SUFFIX}",
            image=sidecar.image_id,
            network_mode=pulumi.Output.concat("container:", self.container.id),
            envs=pulumi.Output.all(sidecar.auth_key).apply(
                lambda key: [
                    f"{TS_AUTHKEY}={key[0]}",
                    f"TS_EXTRA_ARGS=--advertise-tags={sidecar.tag}",
                    f"TS_HOSTNAME={spec.name}",
                    "TS_STATE_DIR=/tmp/tailscale",
                    "TS_USERSPACE=true",
                ]
            ),
            tmpfs={"/tmp": "rw,size=64m"},
            labels=container_labels({**args.place.labels, "sandbox-fleet.role": "tailnet-sidecar"}),
            **hardened(memory_bytes=64 * 1024 * 1024, cpus=0.25),
            opts=on_host,
        )


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
                    [(workspace, WORKSPACE_PATH)],
                    secret_names=args.spec.secrets,
                ),
            }
        )
    )
