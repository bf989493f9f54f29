"""The fleet's SSH public keys on the host: one volume every Docker sandbox (and the supervisor)
mounts read-only, and a one-shot container that writes the keys into it:
- `authorized_keys`: the users' keys and the supervisor's, which every sandbox's sshd accepts;
- `known_hosts`: each sandbox's host key, under its name, which the supervisor accepts.

The keys used to travel in each sandbox's environment, which the engine cannot change in place:
adding one key restarted every sandbox. Now a key change (or a sandbox added, which adds its host
key) replaces only the writer, which rewrites the files; each sandbox's sshd reads them at the
next login, the supervisor at its next connection."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_docker as docker

from ...contract import FLEET_KEYS, FLEET_KEYS_PATH, SANDBOX_AUTHORIZED_KEYS, SANDBOX_KNOWN_HOSTS
from ...host.containers import Placement, volume_labels
from .one_shot import one_shot_container


class FleetKeys:
    def __init__(
        self,
        name: str,
        *,
        keys: Sequence[pulumi.Input[str]],
        known_hosts: pulumi.Input[str],
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
        self.writer = one_shot_container(
            f"{name}-{FLEET_KEYS}-writer",
            place,
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[self.volume])),
            name=self.volume_name,
            image=image_id,
            entrypoint=["/usr/local/bin/sandbox-write-keys"],
            mounts=[self.mount(read_only=False)],
            envs=pulumi.Output.all(known_hosts, *keys).apply(
                lambda v: [
                    f"{SANDBOX_AUTHORIZED_KEYS}={chr(10).join(v[1:])}",
                    f"{SANDBOX_KNOWN_HOSTS}={v[0]}",
                ]
            ),
        )
        self.mounted = (self.volume_name, FLEET_KEYS_PATH)  # (source, target), for the drift hash

    def mount(self, *, read_only: bool = True) -> docker.ContainerMountArgs:
        return docker.ContainerMountArgs(
            type="volume", source=self.volume_name, target=FLEET_KEYS_PATH, read_only=read_only
        )
