"""EngineCli: the host's container engine through its own CLI, for what pulumi-docker has no
input for (a container's pids limit) or does not say (why a sandbox is not ready)."""

from __future__ import annotations

import shlex
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

    def argv(self) -> pulumi.Output[list[str]]:
        """The words that run the engine's CLI on this host from the machine running `up`.
        On a remote host they end in ssh's: the arguments that follow are then shell-quoted
        (readiness_wait.engine_command), as ssh hands the host's shell one line."""
        if self.ssh is not None:
            return pulumi.Output.from_input([*shlex.split(self.ssh.prefix()), self.engine])
        flag = "--host" if self.engine == "docker" else "--url"
        return pulumi.Output.from_input(self.docker_host).apply(lambda h: [self.engine, flag, h])
