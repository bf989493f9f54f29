"""HeadlessHost: the container engine endpoint of the stack's host, checked before use.

Every Docker resource takes this host's explicit provider, so nothing ever falls back to
whatever `DOCKER_HOST` the shell running `pulumi up` happens to have. The provider depends on
the host preflight, so when a check fails nothing is built on the host.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pulumi
import pulumi_command as command
import pulumi_docker as docker

from ..settings import HostSettings, HostVariant
from .engine_cli import EngineCli
from .preflight import Engine, Preflight, PreflightArgs
from .ssh import SshTarget

DEFAULT_SOCKETS = {
    HostVariant.LOCAL: "unix:///var/run/docker.sock",
    HostVariant.PODMAN: "unix:///run/podman/podman.sock",
}

# Idempotent: init only when the machine does not exist, start only when it is not running.
# Prints the API socket the machine forwards, which the provider then dials.
PODMAN_MACHINE_SCRIPT = """set -eu
m="$PODMAN_MACHINE"
podman machine inspect "$m" >/dev/null 2>&1 || podman machine init $PODMAN_ROOTFUL "$m" >&2
state=$(podman machine inspect --format '{{.State}}' "$m")
[ "$state" = running ] || podman machine start "$m" >&2
podman machine inspect --format '{{.ConnectionInfo.PodmanSocket.Path}}' "$m"
"""


def engine_of(variant: HostVariant) -> Engine:
    return "podman" if variant in (HostVariant.PODMAN, HostVariant.PODMAN_WSL) else "docker"


@dataclass(frozen=True, kw_only=True)
class HeadlessHostArgs:
    settings: HostSettings
    preflight: PreflightArgs  # engine and SSH path are filled in here


class HeadlessHost(pulumi.ComponentResource):
    provider: docker.Provider
    """The explicit Docker provider every container, volume and network uses."""
    docker_host: pulumi.Output[str]
    """The engine endpoint (unix://, ssh://)."""
    preflight: Preflight
    """The host checks; the provider (so every Docker resource) waits for them."""
    cli: EngineCli
    """The engine's own CLI on this host, for what the provider cannot set (pids limits)."""
    ssh: SshTarget | None
    """The ssh variant's one SSH path (provider, preflight, engine CLI); None otherwise."""

    def __init__(
        self, name: str, args: HeadlessHostArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("sandbox-fleet:index:HeadlessHost", name, None, opts)
        s = args.settings
        child = pulumi.ResourceOptions(parent=self)
        self.ssh = SshTarget.of(s)
        machine: list[pulumi.Resource] = []
        if s.variant is HostVariant.SSH:
            self.docker_host = pulumi.Output.from_input(s.address)
        elif s.variant is HostVariant.PODMAN_WSL:
            started = command.local.Command(
                f"{name}-podman-machine",
                create=PODMAN_MACHINE_SCRIPT,
                environment={
                    "PODMAN_MACHINE": s.machine,
                    "PODMAN_ROOTFUL": "" if s.rootless else "--rootful",
                },
                opts=child,
            )
            machine.append(started)
            self.docker_host = (
                pulumi.Output.from_input(s.socket) if s.socket
                else started.stdout.apply(lambda path: f"unix://{path.strip()}")
            )  # fmt: skip
        else:
            self.docker_host = pulumi.Output.from_input(s.socket or DEFAULT_SOCKETS[s.variant])
        self.preflight = Preflight(
            f"{name}-preflight",
            replace(
                args.preflight,
                engine=engine_of(s.variant),
                ssh=self.ssh,
                rootless_podman=s.rootless and engine_of(s.variant) == "podman",
            ),
            pulumi.ResourceOptions(parent=self, depends_on=machine),
        )
        self.provider = docker.Provider(
            f"{name}-engine",
            host=self.docker_host,
            ssh_opts=self.ssh.options if self.ssh else None,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.preflight.ready]),
        )
        self.cli = EngineCli(
            engine=engine_of(s.variant), docker_host=self.docker_host, ssh=self.ssh
        )
        self.register_outputs({"dockerHost": self.docker_host})
