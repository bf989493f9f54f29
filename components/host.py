"""HeadlessHost: the container engine endpoint of the stack's host, as an explicit provider.

Every Docker resource takes this provider, so nothing ever falls back to whatever
`DOCKER_HOST` the shell running `pulumi up` happens to have.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_command as command
import pulumi_docker as docker

from .settings import HostSettings, HostVariant

DEFAULT_SOCKETS = {
    HostVariant.LOCAL: "unix:///var/run/docker.sock",
    HostVariant.PODMAN: "unix:///run/podman/podman.sock",
}

# Idempotent: init only when the machine does not exist, start only when it is not running.
# Prints the API socket the machine forwards, which the provider then dials.
PODMAN_MACHINE_SCRIPT = """set -eu
m="$PODMAN_MACHINE"
podman machine inspect "$m" >/dev/null 2>&1 || podman machine init --rootful "$m" >&2
state=$(podman machine inspect --format '{{.State}}' "$m")
[ "$state" = running ] || podman machine start "$m" >&2
podman machine inspect --format '{{.ConnectionInfo.PodmanSocket.Path}}' "$m"
"""


@dataclass(frozen=True)
class HeadlessHostArgs:
    settings: HostSettings


class HeadlessHost(pulumi.ComponentResource):
    provider: docker.Provider
    """The explicit Docker provider every container, volume and network uses."""
    docker_host: pulumi.Output[str]
    """The engine endpoint (unix://, ssh://)."""
    engine: str
    """`docker` or `podman`: which CLI answers on the host (for preflight)."""

    def __init__(
        self, name: str, args: HeadlessHostArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("sandbox-fleet:index:HeadlessHost", name, None, opts)
        s = args.settings
        self.engine = (
            "podman" if s.variant in (HostVariant.PODMAN, HostVariant.PODMAN_WSL) else "docker"
        )
        child = pulumi.ResourceOptions(parent=self)
        if s.variant is HostVariant.SSH:
            if not s.address or not s.address.startswith("ssh://"):
                raise pulumi.RunError(
                    f"sandbox-fleet:host.address: the ssh variant needs ssh://user@host (got "
                    f"{s.address!r}); set it with `pulumi config set --path host.address ...`"
                )
            self.docker_host = pulumi.Output.from_input(s.address)
        elif s.variant is HostVariant.PODMAN_WSL:
            machine = command.local.Command(
                f"{name}-podman-machine",
                create=PODMAN_MACHINE_SCRIPT,
                environment={"PODMAN_MACHINE": s.machine},
                opts=child,
            )
            self.docker_host = (
                pulumi.Output.from_input(s.socket)
                if s.socket
                else machine.stdout.apply(lambda path: f"unix://{path.strip()}")
            )
        else:
            self.docker_host = pulumi.Output.from_input(s.socket or DEFAULT_SOCKETS[s.variant])
        self.provider = docker.Provider(
            f"{name}-engine",
            host=self.docker_host,
            ssh_opts=list(s.sshOpts) or None,
            opts=child,
        )
        self.register_outputs({"dockerHost": self.docker_host, "engine": self.engine})
