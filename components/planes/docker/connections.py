"""Stack outputs for one sandbox: how a person reaches it (SSH, editors, desktop, ports)."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

from ...contract import NOVNC_PORT, SSH_PORT
from ...host.containers import FleetIdentity
from ...outputs import SandboxOutputs, url_host
from ...spec import SandboxSpec
from .sandbox import published_ports, workspace_volume_name

SANDBOX_USER = "dev"  # the images' login user


def ssh_alias(identity: FleetIdentity, sandbox: str) -> str:
    """The sandbox's Host in ~/.ssh/config: names the fleet (prefix included) and the sandbox."""
    return f"{identity.fleet_id}-{sandbox}"


def key_hint(authorized_keys: Sequence[str]) -> str:
    """Which private key logs in, as far as the stack knows: the comments of its public keys."""
    if not authorized_keys:
        return "# no key in sandbox-fleet:sshAuthorizedKeys: add your public key to log in"
    comments = [" ".join(k.split()[2:]) for k in authorized_keys if len(k.split()) > 2]
    named = f" ({', '.join(comments)})" if comments else ""
    return f"# IdentityFile: the private key of sandbox-fleet:sshAuthorizedKeys{named}"


def connections(
    entry: SandboxSpec,
    bind: pulumi.Input[str],
    identity: FleetIdentity,
    authorized_keys: Sequence[str],
    magic_dns: str | None = None,
) -> SandboxOutputs | pulumi.Output[SandboxOutputs]:
    alias = ssh_alias(identity, entry.name)

    def info(address: str) -> SandboxOutputs:
        found = connection_info(entry, address, alias=alias)
        found["workspace"] = workspace_volume_name(identity.name_prefix, entry.name)
        if magic_dns:  # its own tailnet name answers on the sandbox's own ports
            found.update(connection_info(entry, magic_dns, alias=alias, own_identity=True))
        found["sshConfig"] += f"  {key_hint(authorized_keys)}\n"
        return found

    # A plain address (no tailnet discovery) needs no Output: cheaper for large fleets.
    if isinstance(bind, str):
        return info(bind)
    return pulumi.Output.from_input(bind).apply(info)  # type: ignore[arg-type]


def with_desktop_login(
    found: SandboxOutputs | pulumi.Output[SandboxOutputs], password: pulumi.Output[str]
) -> SandboxOutputs | pulumi.Output[SandboxOutputs]:
    """The noVNC URL that logs straight in: the password in the fragment, which noVNC reads and
    the browser never sends (so no server log holds it). A secret output; when the address is
    itself an Output, the whole record is (one Output)."""

    if isinstance(found, dict):
        url = pulumi.Output.concat(found["novnc"], "#password=", password)
        return {**found, "novnc": pulumi.Output.secret(url)}

    def login(record: SandboxOutputs, secret: str) -> SandboxOutputs:
        return {**record, "novnc": f"{record['novnc']}#password={secret}"}

    return pulumi.Output.all(found, password).apply(lambda v: login(v[0], v[1]))


def connection_info(
    entry: SandboxSpec, address: str, *, alias: str, own_identity: bool = False
) -> SandboxOutputs:
    """How a person reaches the sandbox: SSH, editors, the desktop, and app ports. On its own
    tailnet identity the container ports answer directly; otherwise the host's published ones.
    VS Code's Remote-SSH URI takes a host but no port, so it names `alias`, which the
    `sshConfig` block defines (HostName, Port, User)."""
    ports = {c: (c if own_identity else h) for c, h in published_ports(entry)}
    ssh, host = ports[SSH_PORT], url_host(address)
    info: SandboxOutputs = {
        "mode": entry.mode.value,
        "runtime": entry.runtime.value,
        "task": entry.task.value,
        "branch": entry.branch,
        "ssh": f"ssh://{SANDBOX_USER}@{host}:{ssh}",
        "zed": f"zed://ssh/{SANDBOX_USER}@{host}:{ssh}/workspace",
        "vscode": f"vscode://vscode-remote/ssh-remote+{alias}/workspace",
        "sshConfig": (f"Host {alias}\n  HostName {address}\n  Port {ssh}\n  User {SANDBOX_USER}\n"),
        "ports": {str(c): h for c, h in ports.items()},
    }
    if NOVNC_PORT in ports:
        info["novnc"] = f"http://{host}:{ports[NOVNC_PORT]}/vnc.html?autoconnect=1&resize=scale"
    if own_identity:
        info["tailnetName"] = address
    return info
