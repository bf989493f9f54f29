"""A sandbox's own tailnet node: tailscaled in the sandbox's network namespace, in userspace
mode (no tun device, no capabilities), answering on the sandbox's own ports under its MagicDNS
name. Its state lives on a volume, so the node survives a restart and a replacement of either
container: tailscaled logs back in with its node key, and the single-use auth key (spent at the
first join) is never needed again."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from ...contract import FLEET_KEYS_PATH, TAILNET_SIDECAR_SUFFIX, TAILNET_STATE_SUFFIX, TS_AUTHKEY
from ...host.containers import (
    Limits,
    Placement,
    container_labels,
    fleet_container,
    volume_labels,
)
from .one_shot import one_shot_container

SIDECAR_MEMORY = 64 * 1024 * 1024
SIDECAR_PIDS = 256  # tailscaled: Go's threads, a few per CPU, far below this
STATE_DIR = "/var/lib/tailscale"  # in the tailscale image's container (TS_STATE_DIR)


@dataclass(frozen=True)
class TailnetSidecar:
    image_id: pulumi.Input[str]
    auth_key: pulumi.Output[str]  # secret: tagged, single use, spent at the first join
    tag: str
    owner_image_id: pulumi.Input[str]  # the headless image (see _state_volume)


def join_tailnet(
    name: str,
    sandbox: docker.Container,
    sandbox_name: str,
    place: Placement,
    sidecar: TailnetSidecar,
    keep_state: bool,
    opts: pulumi.ResourceOptions,
) -> None:
    volume, owner = _state_volume(name, sandbox_name, place, sidecar, keep_state, opts)
    fleet_container(
        f"{name}-tailscale",
        place,
        Limits(memory_bytes=SIDECAR_MEMORY, cpus=0.25, pids=SIDECAR_PIDS),
        pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[owner])),
        name=f"{place.prefix}{sandbox_name}{TAILNET_SIDECAR_SUFFIX}",
        image=sidecar.image_id,
        network_mode=pulumi.Output.concat("container:", sandbox.id),
        envs=pulumi.Output.all(sidecar.auth_key).apply(
            lambda key: [
                f"{TS_AUTHKEY}={key[0]}",
                f"TS_EXTRA_ARGS=--advertise-tags={sidecar.tag}",
                f"TS_HOSTNAME={sandbox_name}",
                f"TS_STATE_DIR={STATE_DIR}",
                "TS_USERSPACE=true",
            ]
        ),
        mounts=[docker.ContainerMountArgs(type="volume", source=volume, target=STATE_DIR)],
        tmpfs={"/tmp": "rw,size=64m"},
        labels=container_labels({**place.labels, "sandbox-fleet.role": "tailnet-sidecar"}),
    )


def _state_volume(
    name: str,
    sandbox_name: str,
    place: Placement,
    sidecar: TailnetSidecar,
    keep: bool,
    opts: pulumi.ResourceOptions,
) -> tuple[str, docker.Container]:
    """The node's state volume, kept with the workspace (`data: keep`), and the one-shot
    container that gives it its owner. A fresh volume takes the owner and mode of the directory
    it is first mounted on; the tailscale image has none for its state and runs here as uid
    1000, so a container of the headless image mounts it first on a directory dev owns there."""
    volume_name = f"{place.prefix}tailscale-state-{sandbox_name}"
    volume = docker.Volume(
        f"{name}-tailscale-state",
        name=volume_name,
        labels=volume_labels(place.labels),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(retain_on_delete=keep)),
    )
    owner = one_shot_container(
        f"{name}-tailscale-state-owner",
        place,
        pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[volume])),
        name=f"{place.prefix}{sandbox_name}{TAILNET_STATE_SUFFIX}",
        image=sidecar.owner_image_id,
        entrypoint=["/bin/true"],
        mounts=[
            docker.ContainerMountArgs(type="volume", source=volume_name, target=FLEET_KEYS_PATH)
        ],
    )
    return volume_name, owner
