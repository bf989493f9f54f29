"""Stack outputs for one sandbox: how a person reaches it (SSH, editors, desktop, ports)."""

from __future__ import annotations

import pulumi

from ...contract import NOVNC_PORT, SSH_PORT
from ...outputs import SandboxOutputs
from ...spec import SandboxSpec
from .sandbox import published_ports, workspace_volume_name


def connections(
    entry: SandboxSpec, bind: pulumi.Input[str], prefix: str, magic_dns: str | None = None
) -> SandboxOutputs | pulumi.Output[SandboxOutputs]:
    def info(address: str) -> SandboxOutputs:
        found = connection_info(entry, address)
        found["workspace"] = workspace_volume_name(prefix, entry.name)
        if magic_dns:  # its own tailnet name answers on the sandbox's own ports
            found.update(connection_info(entry, magic_dns, own_identity=True))
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

    def login(record: SandboxOutputs, secret: str) -> SandboxOutputs:
        return {**record, "novnc": f"{record['novnc']}#password={secret}"}

    if isinstance(found, dict):
        url = pulumi.Output.all(found, password).apply(lambda v: login(v[0], v[1])["novnc"])
        return {**found, "novnc": pulumi.Output.secret(url)}
    return pulumi.Output.all(found, password).apply(lambda v: login(v[0], v[1]))


def connection_info(
    entry: SandboxSpec, address: str, *, own_identity: bool = False
) -> SandboxOutputs:
    """How a person reaches the sandbox: SSH, editors, the desktop, and app ports. On its own
    tailnet identity the container ports answer directly; otherwise the host's published ones."""
    ports = {c: (c if own_identity else h) for c, h in published_ports(entry)}
    ssh = ports[SSH_PORT]
    info: SandboxOutputs = {
        "mode": entry.mode.value,
        "runtime": entry.runtime.value,
        "task": entry.task.value,
        "branch": entry.branch,
        "ssh": f"ssh://dev@{address}:{ssh}",
        "zed": f"zed://ssh/dev@{address}:{ssh}/workspace",
        "vscode": f"vscode://vscode-remote/ssh-remote+dev@{address}:{ssh}/workspace",
        "ports": {str(c): h for c, h in ports.items()},
    }
    if NOVNC_PORT in ports:
        info["novnc"] = f"http://{address}:{ports[NOVNC_PORT]}/vnc.html?autoconnect=1&resize=scale"
    if own_identity:
        info["tailnetName"] = address
    return info
