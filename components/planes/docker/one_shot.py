"""A container that runs once during `up` and stays exited: the keys writer, the tailnet state
owner. Hardened like every fleet container, with no network and no restart; `up` waits for it to
end (attach) and the engine reads it back as it is (must_run false), so an exited one is not
drift. scripts/check-config-hash judges it by its exit code (the one-shot label). It gets no
pids limit: it has run and exited before an `update` could reach it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_docker as docker

from ...host.containers import Placement, container_labels, hardened
from .config_hash import LABEL_ONE_SHOT

MEMORY = 16 * 1024 * 1024


def one_shot_container(
    resource_name: str,
    place: Placement,
    opts: pulumi.ResourceOptions,
    *,
    name: str,
    image: pulumi.Input[str],
    entrypoint: Sequence[str],
    mounts: Sequence[docker.ContainerMountArgs],
    **inputs: Any,
) -> docker.Container:
    return docker.Container(
        resource_name,
        name=name,
        image=image,
        entrypoints=list(entrypoint),
        mounts=list(mounts),
        network_mode="none",
        attach=True,
        must_run=False,
        labels=container_labels({**place.labels, LABEL_ONE_SHOT: "true"}),
        **inputs,
        **{**hardened(memory_bytes=MEMORY, cpus=0.1), "restart": "no"},
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(provider=place.provider)),
    )
