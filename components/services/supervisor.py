"""Supervisor: the agent loop and its task API. It talks to the model server over ai-net (or
to `supervisorModelUrl`) and works in the sandboxes over SSH on ai-net, with the fleet's own
client key and the sandboxes' host keys from the keys volume (mounted read-only)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Protocol

import pulumi
import pulumi_docker as docker

from ..contract import (
    LOGS_PATH,
    MODEL_API_KEY,
    MODEL_MAX_TOKENS,
    MODEL_URL,
    SUPERVISOR,
    SUPERVISOR_API_TOKEN,
    SUPERVISOR_BUS_PASSWORD,
    SUPERVISOR_BUS_URL,
    SUPERVISOR_CLI_COMMAND,
    SUPERVISOR_FLEET_SANDBOXES,
    SUPERVISOR_GIT_AUTHOR_SUFFIX,
    SUPERVISOR_HOST_CAPABILITIES,
    SUPERVISOR_HOST_NAME,
    SUPERVISOR_MAX_SECONDS,
    SUPERVISOR_MAX_STEPS,
    SUPERVISOR_MAX_TOKENS,
    SUPERVISOR_PORT,
    SUPERVISOR_ROLE,
    SUPERVISOR_RUNTIME,
    SUPERVISOR_SSH_KEY,
    SUPERVISOR_WORKERS,
    WORKSPACE_PATH,
)
from ..factory import Factory
from ..host.containers import (
    Limits,
    Placement,
    container_labels,
    env_list,
    fleet_container,
    healthcheck,
)
from ..outputs import url_host
from ..settings import SupervisorSettings
from ..spec import Role
from .bus import BusLink
from .model_server import INTERNAL_URL


@dataclass(frozen=True, kw_only=True)
class SupervisorArgs:
    settings: SupervisorSettings
    image_id: pulumi.Input[str]
    logs_volume: pulumi.Input[str]
    workspace_volume: pulumi.Input[str]
    api_token: pulumi.Output[str]  # secret: every route but /health asks for it
    model_api_key: pulumi.Output[str] | None  # secret: the model server's, when there is one
    place: Placement
    model_server: pulumi.Resource | None  # start after it; None when the stack has none
    ssh_key: pulumi.Output[str]  # secret: the fleet's client key, authorised in every sandbox
    keys: FleetKeysMount | None = None  # the keys volume (known_hosts), when there are sandboxes
    git_author_suffix: str = " (agent)"
    factory: Factory  # which host of the fleet it runs on, and its role
    bus: BusLink | None = None  # headquarters' bus (several hosts only)
    bus_container: pulumi.Resource | None = None  # on headquarters: start after it


class Supervisor(pulumi.ComponentResource):
    container: docker.Container
    """The supervisor container."""
    api_url: pulumi.Output[str]
    """Task API on the bind address."""
    api_token: pulumi.Output[str]
    """Its bearer token (a secret output)."""

    def __init__(
        self, name: str, args: SupervisorArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("sandbox-fleet:index:Supervisor", name, None, opts)
        s = args.settings
        self.container = fleet_container(
            f"{name}-container",
            args.place,
            Limits(memory_bytes=s.memory, cpus=float(s.cpus), pids=s.pids),
            pulumi.ResourceOptions(
                parent=self,
                provider=args.place.provider,
                replace_on_changes=["healthcheck"],
                depends_on=[
                    *([args.model_server] if args.model_server else []),
                    *([args.bus_container] if args.bus_container else []),
                    *([args.keys.writer] if args.keys else []),
                ],
            ),
            name=f"{args.place.prefix}{SUPERVISOR}",
            hostname=SUPERVISOR,
            image=args.image_id,
            envs=env_list(_env(args), _secret_env(args)),
            mounts=[
                docker.ContainerMountArgs(type="volume", source=args.logs_volume, target=LOGS_PATH),
                docker.ContainerMountArgs(
                    type="volume", source=args.workspace_volume, target=WORKSPACE_PATH
                ),
                *([args.keys.mount()] if args.keys else []),
            ],
            networks_advanced=args.place.network(SUPERVISOR),
            ports=[args.place.port(SUPERVISOR_PORT, s.port)],
            healthcheck=healthcheck(
                ["python3", "-m", "supervisor.healthcheck"], interval="10s", start_period="10s"
            ),
            labels=container_labels(args.place.labels),
        )
        self.api_url = pulumi.Output.from_input(args.place.bind_address).apply(
            lambda bind: f"http://{url_host(bind)}:{s.port}"
        )
        self.api_token = pulumi.Output.secret(args.api_token)
        self.register_outputs({"apiUrl": self.api_url, "apiToken": self.api_token})


class FleetKeysMount(Protocol):
    """What the supervisor needs of the Docker plane's keys volume."""

    writer: pulumi.Resource

    def mount(self, *, read_only: bool = True) -> docker.ContainerMountArgs: ...


def _env(args: SupervisorArgs) -> dict[str, str]:
    """What images/supervisor reads (supervisor/config.py): its runtime, model and budgets."""
    s = args.settings
    env = {
        MODEL_URL: s.modelUrl or INTERNAL_URL,
        SUPERVISOR_RUNTIME: s.runtime,
        MODEL_MAX_TOKENS: str(s.maxTokens),
        SUPERVISOR_WORKERS: str(s.workers),
        SUPERVISOR_MAX_STEPS: str(s.stepBudget),
        SUPERVISOR_MAX_TOKENS: str(s.tokenBudget),
        SUPERVISOR_MAX_SECONDS: str(s.timeBudget),
        SUPERVISOR_GIT_AUTHOR_SUFFIX: args.git_author_suffix,
    }
    if s.cliCommand:
        env[SUPERVISOR_CLI_COMMAND] = s.cliCommand
    return env | _host_env(args.factory, args.bus)


def _host_env(f: Factory, bus: BusLink | None) -> dict[str, str]:
    """Which host of the fleet it is (docs/factories.md). The map of every sandbox to its host
    is for routing across hosts only: a single host's sandboxes are all its own, and a map that
    changed with every entry would replace the supervisor at each one (env is ForceNew)."""
    env = {
        SUPERVISOR_HOST_NAME: f.name,
        SUPERVISOR_HOST_CAPABILITIES: ",".join(sorted(c.value for c in f.capabilities)),
        SUPERVISOR_ROLE: f.role.value,
        SUPERVISOR_BUS_URL: bus.url if bus else "",
    }
    if f.role is not Role.SINGLE:
        env[SUPERVISOR_FLEET_SANDBOXES] = json.dumps(
            f.sandboxes, sort_keys=True, separators=(",", ":")
        )
    return env


def _secret_env(args: SupervisorArgs) -> dict[str, pulumi.Output[str]]:
    env = {SUPERVISOR_API_TOKEN: args.api_token, SUPERVISOR_SSH_KEY: args.ssh_key}
    if args.model_api_key is not None:
        env[MODEL_API_KEY] = args.model_api_key
    if args.bus is not None:
        env[SUPERVISOR_BUS_PASSWORD] = args.bus.password
    return env
