"""A repository's mirror: one bare clone per repository URL on a volume of its own, kept up to
date by a keeper container (images/headless/sandbox-mirror: it clones at start, then fetches
every `mirrorFetchSeconds`), and mounted read-only at MIRROR_PATH in every Docker sandbox of
that repository, which clones with it as git's alternate. Twenty sandboxes of one repository
then hold one copy of its history, not twenty, and a new one fetches only what the mirror
lacks.

The mirror never deletes an object (its gc and pruning are off), so no fetch breaks a
workspace that borrows from it. The volume is kept when the last sandbox of its repository goes
(retained on delete): its workspaces, also kept, stay complete repositories with it, and a
sandbox of that repository that comes back finds both. A private repository's keeper fetches
with the token of the first entry (by name) that names one, through the same credential helper
as the sandboxes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from ...contract import GIT_REPO, MIRROR_PATH, SANDBOX_GIT_TOKEN_VAR
from ...host.containers import (
    Limits,
    Placement,
    container_labels,
    env_list,
    fleet_container,
    healthcheck,
    volume_labels,
)
from ...spec import SandboxSpec
from .memory import repo_slug
from .readiness import Watched

MIRROR = "/usr/local/bin/sandbox-mirror"  # images/headless: clones, fetches, says if done
KEEPER_LIMITS = Limits(memory_bytes="256Mi", cpus=0.5, pids=128)


@dataclass(frozen=True)
class MirrorMount:
    # What a sandbox starts after: the keeper. The sandbox waits for the first clone itself
    # (sandbox-sync); the plane's Readiness, a dynamic resource after every container, never
    # puts its provider's start (about a second) on a new sandbox's path.
    keeper: docker.Container
    source: str
    ready: Watched  # `up` waits for the first clone (the plane's Readiness)

    def mount(self) -> docker.ContainerMountArgs:
        return docker.ContainerMountArgs(
            type="volume", source=self.source, target=MIRROR_PATH, read_only=True
        )

    @property
    def mounted(self) -> tuple[str, str]:
        return self.source, MIRROR_PATH


@dataclass(frozen=True, kw_only=True)
class RepoMirrorsArgs:
    entries: list[SandboxSpec]
    image_id: pulumi.Input[str]  # the fleet's headless image (git, the credential helper)
    place: Placement
    secrets: Mapping[str, pulumi.Output[str]]  # the entries' secrets (a repo_token among them)
    every_s: int


class RepoMirrors:
    def __init__(self, name: str, args: RepoMirrorsArgs, opts: pulumi.ResourceOptions) -> None:
        self.mirrors: dict[str, MirrorMount] = {}
        # every_s 0: the stack has mirrors off (mirrorEnabled false); sandboxes clone it all.
        borrowing = [e for e in args.entries if uses_mirror(e)] if args.every_s else []
        for repo in sorted({str(e.repo) for e in borrowing}):
            token = next((e.repo_token for e in borrowing if e.repo == repo and e.repo_token),
                         None)  # fmt: skip
            self.mirrors[repo] = _mirror(name, repo, token, args, opts)

    def of(self, entry: SandboxSpec) -> MirrorMount | None:
        return self.mirrors.get(str(entry.repo)) if uses_mirror(entry) else None


def uses_mirror(entry: SandboxSpec) -> bool:
    """A sandbox with a repository borrows from its mirror, unless an egress list confines it:
    its clone then goes through its own gateway, which the keeper (on ai-net, outside the list)
    does not (docs/egress.md)."""
    return entry.repo is not None and entry.egress is None


def _mirror(
    name: str, repo: str, token: str | None, args: RepoMirrorsArgs, opts: pulumi.ResourceOptions
) -> MirrorMount:
    slug, place = repo_slug(repo), args.place
    on_host = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(provider=place.provider))
    volume_name = f"{place.prefix}mirror-{slug}"
    volume = docker.Volume(
        f"{name}-mirror-{slug}",
        name=volume_name,
        labels=volume_labels(place.labels),
        opts=pulumi.ResourceOptions.merge(on_host, pulumi.ResourceOptions(retain_on_delete=True)),
    )
    env = {GIT_REPO: repo, "SANDBOX_MIRROR_REPO": repo, "SANDBOX_MIRROR_EVERY": str(args.every_s)}
    secret_env = {}
    if token is not None:
        env[SANDBOX_GIT_TOKEN_VAR] = token
        secret_env[token] = args.secrets[token]
    keeper = fleet_container(
        f"{name}-mirror-{slug}-keeper",
        place,
        KEEPER_LIMITS,
        pulumi.ResourceOptions.merge(
            on_host, pulumi.ResourceOptions(depends_on=[volume], replace_on_changes=["healthcheck"])
        ),
        # A dot: no sandbox name has one, so no sandbox can take this container's name.
        name=f"{place.prefix}mirror.{slug}",
        image=args.image_id,
        entrypoints=["/usr/bin/tini", "-g", "--", MIRROR],
        envs=env_list(env, secret_env),
        mounts=[docker.ContainerMountArgs(type="volume", source=volume_name, target=MIRROR_PATH)],
        networks_advanced=place.network(f"mirror.{slug}"),
        healthcheck=healthcheck(  # a long poll, as the sandboxes' (sandbox-mirror --health)
            [MIRROR, "--health", "50"],
            interval="250ms",
            timeout="1m0s",
            start_period="10m0s",
        ),
        labels=container_labels(place.labels),
    )
    ready = Watched(subject=f"the mirror of {repo}", container=keeper,
                    probe=[MIRROR, "--health", "0"])  # fmt: skip
    return MirrorMount(keeper, volume_name, ready)
