"""The Docker plane's rules: the entries that run as containers on this stack's host, what stops
them, and how each spec field reaches the container (ROUTES)."""

from __future__ import annotations

from dataclasses import dataclass

from ...settings import HostVariant, StackSettings
from ...spec import FleetSpec, Runtime, SandboxSpec
from ..base import Effect, placed_here


@dataclass(frozen=True)
class Route:
    """How one spec field reaches the Docker plane."""

    effect: Effect
    container_inputs: tuple[str, ...]  # docker:index/container:Container inputs it drives
    how: str


ENVS = ("envs",)
ROUTES: dict[str, Route] = {
    "mode": Route(Effect.REPLACE, ("image",), "picks the headless or the desktop image"),
    "image": Route(Effect.REPLACE, ("image",), "the toolchain the sandbox's image is built on"),
    # task reaches the container only through the mode it routes to (shown as its own change)
    "task": Route(Effect.NO_RESTART, (), "routing only; a change of mode is listed separately"),
    "repo": Route(Effect.REPLACE, ENVS, "container env"),
    "branch": Route(Effect.REPLACE, ENVS, "container env"),
    "base": Route(Effect.REPLACE, ENVS, "container env"),
    "env": Route(Effect.REPLACE, ENVS, "container env"),
    "secrets": Route(Effect.REPLACE, ENVS, "container env (values never shown)"),
    "ports": Route(Effect.REPLACE, ("ports",), "published container ports"),
    "host ports": Route(Effect.REPLACE, ("ports",), "host side of the published ports"),
    # Set as a CFS quota: pulumi-docker's `cpus` is ForceNew, `cpuQuota` updates live.
    "cpus": Route(Effect.IN_PLACE, ("cpuQuota",), "container CPU quota, updated live"),
    "memory": Route(Effect.IN_PLACE, ("memory",), "container memory (MB), updated live"),
    "pids": Route(Effect.IN_PLACE, (), "`docker update --pids-limit` by a command resource"),
    "data": Route(Effect.NO_RESTART, (), "only the workspace volume's retain-on-delete option"),
    "expires": Route(Effect.NO_RESTART, (), "nothing changes until the date passes"),
    "tailnet": Route(Effect.NO_RESTART, (), "adds or removes the tailscale sidecar beside it"),
    # A list's names live in the egress gateway only: it is replaced, the sandbox is not.
    "egress": Route(Effect.NO_RESTART, (), "replaces its egress gateway (open connections drop)"),
    "egress kind": Route(
        Effect.REPLACE,
        ("networksAdvanced", "envs", "hosts", "ports"),
        "`any` <-> a list moves the sandbox onto or off its own network",
    ),
}


def docker_entries(spec: FleetSpec, settings: StackSettings) -> list[SandboxSpec]:
    """The entries this stack runs as containers: docker runtime, placed on this host."""
    if settings.host.variant is HostVariant.NONE:
        return []
    return placed_here(spec, settings, Runtime.DOCKER)


def tailnet_identity_problems(
    here: list[SandboxSpec], spec: FleetSpec, s: StackSettings
) -> list[str]:
    if s.tailnet is not None and s.tailnet.sandbox_identity:
        return []
    return [
        f"{spec.file}:{e.line}: sandboxes.{e.name}.tailnet: joining the tailnet needs "
        "sandbox-fleet:tailnetEnabled and sandbox-fleet:tailnetSandboxIdentity set to true "
        "in this stack"
        for e in here
        if e.tailnet
    ]


_SERVICES = {
    "supervisorPort": "the supervisor's task API",
    "modelServerPort": "the model server's API",
}


def service_ports(s: StackSettings) -> dict[int, str]:
    """The host ports the fleet's own services publish on the bind address (the settings'
    host_ports), and who holds each: what no sandbox may take."""
    return {
        port: f"{_SERVICES.get(key.partition(':')[2], 'a fleet service')} ({key})"
        for key, port in s.host_ports.items()
    }


def port_clashes(here: list[SandboxSpec], spec: FleetSpec, s: StackSettings) -> list[str]:
    """A sandbox's host port block that holds a port one of the fleet's own services publishes."""
    return spec.service_port_problems(here, service_ports(s))
