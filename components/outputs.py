"""The shapes of the stack outputs, shared by every plane: what `pulumi stack output` shows."""

from __future__ import annotations

from typing import Required, TypedDict

import pulumi

from .spec import SandboxSpec


class SandboxOutputs(TypedDict, total=False):
    """`sandboxes.NAME`: the same shape on every plane; what a plane cannot say is absent."""

    mode: Required[str]
    runtime: Required[str]
    branch: Required[str]
    task: str
    status: str  # only for an entry this stack does not create: why, and which stack does
    ssh: pulumi.Input[str]  # ssh://dev@ADDR:PORT (Docker), `daytona ssh NAME` (Daytona)
    zed: str
    vscode: str  # VS Code Remote-SSH, by the host alias sshConfig defines (its URI has no port)
    sshConfig: str  # the ~/.ssh/config block of that alias: HostName, Port, User, key hint
    novnc: pulumi.Input[str]  # visual sandboxes; on Docker a secret URL that logs in
    ports: dict[str, int]  # container port -> host port
    tailnetName: str  # sandboxes with their own tailnet identity
    workspace: str  # the workspace volume (Docker)
    workspaceVolume: str  # the workspace Volume (Modal)
    sandboxId: pulumi.Input[str]  # cloud planes
    name: pulumi.Input[str]
    state: pulumi.Input[str]
    app: str


class HostOutputs(TypedDict, total=False):
    name: Required[str]
    variant: Required[str]
    bindAddress: Required[pulumi.Input[str]]
    role: Required[str]  # single | headquarters | member (docs/factories.md)
    capabilities: Required[list[str]]  # what the host can do, sorted
    dockerHost: pulumi.Input[str]


class ModelServerOutputs(TypedDict):
    internalUrl: pulumi.Input[str]
    externalUrl: pulumi.Input[str | None]
    apiKey: pulumi.Output[str]  # secret


class SupervisorOutputs(TypedDict):
    apiUrl: pulumi.Input[str]
    apiToken: pulumi.Output[str]  # secret: `pulumi stack output supervisor --show-secrets`


class DaytonaServerOutputs(TypedDict):
    """`daytonaServer`: the stack's own Daytona server, and its admin credentials (secrets)."""

    apiUrl: pulumi.Input[str]
    dashboardUrl: pulumi.Input[str]
    dashboardLogin: str
    dashboardPassword: pulumi.Output[str]
    adminApiKey: pulumi.Output[str]


class ServiceOutputs(TypedDict, total=False):
    """The host's shared services: the model server (when the stack runs one), the supervisor,
    Daytona's server (when the stack runs it)."""

    modelServer: ModelServerOutputs
    supervisor: SupervisorOutputs
    daytonaServer: DaytonaServerOutputs


class FleetOutputs(ServiceOutputs, total=False):
    """The stack's outputs: every key of it is exported as it is."""

    sandboxes: Required[dict[str, SandboxOutputs | pulumi.Output[SandboxOutputs]]]
    host: Required[HostOutputs]
    sshConfig: pulumi.Input[str]  # every sandbox's block: `pulumi stack output sshConfig`


def url_host(address: str) -> str:
    """An address as the host part of a URL: IPv6 literals in brackets ([::1]:22)."""
    return f"[{address}]" if ":" in address else address


def ssh_config(
    sandboxes: dict[str, SandboxOutputs | pulumi.Output[SandboxOutputs]],
) -> pulumi.Input[str]:
    """Every sandbox's ~/.ssh/config block, in name order (those that have one)."""
    blocks = [
        out.get("sshConfig", "") if isinstance(out, dict) else out.apply(_block)
        for _, out in sorted(sandboxes.items())
    ]
    plain = [b for b in blocks if isinstance(b, str)]
    if len(plain) == len(blocks):
        return "\n".join(b for b in plain if b)
    return pulumi.Output.all(*blocks).apply(lambda found: "\n".join(b for b in found if b))


def _block(out: SandboxOutputs) -> str:
    return out.get("sshConfig", "")


def entry_outputs(e: SandboxSpec) -> SandboxOutputs:
    """What every plane says of an entry, whatever else it adds."""
    return {"mode": e.mode.value, "runtime": e.runtime.value, "branch": e.branch}


def not_deployed_here(e: SandboxSpec, why: str) -> SandboxOutputs:
    """The output of an entry this stack does not create, saying why."""
    return entry_outputs(e) | {"status": why}
