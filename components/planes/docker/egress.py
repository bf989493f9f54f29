"""EgressGateway: the only way out of a sandbox with an `egress:` list (docs/egress.md).

The sandbox sits alone on a network of its own that Docker keeps `internal` (no route out) and
whose bridge has no address on the host (`inhibit_ipv4`), so it reaches neither the internet nor
any service of the host. Its gateway container is on that network and on ai-net:
- squid lets it open HTTP and HTTPS connections to the names on its list and nowhere else (no
  literal address; no name that resolves into the host, the fleet's networks or link-local);
- socat carries the sandbox's published ports to it (and its SSH port under its name on
  ai-net, as for any sandbox), and offers the fleet's services (`supervisor`, `model-server`)
  on the sandbox's side.

A list change replaces only the gateway; the sandbox keeps running. Each network gets a /29 of
SUBNET_POOL derived from the sandbox's name, so adding or removing one moves no other.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_docker as docker

from ...contract import (
    EGRESS_DENY,
    EGRESS_GATEWAY_SUFFIX,
    EGRESS_NAMES,
    EGRESS_PROXY_HOST,
    EGRESS_PROXY_PORT,
    EGRESS_PUBLISH,
    EGRESS_SANDBOX,
    EGRESS_SELF,
    EGRESS_SERVICES,
    EGRESS_WILDCARDS,
    MODEL_SERVER,
    MODEL_SERVER_PORT,
    PROXY_ENV,
    SANDBOX_SHELL_ENV,
    SUPERVISOR,
    SUPERVISOR_PORT,
)
from ...host.containers import (
    Limits,
    Placement,
    container_labels,
    env_list,
    fleet_container,
    healthcheck,
)
from ...spec import FleetSpec, SandboxSpec
from ...spec.egress import split_rules
from .config_hash import hash_labels

SUBNET_POOL = ipaddress.IPv4Network("10.208.0.0/12")
SUBNET_PREFIX = 29  # the bridge's reserved gateway, the sandbox, the gateway container
GATEWAY_LIMITS = Limits(memory_bytes="128Mi", cpus=0.5, pids=256)  # squid ~12 MiB, socat forks
SERVICES = ((SUPERVISOR, SUPERVISOR_PORT), (MODEL_SERVER, MODEL_SERVER_PORT))


@dataclass(frozen=True)
class EgressNet:
    """A restricted sandbox's network and its fixed addresses in it."""

    subnet: ipaddress.IPv4Network

    @property
    def bridge(self) -> str:  # Docker reserves it; with inhibit_ipv4 nothing answers there
        return str(self.subnet[1])

    @property
    def sandbox(self) -> str:
        return str(self.subnet[2])

    @property
    def gateway(self) -> str:
        return str(self.subnet[3])


def network_name(prefix: str, sandbox: str) -> str:
    return f"{prefix}egress-{sandbox}"


def egress_net(network: str) -> EgressNet:
    """From the Docker network's name (so two stacks on one engine differ by their prefix)."""
    slots = SUBNET_POOL.num_addresses >> (32 - SUBNET_PREFIX)
    slot = int.from_bytes(hashlib.sha256(network.encode()).digest()[:8], "big") % slots
    first = SUBNET_POOL.network_address + (slot << (32 - SUBNET_PREFIX))
    return EgressNet(ipaddress.IPv4Network(f"{first}/{SUBNET_PREFIX}"))


def egress_problems(here: list[SandboxSpec], spec: FleetSpec, prefix: str) -> list[str]:
    """A tailnet sidecar shares the sandbox's network, which has no way out; and two names
    whose networks would take the same subnet (rare: 1 in 131072 per pair)."""
    restricted = [e for e in here if e.egress is not None]
    found = [
        f"{spec.file}:{e.line}: sandboxes.{e.name}.tailnet: a sandbox with an egress list "
        "cannot join the tailnet itself (its tailscaled would have no way out); drop one"
        for e in restricted
        if e.tailnet
    ]
    taken: dict[ipaddress.IPv4Network, str] = {}
    for e in restricted:
        subnet = egress_net(network_name(prefix, e.name)).subnet
        if subnet in taken:
            found.append(
                f"{spec.file}:{e.line}: sandboxes.{e.name}.egress: its network's subnet "
                f"{subnet} (derived from the name) is also sandboxes.{taken[subnet]}'s; "
                "rename one of them"
            )
        taken.setdefault(subnet, e.name)
    return found


def proxy_env(env: dict[str, str]) -> dict[str, str]:
    """A restricted sandbox's env: the gateway as its proxy, for its programs and its SSH
    sessions, and the fleet's services reached directly."""
    proxy = f"http://{EGRESS_PROXY_HOST}:{EGRESS_PROXY_PORT}"
    direct = ",".join(["localhost", "127.0.0.1", *(name for name, _ in SERVICES)])
    found = {var: direct if var.lower() == "no_proxy" else proxy for var in PROXY_ENV}
    shell = sorted({*env.get(SANDBOX_SHELL_ENV, "").split(), *PROXY_ENV})
    return {**env, **found, SANDBOX_SHELL_ENV: " ".join(shell)}


