"""SharedStorage: the private network `ai-net` and the volumes that outlive every container.

`model-data` is protected and retained (models are large and slow to fetch); `logs` and the
supervisor's `workspace` are retained. Volume labels are ForceNew (a changed label would mean a
new, empty volume), so only fixed identity goes into them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from .containers import identity_labels, volume_labels


@dataclass(frozen=True, kw_only=True)
class SharedStorageArgs:
    fleet: str
    stack: str
    prefix: str
    provider: docker.Provider


class SharedStorage(pulumi.ComponentResource):
    network_name: pulumi.Output[str]
    """Name of the `ai-net` bridge every fleet container joins."""
    model_data: pulumi.Output[str]
    """Volume holding GGUF model files (mounted read-only by the model server)."""
    logs: pulumi.Output[str]
    """Volume for supervisor logs and its task queue."""
    workspace: pulumi.Output[str]
    """The supervisor's own shared scratch volume."""

    def __init__(
        self, name: str, args: SharedStorageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("sandbox-fleet:index:SharedStorage", name, None, opts)
        p = args.prefix

        def labels(role: str) -> dict[str, str]:
            return identity_labels(args.fleet, args.stack, role)

        def volume(role: str, *, protect: bool = False) -> pulumi.Output[str]:
            vol = docker.Volume(
                f"{name}-{role}",
                name=f"{p}{role}",
                labels=volume_labels(labels(role)),
                opts=pulumi.ResourceOptions(
                    parent=self, provider=args.provider, retain_on_delete=True, protect=protect
                ),
            )
            return vol.name

        network = docker.Network(
            f"{name}-ai-net",
            name=f"{p}ai-net",
            driver="bridge",
            labels=[
                docker.NetworkLabelArgs(label=k, value=v)
                for k, v in sorted(labels("network").items())
            ],
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider),
        )
        self.network_name = network.name
        self.model_data = volume("model-data", protect=True)
        self.logs = volume("logs")
        self.workspace = volume("workspace")
        self.register_outputs(
            {
                "networkName": self.network_name,
                "modelData": self.model_data,
                "logs": self.logs,
                "workspace": self.workspace,
            }
        )
