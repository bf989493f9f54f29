"""LocalImage: build one of the project's images on the host's engine, and hand out its id.

pulumi-docker's `docker.Image` only reports the tag, and a container given a tag shows a diff
on every run (the engine reads back an id). `RemoteImage` with `build` runs the same docker build
through the provider and reports `image_id`. It rebuilds when the build context's content hash
changes, so editing a file in images/ rolls the containers that use it, and nothing else does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_docker as docker

from ..contract import IMAGE_BUILD_ARGS

PROJECT_DIR = Path(__file__).resolve().parents[2]
IMAGES_DIR = PROJECT_DIR / "images"


def context_digest(context: Path) -> str:
    """Hash of every file's path and bytes under `context`: stable across machines and runs."""
    digest = hashlib.sha256()
    for path in sorted(
        p for p in context.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    ):
        digest.update(path.relative_to(context).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


@dataclass(frozen=True, kw_only=True)
class LocalImageArgs:
    directory: str  # under images/ (or, with `context`, a name for the build args)
    tag: str
    provider: docker.Provider
    build_args: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    base_image_id: pulumi.Input[str] | None = None
    """The id of the project image its Dockerfile starts FROM: built first, and a new base
    rebuilds this one (the engine orders builds only by what their inputs use)."""
    context: Path | None = None  # another build context in the project (an entry's toolchain)
    dockerfile: str = "Dockerfile"  # in the context


class LocalImage(pulumi.ComponentResource):
    image_id: pulumi.Output[str]
    """`sha256:...` of the built image: what containers reference."""

    def __init__(
        self, name: str, args: LocalImageArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("sandbox-fleet:index:LocalImage", name, None, opts)
        context = args.context or IMAGES_DIR / args.directory
        image = docker.RemoteImage(
            f"{name}-build",
            name=args.tag,
            build=docker.RemoteImageBuildArgs(
                # Relative to the project directory, where the engine runs the program: an
                # absolute path would differ between checkouts and plan a rebuild in each.
                context=context.relative_to(PROJECT_DIR).as_posix(),
                dockerfile=args.dockerfile,
                build_args={**IMAGE_BUILD_ARGS.get(args.directory, {}), **args.build_args} or None,
            ),
            triggers={
                "context": context_digest(context),
                **({"base": args.base_image_id} if args.base_image_id is not None else {}),
            },
            keep_locally=True,
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider),
        )
        self.image_id = image.image_id
        self.register_outputs({"imageId": self.image_id})
