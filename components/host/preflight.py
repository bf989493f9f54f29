"""Host preflight: one idempotent script on the fleet's host, run before anything depends on it.

`Preflight` runs components/host/preflight_check.sh on the host (locally, or over the host's one
SSH path with its pinned host key, components/host/ssh.py) through pulumi-command. The script
checks that the container engine answers, that the Daytona server answers (when given), that
the tailnet is up with the expected bind address (when given) and that the host's memory and
CPUs cover the fleet's requests within the over-commit ratio (tests/support/capacity_reference.py
is the same arithmetic in Python, for the tests). A failing check makes the command fail, so
every resource with `depends_on=[preflight.ready]` is not created. Commands run at `pulumi up`
only (never at preview) and again whenever the fleet's requirements change (`triggers`).
"""

from __future__ import annotations

import hashlib
import ipaddress
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pulumi
import pulumi_command as command

from components.settings.preflight import TAILNET_V4, PreflightSettings

from .ssh import SshTarget

SCRIPT_PATH = Path(__file__).with_name("preflight_check.sh")
DAYTONA_SCRIPT_PATH = Path(__file__).with_name("preflight_daytona.sh")
VERDICT = '\nif [ "$failures" -gt 0 ]; then'  # where preflight_check.sh sums its checks up
Engine = Literal["docker", "podman"]
# Fails the command itself (so dependents are not created) with a message that says what to do.
DISCOVER_SCRIPT = """\
if ! out=$(tailscale ip -4 2>&1); then
  echo "tailnet: 'tailscale ip -4' failed on the host: $out." \\
    "Join the tailnet first (sudo tailscale up), see docs/tailnet.md" >&2
  exit 1
fi
printf '%s\\n' "$out"
"""


ROOTLESS_DAYTONA = (
    "the stack runs Daytona's server on a rootless engine: its runner is a privileged Docker "
    "engine of its own, and a rootless engine's privileged container holds only the user's "
    "privileges, so its sandboxes may not start (no cgroup delegation, no overlay); a rootful "
    "engine is the tested path (docs/daytona.md)"
)


def to_milli(value: float) -> int:
    """A CPU count or ratio in thousandths (0.5 CPU -> 500), the unit the host script uses."""
    return round(value * 1000)


def host_command(
    name: str,
    *,
    script: str,
    environment: Mapping[str, pulumi.Input[str]],
    ssh: SshTarget | None,
    opts: pulumi.ResourceOptions,
    triggers: Sequence[pulumi.Input[object]] | None = None,
) -> command.local.Command:
    """Run `script` with `/bin/sh -s` on the host: here when `ssh` is None, else through the
    host's one SSH path (components/host/ssh.py), the script on ssh's stdin.

    Over SSH the environment is spelled out in the remote command (`env K=V ... /bin/sh -s`),
    because sshd drops client variables unless its AcceptEnv allows them.
    """
    if ssh is None:
        return command.local.Command(
            name,
            create="/bin/sh -s",
            stdin=script,
            environment=dict(environment) or None,
            triggers=triggers,
            add_previous_output_in_env=False,
            opts=opts,
        )
    ssh.prefix()  # refuses a host without a pinned key before anything is registered
    create = pulumi.Output.all(**dict(environment)).apply(
        lambda env: ssh.command_line(_with_env(env, "/bin/sh -s"))
    )
    return command.local.Command(
        name,
        create=create,
        stdin=script,
        triggers=triggers,
        add_previous_output_in_env=False,
        opts=opts,
    )


def _with_env(env: Mapping[str, object], command_line: str) -> str:
    pairs = [f"{k}={shlex.quote(str(env[k]))}" for k in sorted(env)]
    return " ".join(["env", *pairs, command_line])


def first_tailnet_ipv4(stdout: str) -> str:
    """The first tailnet IPv4 in `tailscale ip -4` output; fail the deployment if none."""
    for word in stdout.split():
        try:
            if ipaddress.IPv4Address(word) in TAILNET_V4:
                return word
        except ValueError:
            continue
    raise ValueError(f"'tailscale ip -4' on the host printed no tailnet IPv4: {stdout!r}")


def discover_tailnet_address(
    name: str, ssh: SshTarget | None, opts: pulumi.ResourceOptions
) -> pulumi.Output[str]:
    """Ask the host for its tailnet IPv4 (`tailscale ip -4`), locally or over the host's SSH.

    Runs at `pulumi up` (unknown during a first preview) and only again when replaced.
    """
    found = host_command(name, script=DISCOVER_SCRIPT, environment={}, ssh=ssh, opts=opts)
    return found.stdout.apply(first_tailnet_ipv4)


