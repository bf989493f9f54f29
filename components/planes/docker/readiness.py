"""Readiness: `up` returns once every new or replaced Docker sandbox of a host (and each repository
mirror, which its sandboxes wait for) is ready, and otherwise fails naming each that is not, with
why. This resource comes after the containers; the wait itself, and why it lives apart, is
components/host/readiness_wait.py.

One resource per host, not one per container: Pulumi runs `cores x 4` operations at once and
the SDK's dynamic provider host answers 4 calls at a time, so with one wait per sandbox at most
four waited at once while the others sat in slots the next sandboxes' creates needed (50 new
sandboxes: `up` took 68 s, now 50: docs/benchmarks.md).

Its input is the containers' ids, so a replaced container is waited for again and a running one
never is: an update waits only for ids it has not seen.

Its provider is the host's own `ReadinessHost`: the engine starts the SDK's dynamic provider host
(a Python process, about 0.3 s) when a provider of that package registers. The default one
registered with the Readiness, after the last container's create; this one takes nothing from
the containers, so it registers at once and the host starts beside the creates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi.dynamic as dynamic
import pulumi_docker as docker

from ...host.engine_cli import EngineCli
from ...host.readiness_wait import ReadinessProvider


@dataclass(frozen=True, kw_only=True)
class Watched:
    """One container `up` waits for."""

    subject: str  # what it is, for people: "sandbox NAME", "the mirror of URL"
    container: docker.Container
    probe: Sequence[str]  # its health check, once, without waiting: it prints why not


@dataclass(frozen=True, kw_only=True)
class ReadinessArgs:
    watched: Sequence[Watched]
    timeout_s: int  # readyTimeoutSeconds
    cli: EngineCli


class Readiness(dynamic.Resource, module="fleet", name="Readiness"):
    """The wait for a host's containers to be ready; its own type,
    `pulumi-python:dynamic/fleet:Readiness`, tells it apart from the cloud planes' resources."""

    def __init__(
        self, name: str, args: ReadinessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        watched = [
            {"container_id": w.container.id, "container": w.container.name,
             "subject": w.subject, "probe": list(w.probe)}
            for w in args.watched
        ]  # fmt: skip
        props = {"watched": watched, "timeout_seconds": args.timeout_s, "cli": args.cli.argv()}
        host = ReadinessHost(f"{name}-host", opts)
        in_host = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(provider=host))
        super().__init__(ReadinessProvider(), name, props, in_host)


class ReadinessHost(pulumi.ProviderResource):
    """The provider a host's Readiness runs in: the SDK's dynamic provider host. It takes no
    settings (the wait reads none), so a stack that had the default one keeps its Readiness:
    the engine replaces a resource on a provider change only when the new provider's DiffConfig
    says so, and this one has none."""

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None) -> None:
        super().__init__("pulumi-python", name, {}, opts)