@dataclass(frozen=True, kw_only=True)
class EgressGatewayArgs:
    spec: SandboxSpec
    image_id: pulumi.Input[str]
    place: Placement
    published: list[tuple[int, int]]  # (sandbox port, host port): the gateway publishes them
    deny: tuple[str, ...] = ()  # egressDenyAddresses: the host's public addresses
    ready_timeout_s: int = 0


class EgressGateway(pulumi.ComponentResource):
    network: docker.Network
    """The sandbox's own network: internal, no address on the host."""
    container: docker.Container
    """squid and the port forwarders, on that network and on ai-net."""
    net: EgressNet

    def __init__(
        self, name: str, args: EgressGatewayArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("sandbox-fleet:index:EgressGateway", name, None, opts)
        spec, place = args.spec, args.place
        on_host = pulumi.ResourceOptions(parent=self, provider=place.provider)
        docker_name = network_name(place.prefix, spec.name)
        self.net = net = egress_net(docker_name)
        self.network = _network(f"{name}-network", docker_name, net, place, on_host)
        env = pulumi.Output.from_input(place.bind_address).apply(
            lambda bind: gateway_env(spec, net, args.published, (*args.deny, bind))
        )
        wait: dict[str, Any] = (
            {"wait": True, "wait_timeout": args.ready_timeout_s} if args.ready_timeout_s else {}
        )
        self.container = fleet_container(
            f"{name}-container",
            place,
            GATEWAY_LIMITS,
            pulumi.ResourceOptions.merge(
                on_host, pulumi.ResourceOptions(replace_on_changes=["healthcheck"])
            ),
            name=f"{place.prefix}{spec.name}{EGRESS_GATEWAY_SUFFIX}",
            hostname=f"{spec.name}{EGRESS_GATEWAY_SUFFIX}",
            image=args.image_id,
            envs=env.apply(lambda e: env_list(e, {})),
            # On ai-net under the sandbox's name, so the fleet reaches `NAME:2222` as for any
            # other sandbox; on the sandbox's network at its fixed address.
            networks_advanced=[
                *place.network(spec.name),
                docker.ContainerNetworksAdvancedArgs(
                    name=self.network.name, ipv4_address=net.gateway
                ),
            ],
            ports=[place.port(port, host) for port, host in args.published],
            # socat carries app ports below 1024 too, with no capability.
            sysctls={"net.ipv4.ip_unprivileged_port_start": "0"},
            healthcheck=healthcheck(
                ["/usr/local/bin/egress-health"], interval="5s", start_period="10s"
            ),
            labels=_labels(args, env),
            **wait,
        )
        self.register_outputs(
            {
                "network": self.network.name,
                "containerId": self.container.id,
                "subnet": str(net.subnet),
            }
        )

    def sandbox_inputs(self) -> dict[str, Any]:
        """What the sandbox's container takes from its gateway: only its own network, at its
        fixed address, and the names that lead to the gateway."""
        to_gateway = [EGRESS_PROXY_HOST, *(name for name, _ in SERVICES)]
        return {
            "networks_advanced": [
                docker.ContainerNetworksAdvancedArgs(
                    name=self.network.name, ipv4_address=self.net.sandbox
                )
            ],
            "hosts": [docker.ContainerHostArgs(host=h, ip=self.net.gateway) for h in to_gateway],
        }


def _network(
    name: str, docker_name: str, net: EgressNet, place: Placement, opts: pulumi.ResourceOptions
) -> docker.Network:
    return docker.Network(
        name,
        name=docker_name,
        driver="bridge",
        internal=True,
        options={"com.docker.network.bridge.inhibit_ipv4": "true"},
        ipam_configs=[docker.NetworkIpamConfigArgs(subnet=str(net.subnet), gateway=net.bridge)],
        labels=[docker.NetworkLabelArgs(label=k, value=v) for k, v in sorted(place.labels.items())],
        opts=opts,
    )


def gateway_env(
    spec: SandboxSpec, net: EgressNet, published: list[tuple[int, int]], deny: tuple[str, ...]
) -> dict[str, str]:
    """What images/egress/egress-gateway reads: the addresses, the list, what to carry, and
    the host's own addresses (the bind address among them), which no name may lead to."""
    names, wildcards = split_rules(spec.egress or ())
    return {
        EGRESS_DENY: " ".join(deny),
        EGRESS_SELF: net.gateway,
        EGRESS_SANDBOX: net.sandbox,
        EGRESS_NAMES: " ".join(names),
        EGRESS_WILDCARDS: " ".join(wildcards),
        EGRESS_PUBLISH: " ".join(str(port) for port, _ in published),
        EGRESS_SERVICES: " ".join(f"{port}={host}:{port}" for host, port in SERVICES),
    }


def _labels(
    args: EgressGatewayArgs, env: pulumi.Output[dict[str, str]]
) -> pulumi.Output[list[docker.ContainerLabelArgs]]:
    """Identity, and the drift hash of what the engine reads back (as on a sandbox)."""
    return pulumi.Output.all(args.image_id, args.place.bind_address, env).apply(
        lambda v: container_labels(
            {
                **args.place.labels,
                **hash_labels(v[0], v[2], [(v[1], h, c) for c, h in args.published], []),
            }
        )
    )
