"""What every fleet container shares: identity labels and least-privilege defaults.

One place, so no container can forget a limit: non-root, all capabilities dropped,
no-new-privileges, never privileged, bounded logs, memory, CPU and pids limits, restart policy.
Every fleet container is made by `fleet_container`. The one exception to "never privileged" is
Daytona's runner (`PRIVILEGED_ENGINE`, docs/daytona.md); it keeps every limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_docker as docker

from ..sizes import MIB, parse_size
from .engine_cli import EngineCli

LABEL_PREFIX = "sandbox-fleet"
CPU_PERIOD_US = 100_000  # the kernel's default CFS period


@dataclass(frozen=True)
class Placement:
    """Where a fleet container runs, and how it is named, published and labelled."""

    provider: docker.Provider
    network_name: pulumi.Input[str]
    bind_address: pulumi.Input[str]  # the one address its ports are published on
    prefix: str  # of every Docker object name
    labels: Mapping[str, str]
    cli: EngineCli  # sets what the provider cannot (the pids limit)

    def port(self, internal: int, external: int) -> docker.ContainerPortArgs:
        """`internal` published on the bind address only, never on 0.0.0.0."""
        return docker.ContainerPortArgs(
            internal=internal, external=external, ip=self.bind_address, protocol="tcp"
        )

    def network(self, alias: str) -> list[docker.ContainerNetworksAdvancedArgs]:
        """ai-net, where the fleet's other containers reach this one as `alias`."""
        return [docker.ContainerNetworksAdvancedArgs(name=self.network_name, aliases=[alias])]


def identity_labels(fleet: str, stack: str, role: str, sandbox: str = "") -> dict[str, str]:
    """Labels that find a resource's owner (`docker ps --filter label=sandbox-fleet.fleet=...`).
    Volume labels are ForceNew, so these never carry anything that can change."""
    labels = {
        f"{LABEL_PREFIX}.fleet": fleet,
        f"{LABEL_PREFIX}.stack": stack,
        f"{LABEL_PREFIX}.role": role,
    }
    if sandbox:
        labels[f"{LABEL_PREFIX}.sandbox"] = sandbox
    return labels


@dataclass(frozen=True, kw_only=True)
class FleetIdentity:
    """Whose containers these are: every Docker object name and identity label comes from it."""

    fleet_id: str  # the name prefix plus the project: one project, isolated by the prefix
    stack: str
    name_prefix: str

    def labels(self, role: str, sandbox: str = "") -> dict[str, str]:
        return identity_labels(self.fleet_id, self.stack, role, sandbox)


def env_list(
    env: Mapping[str, str], secrets: Mapping[str, pulumi.Output[str]]
) -> pulumi.Input[list[str]]:
    """A container's env list. Secret values join as Outputs, which keeps the whole list secret
    in state."""
    plain = [f"{k}={v}" for k, v in sorted(env.items())]
    if not secrets:
        return plain
    joined = (pulumi.Output.concat(k, "=", v) for k, v in secrets.items())
    return pulumi.Output.all(*plain, *joined)


def container_labels(labels: Mapping[str, str]) -> list[docker.ContainerLabelArgs]:
    return [docker.ContainerLabelArgs(label=k, value=v) for k, v in sorted(labels.items())]


def volume_labels(labels: Mapping[str, str]) -> list[docker.VolumeLabelArgs]:
    return [docker.VolumeLabelArgs(label=k, value=v) for k, v in sorted(labels.items())]


def network_labels(labels: Mapping[str, str]) -> list[docker.NetworkLabelArgs]:
    return [docker.NetworkLabelArgs(label=k, value=v) for k, v in sorted(labels.items())]


@dataclass(frozen=True)
class Privileges:
    """Who a container's processes are. The default is the fleet's rule; anything else is made
    where an issue allows it, saying why."""

    user: str = "1000:1000"
    privileged: bool = False

    @property
    def confinement(self) -> dict[str, Any]:
        if not self.privileged:
            return {
                "privileged": False,
                "capabilities": docker.ContainerCapabilitiesArgs(drops=["ALL"]),
                "security_opts": ["no-new-privileges:true"],
            }
        # A container engine inside a container (Daytona's runner): privileged, and without
        # no-new-privileges, which every process in it would inherit, its sandboxes' sudo too.
        return {"privileged": True}


LEAST = Privileges()
PRIVILEGED_ENGINE = Privileges(user="0:0", privileged=True)


def hardened(
    *, memory_bytes: int | str, cpus: float, privileges: Privileges = LEAST
) -> dict[str, Any]:
    """Container arguments every fleet container gets. `memory_swap` equal to `memory` means
    no swap: a sandbox over its limit is killed, not slowed to a crawl."""
    memory_mb = (parse_size(memory_bytes) if isinstance(memory_bytes, str) else memory_bytes) // MIB
    return {
        "user": privileges.user,
        **privileges.confinement,
        "memory": memory_mb,
        "memory_swap": memory_mb,
        # A CFS quota rather than `cpus`: pulumi-docker replaces a container when `cpus`
        # changes, while `cpuQuota` is updated in place, so resizing never restarts a sandbox.
        "cpu_period": CPU_PERIOD_US,
        "cpu_quota": round(cpus * CPU_PERIOD_US),
        "restart": "unless-stopped",
        "log_driver": "json-file",
        "log_opts": {"max-file": "3", "max-size": "10m"},
        "destroy_grace_seconds": 10,
    }


@dataclass(frozen=True)
class Limits:
    memory_bytes: int | str  # bytes, or a size ('512Mi')
    cpus: float
    pids: int


def fleet_container(
    resource_name: str,
    place: Placement,
    limits: Limits,
    opts: pulumi.ResourceOptions,
    /,
    *,
    privileges: Privileges = LEAST,
    **inputs: Any,
) -> docker.Container:
    """A hardened container with its memory, CPU and pids limits. pulumi-docker has no pids
    input, so `<name without -container>-pids-limit` sets it beside the container."""
    hard = hardened(memory_bytes=limits.memory_bytes, cpus=limits.cpus, privileges=privileges)
    container = docker.Container(resource_name, **inputs, **hard, opts=opts)
    pids_name = resource_name.removesuffix("-container") + "-pids-limit"
    place.cli.limit_pids(pids_name, container, limits.pids, opts.parent)
    return container


def healthcheck(
    test: list[str] | str, *, interval: str, start_period: str, timeout: str = "3s"
) -> docker.ContainerHealthcheckArgs:
    """Durations are written as the engine reads them back ("5s", "1m0s") so they never diff.
    A string is run by the container's shell (it may read the container's environment)."""
    tests = ["CMD-SHELL", test] if isinstance(test, str) else ["CMD", *test]
    return docker.ContainerHealthcheckArgs(
        tests=tests, interval=interval, timeout=timeout, start_period=start_period, retries=3
    )
