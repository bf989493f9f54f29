"""A repository's memory: one volume per repository URL, mounted read-write at MEMORY_PATH in
every Docker sandbox of that repository. The builtin runtime's `remember` tool appends to it and
every task reads it first, so what one agent learned reaches its siblings and outlives them.

Kept like a workspace, and more: the volume survives the last sandbox of its repository going
(retained on delete, whatever the entries' `data`), so it is removed only explicitly
(`docker volume rm`). Its name comes from the URL alone, so adding or removing a sandbox moves
no other.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from ...contract import MEMORY_PATH
from ...host.containers import Placement, volume_labels

_NOT_NAME = re.compile(r"[^a-z0-9.-]+")


def repo_slug(repo: str) -> str:
    """`github.com-acme-app-1a2b3c4d` for https://github.com/acme/app.git: readable, and unique
    by the hash of the whole URL."""
    rest = re.sub(r"^[a-z]+://", "", repo.lower()).rsplit("@", 1)[-1]
    readable = _NOT_NAME.sub("-", rest.removesuffix(".git")).strip("-.")[:40].strip("-.")
    return f"{readable}-{hashlib.sha256(repo.encode()).hexdigest()[:8]}"


class RepoMemory:
    def __init__(
        self, name: str, repos: Iterable[str], place: Placement, opts: pulumi.ResourceOptions
    ) -> None:
        on_host = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(provider=place.provider, retain_on_delete=True)
        )
        self.names = {repo: f"{place.prefix}memory-{repo_slug(repo)}" for repo in set(repos)}
        self.volumes = {
            repo: docker.Volume(
                f"{name}-memory-{repo_slug(repo)}",
                name=volume,
                labels=volume_labels(place.labels),
                opts=on_host,
            )
            for repo, volume in sorted(self.names.items())
        }

    def of(self, repo: str | None) -> MemoryMount | None:
        """`repo`'s memory, for a sandbox of it (None: a sandbox without a repo)."""
        return None if repo is None else MemoryMount(self.volumes[repo], self.names[repo])


@dataclass(frozen=True)
class MemoryMount:
    volume: docker.Volume  # the sandbox starts after it
    source: str  # its name

    def mount(self) -> docker.ContainerMountArgs:
        return docker.ContainerMountArgs(type="volume", source=self.source, target=MEMORY_PATH)

    @property
    def mounted(self) -> tuple[str, str]:
        """(source, target), for the drift hash."""
        return self.source, MEMORY_PATH
