"""Bus: Redis on the headquarters of a fleet on several hosts, where the supervisors meet
(docs/factories.md). Built from Debian's redis-server (images/bus); its append-only file lives
on a protected, kept volume; every client gives the password, derived from the stack secret
`busSecret` (the same on every host); it is published on the bind address only, and on ai-net
as `bus` for headquarters' own supervisor."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from ..contract import BUS, BUS_DATA, BUS_DATA_PATH, BUS_MAXMEMORY, BUS_PASSWORD, BUS_PORT
from ..host.containers import (
    Limits,
    Placement,
    container_labels,
    env_list,
    fleet_container,
    healthcheck,
    volume_labels,
)
from ..outputs import url_host
from ..settings import BusSettings
from ..sizes import parse_size

INTERNAL_URL = f"redis://{BUS}:{BUS_PORT}/0"
PASSWORD_PURPOSE = b"bus password"
BUS_READY_TIMEOUT_S = 60


@dataclass(frozen=True)
class BusLink:
    """How a supervisor reaches the bus."""

    url: str  # redis://ADDRESS:PORT/0
    password: pulumi.Output[str]  # secret


def derive_password(secret: str) -> str:
    """Hex, so it goes into redis' configuration and a URL as it is."""
    return hmac.new(secret.encode(), PASSWORD_PURPOSE, hashlib.sha256).hexdigest()


def bus_password(secret: pulumi.Output[str]) -> pulumi.Output[str]:
    return pulumi.Output.secret(secret.apply(derive_password))


def member_url(s: BusSettings) -> str:
    """Headquarters' bus as a member reaches it: its published port on the tailnet."""
    return f"redis://{url_host(s.address)}:{s.port}/0"


@dataclass(frozen=True, kw_only=True)
class BusArgs:
    settings: BusSettings
    image_id: pulumi.Input[str]
    place: Placement
    password: pulumi.Output[str]  # secret


class Bus(pulumi.ComponentResource):
    container: docker.Container
    """The redis-server container."""
    data: docker.Volume
    """Its append-only file: protected and kept, so no task is lost with the container."""
    link: BusLink
    """How headquarters' own supervisor reaches it (ai-net)."""

    def __init__(
        self, name: str, args: BusArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("sandbox-fleet:index:Bus", name, None, opts)
        s, place = args.settings, args.place
        self.data = docker.Volume(
            f"{name}-data",
            name=f"{place.prefix}{BUS_DATA}",
            labels=volume_labels(place.labels),
            opts=pulumi.ResourceOptions(
                parent=self, provider=place.provider, retain_on_delete=True, protect=True
            ),
        )
        # At three quarters of the container's limit the bus refuses writes, before the
        # kernel's OOM killer would end it mid-write.
        maxmemory = parse_size(s.memory) * 3 // 4
        self.container = fleet_container(
            f"{name}-container",
            place,
            Limits(memory_bytes=s.memory, cpus=float(s.cpus), pids=s.pids),
            pulumi.ResourceOptions(
                parent=self, provider=place.provider, replace_on_changes=["healthcheck"]
            ),
            name=f"{place.prefix}{BUS}",
            hostname=BUS,
            image=args.image_id,
            envs=env_list({BUS_MAXMEMORY: str(maxmemory)}, {BUS_PASSWORD: args.password}),
            mounts=[
                docker.ContainerMountArgs(
                    type="volume", source=self.data.name, target=BUS_DATA_PATH
                )
            ],
            networks_advanced=place.network(BUS),
            ports=[place.port(BUS_PORT, s.port)],
            healthcheck=healthcheck(
                ["/usr/local/bin/bus-health"], interval="10s", start_period="10s"
            ),
            labels=container_labels(place.labels),
            # `up` fails naming the bus if it never answers its password (applies at create).
            wait=True,
            wait_timeout=BUS_READY_TIMEOUT_S,
        )
        self.link = BusLink(INTERNAL_URL, args.password)
        self.register_outputs({"url": INTERNAL_URL, "data": self.data.name})
