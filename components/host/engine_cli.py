"""EngineCli: the host's container engine through its own CLI, for what pulumi-docker has no
input for (a container's pids limit)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_command as command
import pulumi_docker as docker

from .preflight import Engine
from .ssh import SshTarget


@dataclass(frozen=True, kw_only=True)
class EngineCli:
    engine: Engine  # docker | podman: Podman hosts (WSL especially) may have no docker CLI
    docker_host: pulumi.Input[str]  # the endpoint the Docker provider dials
    ssh: SshTarget | None = None  # a remote host: its CLI runs there, over the host's SSH path

    def limit_pids(
        self, name: str, container: docker.Container, pids: int, parent: pulumi.Resource | None
    ) -> command.local.Command:
        """`update --pids-limit` sets it in place, without a restart, and runs again when the
        container is replaced or the limit changes."""
        update = f"update --pids-limit {pids}"
        environment: dict[str, pulumi.Input[str]] = {"CONTAINER": container.id}
        if self.ssh is not None:  # $CONTAINER is expanded here, in double quotes: a hex id
            create = f'{self.ssh.prefix()} "{self.engine} {update} $CONTAINER" >/dev/null'
        else:
            cli = "docker" if self.engine == "docker" else 'podman --url "$DOCKER_HOST"'
            create = f'{cli} {update} "$CONTAINER" >/dev/null'
            environment["DOCKER_HOST"] = self.docker_host
        return command.local.Command(
            name,
            create=create,
            environment=environment,
            triggers=[container.id],
            opts=pulumi.ResourceOptions(parent=parent),
        )
