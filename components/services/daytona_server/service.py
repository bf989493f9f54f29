"""One service of Daytona's compose file as the fleet runs it, and what the services share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_docker as docker

from ...contract import DAYTONA_PORTS
from ...host.containers import LEAST, Limits, Privileges, healthcheck
from ...outputs import url_host
from ...settings import DaytonaServerSettings
from ...sizes import parse_size
from .credentials import ServerCredentials

# Names every service reaches the others by on the server's network: the compose services'.
API, PROXY, RUNNER, SSH_GATEWAY = "api", "proxy", "runner", "ssh-gateway"
DB, REDIS, DEX, MINIO, REGISTRY = "db", "redis", "dex", "minio", "registry"
# The compose file's values that name no secret (users, buckets, ids).
DB_USER, DB_NAME = "user", "daytona"
S3_USER, S3_BUCKET, S3_REGION = "minioadmin", "daytona", "us-east-1"
OIDC_CLIENT = "daytona"
API_URL = f"http://{API}:{DAYTONA_PORTS[API]}/api"  # as the other services call the API
DEX_URL = f"http://{DEX}:{DAYTONA_PORTS[DEX]}/dex"
REGISTRY_URL = f"http://{REGISTRY}:{DAYTONA_PORTS[REGISTRY]}"
MINIO_URL = f"http://{MINIO}:{DAYTONA_PORTS[MINIO]}"
RUNNER_URL = f"http://{RUNNER}:{DAYTONA_PORTS[RUNNER]}"


# Each service's limits; the runner's are the settings' (every sandbox runs inside it).
LIMITS = {
    API: Limits(memory_bytes="2Gi", cpus=2.0, pids=1024),
    PROXY: Limits(memory_bytes="512Mi", cpus=1.0, pids=512),
    SSH_GATEWAY: Limits(memory_bytes="256Mi", cpus=0.5, pids=512),
    DB: Limits(memory_bytes="1Gi", cpus=1.0, pids=512),
    REDIS: Limits(memory_bytes="256Mi", cpus=0.5, pids=256),
    DEX: Limits(memory_bytes="256Mi", cpus=0.5, pids=256),
    MINIO: Limits(memory_bytes="1Gi", cpus=1.0, pids=512),
    REGISTRY: Limits(memory_bytes="256Mi", cpus=0.5, pids=256),
}


def runner_limits(s: DaytonaServerSettings) -> Limits:
    return Limits(memory_bytes=s.runner_memory, cpus=float(s.runner_cpus), pids=s.runner_pids)


def requested(s: DaytonaServerSettings) -> tuple[int, float]:
    """The server's summed memory (bytes) and CPUs, for the host's capacity check."""
    every = [*LIMITS.values(), runner_limits(s)]
    return sum(parse_size(x.memory_bytes) for x in every), sum(x.cpus for x in every)


def check(test: list[str] | str, start_period: str = "30s") -> docker.ContainerHealthcheckArgs:
    """Every service is checked every 10 s; `up` waits for the first healthy answer."""
    return healthcheck(test, interval="10s", start_period=start_period)


def http_check(
    url: str, tool: str = "curl", start_period: str = "30s"
) -> docker.ContainerHealthcheckArgs:
    """An HTTP GET from inside the container, with the tool its image has (curl or wget)."""
    command = {"curl": ["curl", "-fsS", "-o", "/dev/null"], "wget": ["wget", "-q", "--spider"]}
    return check([*command[tool], url], start_period)


@dataclass(frozen=True, kw_only=True)
class Service:
    """A container of the server: the compose service `name`, and what the fleet changed."""

    name: str  # its alias on the server's network, as in the compose file
    image: str  # a registry reference (settings), pulled on the host
    limits: Limits
    health: docker.ContainerHealthcheckArgs
    env: Mapping[str, str] = field(default_factory=dict)
    computed_env: Mapping[str, pulumi.Output[str]] = field(default_factory=dict)
    """Secrets and what depends on the bind address: the container's env is then secret."""
    ports: Mapping[int, int] = field(default_factory=dict)  # inside -> host, on the bind address
    volumes: Mapping[str, str] = field(default_factory=dict)  # volume role -> mount path
    uploads: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)  # path -> text
    command: list[str] | None = None
    entrypoint: list[str] | None = None
    after: tuple[str, ...] = ()  # services that are healthy before this one is created
    privileges: Privileges = LEAST


@dataclass(frozen=True)
class ServerContext:
    """What the services' definitions read: the settings, the credentials, the public URLs."""

    settings: DaytonaServerSettings
    credentials: ServerCredentials
    bind: pulumi.Input[str]

    def public(self, port: int, path: str = "", host: str = "") -> pulumi.Output[str]:
        """http://<bind address or `host`>:port<path>: how a user's machine reaches a service."""
        return pulumi.Output.from_input(self.bind).apply(
            lambda bind: f"http://{host or url_host(bind)}:{port}{path}"
        )

    def proxy_domain(self) -> pulumi.Output[str]:
        """Where Daytona sends toolbox calls and previews: the proxy's name and host port."""
        s = self.settings
        return pulumi.Output.from_input(self.bind).apply(
            lambda bind: f"{s.proxy_domain or url_host(bind)}:{s.proxy_port}"
        )

    def api_url(self) -> pulumi.Output[str]:
        return self.public(self.settings.api_port, "/api")
