"""The self-hosted Daytona server's group (`sandbox-fleet:daytonaServer*` keys).

The switch itself is `sandbox-fleet:daytonaServer` (DaytonaSettings.server): these keys shape
the server a stack with it on runs. The images are Daytona's v0.190.0 release (its open-source
edition's last) and the compose file's own pins for the services it takes from elsewhere
(docs/daytona.md says where each one comes from); each one can be replaced here.
"""

from __future__ import annotations

from pydantic import Field

from ..contract import DAYTONA_PORTS
from .group import SettingsGroup
from .values import Cpus, Memory

DAYTONA_RELEASE = "v0.190.0"
# A registry reference: lower-case repository (with an optional registry host:port), then an
# optional tag (which may have capitals) and digest.
IMAGE_PATTERN = (
    r"^[a-z0-9][a-z0-9._/:-]*(:[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?(@sha256:[0-9a-f]{64})?$"
)


def _image(default: str, what: str) -> str:
    return Field(
        default=default,
        pattern=IMAGE_PATTERN,
        description=f"Image of {what} (a registry reference: pin a tag or a digest)",
    )


def _port(service: str, what: str) -> int:
    return Field(
        default=DAYTONA_PORTS[service], ge=1024, le=65535,
        description=f"Host port of {what}, on the bind address",
    )  # fmt: skip


class DaytonaServerSettings(SettingsGroup):
    """Stack config `sandbox-fleet:daytonaServer*` keys (all optional; used only with
    `sandbox-fleet:daytonaServer: true`)."""

    api_image: str = _image(f"daytonaio/daytona-api:{DAYTONA_RELEASE}", "Daytona's API")
    proxy_image: str = _image(f"daytonaio/daytona-proxy:{DAYTONA_RELEASE}", "Daytona's proxy")
    runner_image: str = _image(f"daytonaio/daytona-runner:{DAYTONA_RELEASE}", "Daytona's runner")
    ssh_gateway_image: str = _image(
        f"daytonaio/daytona-ssh-gateway:{DAYTONA_RELEASE}", "Daytona's SSH gateway"
    )
    db_image: str = _image("postgres:18", "the database (Postgres)")
    redis_image: str = _image("redis:8.6", "Redis")
    dex_image: str = _image("dexidp/dex:v2.42.0", "the login (Dex, OIDC)")
    minio_image: str = _image(
        "minio/minio:RELEASE.2025-09-07T16-13-09Z", "the object storage (MinIO)"
    )
    registry_image: str = _image("registry:2.8.2", "the snapshots' registry")
    api_port: int = _port("api", "Daytona's API and dashboard")
    proxy_port: int = _port("proxy", "Daytona's proxy (toolbox and previews)")
    ssh_gateway_port: int = _port("ssh-gateway", "Daytona's SSH gateway")
    dex_port: int = _port("dex", "the login (Dex), which the dashboard's browser visits")
    proxy_domain: str = Field(
        default="",
        pattern=r"^([a-z0-9]([a-z0-9.-]*[a-z0-9])?)?$",
        description="Host name of the proxy (previews are <port>-<sandbox>.<name>: give a name "
        "whose subdomains resolve to the bind address); empty: the bind address, toolbox only",
    )
    default_snapshot: str = Field(
        default="daytonaio/sandbox:0.5.0-slim",
        pattern=IMAGE_PATTERN,
        description="Snapshot (image) a sandbox starts from when the entry names none",
    )
    runner_memory: Memory = Field("8Gi", description="Memory of the runner: every sandbox in it")
    runner_cpus: Cpus = Field("4", description="CPUs of the runner: every sandbox in it")
    runner_pids: int = Field(
        default=16384, ge=1024, le=4_194_304,
        description="Process limit of the runner: every sandbox's processes count",
    )  # fmt: skip
    disk: str = Field(
        default="50Gi",
        pattern=r"^[1-9][0-9]*Gi$",
        description="Disk the runner offers its sandboxes (whole Gi); the preflight wants that "
        "much free where the engine keeps its data",
    )
    wait_seconds: int = Field(
        default=600, ge=60, le=3600,
        description="How long `up` waits for each of the server's services to be healthy",
    )  # fmt: skip

    @property
    def host_ports(self) -> dict[str, int]:
        """Config key -> the host port it publishes."""
        return {
            "daytonaServerApiPort": self.api_port,
            "daytonaServerProxyPort": self.proxy_port,
            "daytonaServerSshGatewayPort": self.ssh_gateway_port,
            "daytonaServerDexPort": self.dex_port,
        }

    @property
    def disk_gib(self) -> int:
        return int(self.disk.removesuffix("Gi"))
