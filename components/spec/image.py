"""`image:`: the toolchain a sandbox starts from, under the fleet's sandbox runtime (sshd, git,
the entrypoint, health and sync, layered on top by images/headless). Either

- `{dockerfile: path/to/Dockerfile}`: a Dockerfile in the repository that holds the fleet (the
  path is relative to the spec file's directory; its directory is the build context), or
- `{base: <image reference>}`: an image the host pulls (`python:3.12-bookworm`).

Whichever it is must be Debian- or Ubuntu-based (apt-get, useradd): docs/agents.md says what
else it needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .problems import Problem
from .source import Source

# name[:tag][@digest], with an optional registry host (and port) first: Docker's own grammar,
# lower case, no scheme.
_REFERENCE = re.compile(
    r"^(?:[a-z0-9.-]+(?::\d+)?/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$"
)


class ImageSource(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    dockerfile: str | None = Field(
        None, description="A Dockerfile in this repository (relative to the spec's directory)"
    )
    base: str | None = Field(None, description="An image reference the host pulls")

    @field_validator("dockerfile")
    @classmethod
    def _relative(cls, value: str | None) -> str | None:
        if value is None:
            return None
        path = PurePosixPath(value)
        if not value or path.is_absolute() or ".." in path.parts or "\\\\" in value:
            raise ValueError(
                f"'{value}' must be a path inside this repository, relative to the spec's "
                "directory, without '..'"
            )
        return value

    @field_validator("base")
    @classmethod
    def _reference(cls, value: str | None) -> str | None:
        if value is not None and not _REFERENCE.match(value):
            raise ValueError(
                f"'{value}' is not an image reference (name[:tag][@sha256:...], e.g. "
                "python:3.12-bookworm)"
            )
        return value

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if (self.dockerfile is None) == (self.base is None):
            raise ValueError("give exactly one of `dockerfile` or `base`")
        return self


@dataclass(frozen=True)
class SandboxImage:
    """The resolved `image:` of an entry."""

    dockerfile: str | None  # as written, relative to the spec's directory
    base: str | None
    path: Path | None = field(default=None, compare=False)  # the Dockerfile found (a file spec)

    @property
    def shown(self) -> str:
        return f"dockerfile {self.dockerfile}" if self.dockerfile else f"base {self.base}"


def resolve(
    chosen: ImageSource | None, root: Path | None, path: tuple[str, ...], source: Source
) -> tuple[SandboxImage | None, list[Problem]]:
    """The entry's image, with its Dockerfile's path from the project directory (`root`: the
    spec file's directory), or the problem that the Dockerfile is not there."""
    if chosen is None:
        return None, []
    if chosen.dockerfile is None or root is None:
        return SandboxImage(chosen.dockerfile, chosen.base), []
    found = (root / chosen.dockerfile).resolve()
    if not found.is_file():
        at = (*path, "image", "dockerfile")
        problem = f"'{chosen.dockerfile}' is not a file next to the spec ({found} not found)"
        return None, [Problem(*source.position(at), ".".join(at), problem, source.file)]
    return SandboxImage(chosen.dockerfile, None, found), []
