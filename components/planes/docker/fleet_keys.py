"""The fleet's SSH public keys on the host: one volume every Docker sandbox mounts read-only, and
a one-shot container that writes the keys into it.

The keys used to travel in each sandbox's environment, which the engine cannot change in place:
adding one key restarted every sandbox. Now a key change replaces only the writer, which
rewrites the file; each sandbox's sshd reads it at the next login."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_docker as docker

from ...contract import FLEET_KEYS, FLEET_KEYS_PATH, SANDBOX_AUTHORIZED_KEYS
from ...host.containers import Placement, container_labels, hardened, volume_labels
from .config_hash import LABEL_ONE_SHOT

WRITER_MEMORY = 16 * 1024 * 1024


class FleetKeys:
    def __init__(
        self,
        name: str,
        *,
        keys: Sequence[str],
        image_id: pulumi.Input[str],
        place: Placement,
        opts: pulumi.ResourceOptions,
    ) -> None:
        on_host = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(provider=place.provider)
        )
        self.volume_name = f"{place.prefix}{FLEET_KEYS}"
        self.volume = docker.Volume(
            f"{name}-{FLEET_KEYS}",
            name=self.volume_name,
            labels=volume_labels(place.labels),
            opts=on_host,
        )
        self.writer = docker.Container(
            f"{name}-{FLEET_KEYS}-writer",
            name=self.volume_name,
            image=image_id,
            entrypoints=["/usr/local/bin/sandbox-write-keys"],
            envs=[f"{SANDBOX_AUTHORIZED_KEYS}={chr(10).join(keys)}"],
            mounts=[self.mount(read_only=False)],
            network_mode="none",
            # Run to the end during `up` (sandboxes start after it), then stay exited: the
            # engine reads it back as it is, so a stopped writer is not drift.
            attach=True,
            must_run=False,
            labels=container_labels({**place.labels, LABEL_ONE_SHOT: "true"}),
            # Sandboxes mount the volume read-only, so their user cannot change the keys.
            **{**hardened(memory_bytes=WRITER_MEMORY, cpus=0.1), "restart": "no"},
            opts=pulumi.ResourceOptions.merge(
                on_host, pulumi.ResourceOptions(depends_on=[self.volume])
            ),
        )
        self.mounted = (self.volume_name, FLEET_KEYS_PATH)  # (source, target), for the drift hash

    def mount(self, *, read_only: bool = True) -> docker.ContainerMountArgs:
        return docker.ContainerMountArgs(
            type="volume", source=self.volume_name, target=FLEET_KEYS_PATH, read_only=read_only
        )
