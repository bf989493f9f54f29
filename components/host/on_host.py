"""What every piece built on the container host shares: its engine provider, the shared volumes
and ai-net, the one bind address, the project's images, and how a container there is named and
labelled. Fleet makes one; the shared services and the Docker plane build with it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pulumi
import pulumi_docker as docker

from .containers import FleetIdentity, Placement
from .engine import HeadlessHost
from .images import LocalImage, LocalImageArgs
from .storage import SharedStorage, SharedStorageArgs


class OnHost:
    def __init__(
        self,
        name: str,
        *,
        host: HeadlessHost,
        bind: pulumi.Input[str],
        identity: FleetIdentity,
        build_images: bool,
        parent: pulumi.Resource,
    ) -> None:
        self.name, self.host, self.bind, self.identity = name, host, bind, identity
        self.build_images = build_images
        self.child = pulumi.ResourceOptions(parent=parent)
        self.storage = SharedStorage(
            f"{name}-storage",
            SharedStorageArgs(
                fleet=identity.fleet_id,
                stack=identity.stack,
                prefix=identity.name_prefix,
                provider=host.provider,
            ),
            self.child,
        )

    def image(
        self,
        role: str,
        opts: pulumi.ResourceOptions,
        base_image_id: pulumi.Input[str] | None = None,
        variant: str = "",
        build_args: Mapping[str, pulumi.Input[str]] | None = None,
    ) -> pulumi.Output[str]:
        """One of images/, built on the host (or expected there when buildImages is off).
        A `variant` (an entry's toolchain under it) is another tag, with its own build args."""
        role_tag = f"{role}-{variant}" if variant else role
        tag = f"sandbox-fleet/{role_tag}:latest"
        if not self.build_images:
            return self.pull(role_tag, tag, opts)
        args = LocalImageArgs(
            directory=role, tag=tag, provider=self.host.provider, base_image_id=base_image_id,
            build_args=dict(build_args or {}),
        )  # fmt: skip
        return LocalImage(f"{self.name}-{role_tag}-image", args, opts).image_id

    def build(
        self, name: str, tag: str, dockerfile: Path, opts: pulumi.ResourceOptions
    ) -> pulumi.Output[str]:
        """A Dockerfile of the project's (an entry's toolchain), its directory the context."""
        args = LocalImageArgs(
            directory=name, tag=tag, provider=self.host.provider, context=dockerfile.parent,
            dockerfile=dockerfile.name,
        )  # fmt: skip
        return LocalImage(f"{self.name}-{name}-image", args, opts).image_id

    def pull(self, role: str, image: str, opts: pulumi.ResourceOptions) -> pulumi.Output[str]:
        on_host = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(provider=self.host.provider)
        )
        return docker.RemoteImage(
            f"{self.name}-{role}-image", name=image, keep_locally=True, opts=on_host
        ).image_id

    def place(self, role: str, sandbox: str = "") -> Placement:
        return Placement(
            self.host.provider,
            self.storage.network_name,
            self.bind,
            self.identity.name_prefix,
            self.identity.labels(role, sandbox),
            self.host.cli,
        )
