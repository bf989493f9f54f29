"""EngineCli: the host's container engine through its own CLI, for what pulumi-docker has no
input for (a container's pids limit)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_command as command
import pulumi_docker as docker

from .preflight import Engine


@dataclass(frozen=True, kw_only=True)
class EngineCli:
    engine: Engine  # docker | podman: Podman hosts (WSL especially) may have no docker CLI
    docker_host: pulumi.Input[str]  # the endpoint the Docker provider dials

    def limit_pids(
        self, name: str, container: docker.Container, pids: int, parent: pulumi.Resource | None
    ) -> command.local.Command:
        """`update --pids-limit` sets it in place, without a restart, and runs again when the
        container is replaced or the limit changes."""
        cli = "docker" if self.engine == "docker" else 'podman --url "$DOCKER_HOST"'
        return command.local.Command(
            name,
            create=f'{cli} update --pids-limit {pids} "$CONTAINER" >/dev/null',
            environment={"DOCKER_HOST": self.docker_host, "CONTAINER": container.id},
            triggers=[container.id],
            opts=pulumi.ResourceOptions(parent=parent),
        )
