"""DaytonaServer: Daytona's open-source server (v0.190.0) on the fleet's host, one container per
service of its compose file, on a network of its own.

Every container is the fleet's hardened container (limits, bounded logs, identity labels); the
runner alone is privileged, as Daytona's runner is a Docker engine of its own (docs/daytona.md).
`up` creates each service once the ones it needs are healthy (`wait`), so the API, last but for
the proxy and the SSH gateway, is healthy before anything depends on it: the Daytona plane's
sandboxes depend on `api`. The volumes holding users' work (Postgres, MinIO, the registry) are
kept and protected; Dex's and the runner's engine's are kept.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pulumi
import pulumi_docker as docker

from ...host.containers import (
    Placement,
    container_labels,
    env_list,
    fleet_container,
    network_labels,
    volume_labels,
)
from ...host.on_host import OnHost
from ...outputs import DaytonaServerOutputs
from ...settings import DaytonaServerSettings
from .backing import BACKING, PROTECTED_VOLUMES
from .credentials import DASHBOARD_LOGIN, server_credentials
from .daytona import api, proxy, runner, ssh_gateway
from .service import ServerContext, Service

ORDER = (*BACKING, runner, api, proxy, ssh_gateway)  # each after what it needs


@dataclass(frozen=True, kw_only=True)
class DaytonaServerArgs:
    settings: DaytonaServerSettings
    on: OnHost
    secret: pulumi.Output[str]  # the stack secret every credential is derived from


class DaytonaServer(pulumi.ComponentResource):
    api: docker.Container
    """The API's container: healthy (database and Redis answering) once created."""
    api_url: pulumi.Output[str]
    """Daytona's API base URL on the bind address (what daytonaUrl defaults to)."""
    admin_api_key: pulumi.Output[str]
    """The admin's API key (secret): what the Daytona plane uses without DAYTONA_API_KEY."""
    outputs: DaytonaServerOutputs

    def __init__(
        self, name: str, args: DaytonaServerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("sandbox-fleet:index:DaytonaServer", name, None, opts)
        on, s = args.on, args.settings
        credentials = server_credentials(args.secret)
        context = ServerContext(s, credentials, on.bind)
        prefix = on.identity.name_prefix
        here = pulumi.ResourceOptions(parent=self, provider=on.host.provider)
        network = docker.Network(
            f"{name}-network",
            name=f"{prefix}daytona-net",
            driver="bridge",
            labels=network_labels(on.identity.labels("daytona-network")),
            opts=here,
        )
        services = [make(context) for make in ORDER]
        # Every volume is kept: the services' data outlives their containers.
        roles = sorted({role for service in services for role in service.volumes})
        volumes = {role: self._volume(name, role, on, here) for role in roles}
        built: dict[str, docker.Container] = {}
        for service in services:
            place = replace(on.place(f"daytona-{service.name}"), network_name=network.name)
            built[service.name] = self._container(name, service, place, volumes, built, s)
        self.api = built["api"]
        self.api_url = context.api_url()
        self.admin_api_key = credentials.admin_api_key
        self.outputs = {
            "apiUrl": self.api_url,
            "dashboardUrl": context.public(s.api_port, "/dashboard"),
            "dashboardLogin": DASHBOARD_LOGIN,
            "dashboardPassword": credentials.dashboard_password,
            "adminApiKey": credentials.admin_api_key,
        }
        self.register_outputs(dict(self.outputs))

    def _volume(
        self, name: str, role: str, on: OnHost, here: pulumi.ResourceOptions
    ) -> pulumi.Output[str]:
        protect = role in PROTECTED_VOLUMES
        keep = pulumi.ResourceOptions(retain_on_delete=True, protect=protect)
        return docker.Volume(
            f"{name}-{role}",
            name=f"{on.identity.name_prefix}daytona-{role}",
            labels=volume_labels(on.identity.labels(f"daytona-{role}")),
            opts=pulumi.ResourceOptions.merge(here, keep),
        ).name

    def _container(
        self,
        name: str,
        service: Service,
        place: Placement,
        volumes: dict[str, pulumi.Output[str]],
        built: dict[str, docker.Container],
        s: DaytonaServerSettings,
    ) -> docker.Container:
        role = f"daytona-{service.name}"
        image = self._image(name, service, place)
        after = [built[other] for other in service.after]
        opts = pulumi.ResourceOptions(
            parent=self, provider=place.provider, depends_on=after,
            replace_on_changes=["healthcheck"],
        )  # fmt: skip
        optional = {
            "command": service.command,
            "entrypoints": service.entrypoint,
            "uploads": [
                docker.ContainerUploadArgs(file=path, content=text, permissions="0444")
                for path, text in sorted(service.uploads.items())
            ]
            or None,
            "ports": [place.port(inside, host) for inside, host in service.ports.items()] or None,
        }
        return fleet_container(
            f"{name}-{service.name}-container",
            place,
            service.limits,
            opts,
            privileges=service.privileges,
            name=f"{place.prefix}{role}",
            hostname=service.name,
            image=image,
            envs=env_list(service.env, dict(service.computed_env)),
            mounts=[
                docker.ContainerMountArgs(type="volume", source=volumes[v], target=path)
                for v, path in sorted(service.volumes.items())
            ],
            networks_advanced=place.network(service.name),
            healthcheck=service.health,
            wait=True,
            wait_timeout=s.wait_seconds,
            labels=container_labels(place.labels),
            **{k: v for k, v in optional.items() if v is not None},
        )

    def _image(self, name: str, service: Service, place: Placement) -> pulumi.Output[str]:
        """Pulled from its registry (or found on the host, when a user loaded it there)."""
        return docker.RemoteImage(
            f"{name}-{service.name}-image",
            name=service.image,
            keep_locally=True,
            opts=pulumi.ResourceOptions(parent=self, provider=place.provider),
        ).image_id
