"""The images the Docker plane's sandboxes start from: images/headless (and images/desktop FROM
it for visual entries) on the fleet's own base, and the same again on each entry's `image:`
(a toolchain: a Dockerfile of the project's, built on the host, or an image the host pulls), so
any Debian- or Ubuntu-based toolchain image becomes a sandbox. Every distinct toolchain is built
once, for all the entries that name it; each is rebuilt when its files change."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pulumi

from ...host.images import PROJECT_DIR
from ...host.on_host import OnHost
from ...spec import FleetSpec, Mode, SandboxSpec
from ...spec.image import SandboxImage


def toolchain_key(image: SandboxImage) -> str:
    return hashlib.sha256(image.shown.encode()).hexdigest()[:10]


def toolchain_problems(here: list[SandboxSpec], spec: FleetSpec) -> list[str]:
    """A Dockerfile is built from its own directory, relative to the project, where the engine
    runs the program: one outside it would make an input that differs between checkouts."""
    return [
        f"{spec.file}:{e.line}: sandboxes.{e.name}.image.dockerfile: '{e.image.dockerfile}' "
        f"is outside the project directory {PROJECT_DIR}; keep toolchain Dockerfiles in the "
        "repository that holds the fleet"
        for e in here
        if e.image is not None and e.image.path is not None
        and not e.image.path.is_relative_to(PROJECT_DIR)
    ]  # fmt: skip


@dataclass(frozen=True)
class SandboxImages:
    by_toolchain: dict[tuple[Mode, SandboxImage | None], pulumi.Output[str]]

    def of(self, entry: SandboxSpec) -> pulumi.Output[str]:
        return self.by_toolchain[(entry.mode, entry.image)]

    @property
    def headless(self) -> pulumi.Output[str]:
        """The fleet's own headless image (the keys writer and tailnet state owner use it)."""
        return self.by_toolchain[(Mode.HEADLESS, None)]


def sandbox_images(
    on: OnHost, entries: list[SandboxSpec], child: pulumi.ResourceOptions
) -> SandboxImages:
    found: dict[tuple[Mode, SandboxImage | None], pulumi.Output[str]] = {
        (Mode.HEADLESS, None): on.image("headless", child)
    }
    for image in sorted({e.image for e in entries}, key=lambda i: i.shown if i else ""):
        if image is not None:
            found[(Mode.HEADLESS, image)] = _headless_on(on, image, child)
    for image in {e.image for e in entries if e.mode is Mode.VISUAL}:
        headless = found[(Mode.HEADLESS, image)]
        key = toolchain_key(image) if image else ""
        found[(Mode.VISUAL, image)] = on.image(
            "desktop", child, base_image_id=headless, variant=key,
            build_args={"HEADLESS_IMAGE": f"sandbox-fleet/headless-{key}:latest"} if key else None,
        )  # fmt: skip
    return SandboxImages(found)


def _headless_on(
    on: OnHost, image: SandboxImage, child: pulumi.ResourceOptions
) -> pulumi.Output[str]:
    """The fleet's sandbox runtime (images/headless) FROM the toolchain."""
    key = toolchain_key(image)
    if image.base is not None:
        base, toolchain = image.base, on.pull(f"toolchain-{key}", image.base, child)
    else:
        assert image.path is not None, "the loader found the Dockerfile"
        base = f"sandbox-fleet/toolchain-{key}:latest"
        toolchain = on.build(f"toolchain-{key}", base, image.path, child)
    return on.image(
        "headless", child, base_image_id=toolchain, variant=key, build_args={"BASE_IMAGE": base}
    )