@dataclass(frozen=True, kw_only=True)
class PreflightArgs:
    """What the host must provide; all numbers are the fleet's sums."""

    settings: PreflightSettings
    engine: Engine
    requested_memory_bytes: int
    requested_cpus: float
    expected_address: pulumi.Input[str] | None = None
    """The tailnet bind address the host must own (TailnetAccess.bind_address); None: no check."""
    daytona_url: str | None = None
    """A Daytona server URL that must answer (when the stack enables Daytona)."""
    daytona_server_disk_bytes: int = 0
    """The stack runs Daytona's own server: free disk it needs where the engine keeps its data;
    its runner's kernel features are checked too, and a rootless engine is warned about. 0: no
    server."""
    rootless_podman: bool = False
    visual_sandboxes: Sequence[str] = ()
    """Names of visual sandboxes, for the rootless-Podman warning."""
    ssh: SshTarget | None = None
    """The remote host's SSH path (host key pinned); None runs the checks locally."""


def preflight_script(args: PreflightArgs) -> str:
    """preflight_check.sh, with the Daytona server's checks before its verdict when the stack
    runs that server (so every other stack runs the script as it is)."""
    script = SCRIPT_PATH.read_text()
    if not args.daytona_server_disk_bytes:
        return script
    assert VERDICT in script, "preflight_check.sh lost the verdict the server's checks go before"
    return script.replace(VERDICT, f"\n{DAYTONA_SCRIPT_PATH.read_text()}{VERDICT}", 1)


def preflight_environment(args: PreflightArgs) -> dict[str, pulumi.Input[str]]:
    """The script's environment: integers only, so shell and capacity.py compute the same."""
    if args.requested_memory_bytes < 0 or args.requested_cpus < 0:
        raise ValueError("requested memory and CPUs cannot be negative")
    env: dict[str, pulumi.Input[str]] = {
        "PREFLIGHT_ENGINE": args.engine,
        "PREFLIGHT_REQUESTED_MEMORY_BYTES": str(args.requested_memory_bytes),
        "PREFLIGHT_REQUESTED_MILLICPUS": str(to_milli(args.requested_cpus)),
        "PREFLIGHT_RATIO_MILLI": str(to_milli(args.settings.overcommit_ratio)),
        "PREFLIGHT_CPU_RATIO_MILLI": str(to_milli(args.settings.cpu_overcommit_ratio)),
        "PREFLIGHT_TIMEOUT": str(args.settings.timeout_seconds),
    }
    if args.expected_address is not None:
        env["PREFLIGHT_EXPECTED_ADDRESS"] = args.expected_address
    if args.daytona_url:
        env["PREFLIGHT_DAYTONA_URL"] = args.daytona_url
    if args.daytona_server_disk_bytes:
        env["PREFLIGHT_DAYTONA_SERVER_DISK_BYTES"] = str(args.daytona_server_disk_bytes)
    return env


class Preflight(pulumi.ComponentResource):
    """Checks the host before the fleet is built on it; depend on `ready`."""

    ready: pulumi.Resource
    """The check command (or this component when checks are off): put it in depends_on."""
    report: pulumi.Output[str]
    """What the checks printed on the host (empty when checks are off)."""

    def __init__(
        self, name: str, args: PreflightArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("sandbox-fleet:index:Preflight", name, None, opts)
        if args.engine == "podman" and args.rootless_podman and args.visual_sandboxes:
            pulumi.log.warn(
                "rootless Podman is asked to run visual sandboxes "
                f"({', '.join(sorted(args.visual_sandboxes))}): expect friction with VNC/Xvfb "
                "and the privileges Chromium wants (user namespaces, /dev/shm size); rootful "
                "Docker or Podman is the tested path for desktop sandboxes",
                resource=self,
            )
        if args.daytona_server_disk_bytes and args.rootless_podman:
            pulumi.log.warn(ROOTLESS_DAYTONA, resource=self)
        if not args.settings.enabled:
            pulumi.log.warn(
                "host preflight is disabled (sandbox-fleet:preflightEnabled: false): the fleet "
                "is built without checking engine, tailnet or capacity",
                resource=self,
            )
            self.ready = self
            self.report = pulumi.Output.from_input("")
            self.register_outputs({"report": self.report})
            return
        script = preflight_script(args)
        env = preflight_environment(args)
        digest = hashlib.sha256(script.encode()).hexdigest()
        triggers: list[pulumi.Input[object]] = [digest, *(env[k] for k in sorted(env))]
        check = host_command(
            f"{name}-check",
            script=script,
            environment=env,
            ssh=args.ssh,
            triggers=triggers,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.ready = check
        self.report = check.stdout
        self.register_outputs({"report": self.report})
