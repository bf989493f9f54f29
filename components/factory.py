"""This stack as one host of the fleet (docs/factories.md): which declared host it is, what it
can do, its role (alone, headquarters, member), what its capabilities take out of what it
builds, and what is wrong between sandboxes.yaml's `hosts:` and Pulumi.<stack>.yaml.

A file without `hosts:` is a fleet on one host: the stack's capabilities are then what it
builds, and nothing is pruned.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from .settings import BUS_SECRET_KEY, PROJECT, HostVariant, StackSettings, port_clashes
from .sizes import format_size
from .spec import Capability, FleetSpec, HostSpec, Role, Runtime, SandboxSpec
from .spec.messages import did_you_mean

# What a host with no container engine (hostVariant: none) cannot do.
ON_THE_ENGINE = (Capability.HEADLESS, Capability.VISUAL, Capability.MODEL)


@dataclass(frozen=True)
class Factory:
    name: str  # sandbox-fleet:hostName: a declared host when the spec has `hosts:`
    capabilities: tuple[Capability, ...]  # sorted
    role: Role
    sandboxes: dict[str, str]  # every sandbox of the spec -> its host (several hosts only)

    @property
    def runs_bus(self) -> bool:
        return self.role is Role.HEADQUARTERS


def factory(spec: FleetSpec, s: StackSettings) -> Factory:
    declared = spec.hosts.get(s.host.name)
    role = spec.hosts.role_of(s.host.name)
    return Factory(
        name=s.host.name,
        capabilities=declared.capabilities if declared else implied(s),
        role=role,
        sandboxes={} if role is Role.SINGLE else {e.name: str(e.host) for e in spec.sandboxes},
    )


def implied(s: StackSettings) -> tuple[Capability, ...]:
    """A host no `hosts:` declares can do what its stack builds."""
    found = set()
    if s.host.variant is not HostVariant.NONE:
        found |= {Capability.HEADLESS, Capability.VISUAL}
        if s.model_server.enabled:
            found.add(Capability.MODEL)
        if s.model_server.gpuLayers > 0:
            found.add(Capability.GPU)
    # Not for a server the stack runs itself: turning it on would then replace the supervisor
    # (its capabilities are env), and adding the server moves nothing else (#16).
    if s.daytona.url:
        found.add(Capability.DAYTONA)
    return tuple(sorted(found))


def pruned(s: StackSettings, f: Factory) -> StackSettings:
    """The settings as this host builds them: the bus on headquarters, no model server on a
    host without `model`, Daytona's own server on a host with `daytona` whose stack names no
    other server (daytonaUrl). (No desktop image without `visual` follows from the spec, which
    refuses visual entries there.)"""
    model = s.model_server.enabled and Capability.MODEL in f.capabilities
    own_daytona = Capability.DAYTONA in f.capabilities and not s.daytona.url
    return dataclasses.replace(
        s,
        runs_bus=f.runs_bus,
        model_server=s.model_server.model_copy(update={"enabled": model}),
        daytona=s.daytona.model_copy(update={"server": s.daytona.server or own_daytona}),
    )


def problems(spec: FleetSpec, s: StackSettings, stack_file: str, has_secret: bool) -> list[str]:
    """What stops this stack between its settings (`s`, pruned) and the spec's hosts
    (`has_secret`: whether the stack holds busSecret), naming both files where both are
    concerned."""
    if not spec.hosts:
        return []
    here = spec.hosts.get(s.host.name)
    if here is None:
        names = spec.hosts.names
        return [
            f"{stack_file}: {PROJECT}:hostName: '{s.host.name}' is not a host of {spec.file} "
            f"(hosts: {', '.join(names)}){did_you_mean(s.host.name, names)}; set it to the "
            f"host this stack deploys, or declare '{s.host.name}' under `hosts:` in {spec.file}"
        ]
    found = _engine_problems(spec, s, here, stack_file)
    role = spec.hosts.role_of(here.name)
    hq = spec.hosts.headquarters
    if role is not Role.SINGLE and not has_secret:
        found.append(
            f"{stack_file}: {PROJECT}:{BUS_SECRET_KEY}: not set; {spec.file} has "
            f"{len(spec.hosts.declared)} hosts, whose supervisors meet on headquarters' bus, "
            "and its password is derived from this secret, the same on every host: on "
            f"headquarters run `pulumi config set --secret {BUS_SECRET_KEY} "
            '"$(openssl rand -hex 32)"`, on each other host `pulumi config set --secret '
            f'{BUS_SECRET_KEY} "$(pulumi -s <headquarters stack> config get {BUS_SECRET_KEY})"`'
        )
    if role is Role.MEMBER and not s.bus.address and hq is not None:
        found.append(
            f"{stack_file}: {PROJECT}:busAddress: required on {here.name}, a member host of "
            f"{spec.file}: where headquarters ({hq.name}) publishes its bus (its tailnet IP, "
            f"{PROJECT}:bindAddress in its stack file)"
        )
    return found + [
        f"{stack_file}: {line}" for line in port_clashes(s.host_ports)
    ]  # with the bus's


def _engine_problems(
    spec: FleetSpec, s: StackSettings, here: HostSpec, stack_file: str
) -> list[str]:
    """What the host declares that its stack cannot build."""
    where = f"{spec.file} declares host {here.name}"
    found = []
    if s.host.variant is HostVariant.NONE:
        needs = [c.value for c in here.capabilities if c in ON_THE_ENGINE]
        if spec.hosts.role_of(here.name) is Role.HEADQUARTERS:
            needs.append("the bus (it is headquarters)")
        if needs:
            found.append(
                f"{stack_file}: {PROJECT}:hostVariant: none, and {where} with "
                f"{', '.join(needs)}, which need a container engine; set the host's variant, "
                "or take them out of its capabilities"
            )
    if Capability.DAYTONA in here.capabilities and not (s.daytona.url or s.runs_daytona_server):
        found.append(
            f"{stack_file}: {PROJECT}:daytonaUrl: not set, and {where} with daytona, whose own "
            "Daytona server needs a container engine (hostVariant: none); set the URL of a "
            "Daytona server, or take daytona out of its capabilities"
        )
    return found


def capacity_problems(
    spec: FleetSpec, s: StackSettings, memory_bytes: int, cpus: float
) -> list[str]:
    """This host's containers (`memory_bytes`, `cpus`: their summed limits, as the preflight
    sums them) against the capacity the spec declares, with the preflight's over-commit
    ratios: the preflight holds the fleet to the real host at `up`, this to the declared one
    before anything is built."""
    here = spec.hosts.get(s.host.name)
    if here is None:
        return []
    # The preflight's arithmetic (components/host/preflight_check.sh): thousandths, rounded down.
    ratio, cpu_ratio = (
        round(s.preflight.overcommit_ratio * 1000),
        round(s.preflight.cpu_overcommit_ratio * 1000),
    )
    found = []
    if here.memory_bytes is not None:
        limit = here.memory_bytes * ratio // 1000
        if memory_bytes > limit:
            asked, declared = format_size(memory_bytes), format_size(here.memory_bytes)
            found.append(
                _over(spec, here, "memory", asked, declared, ratio, "preflightOvercommitRatio",
                      format_size(limit))
            )  # fmt: skip
    if here.cpus is not None:
        limit = round(here.cpus * 1000) * cpu_ratio // 1000
        if round(cpus * 1000) > limit:
            found.append(
                _over(spec, here, "cpus", f"{cpus:g} CPUs", f"{here.cpus:g}", cpu_ratio,
                      "preflightCpuOvercommitRatio", f"{limit / 1000:g}")
            )  # fmt: skip
    return found


def _over(
    spec: FleetSpec, here: HostSpec, what: str, asked: str, declared: str, ratio_milli: int,
    key: str, limit: str,
) -> str:  # fmt: skip
    line, col = here.memory_at if what == "memory" else here.cpus_at
    return (
        f"{spec.file}:{line}:{col}: hosts.{here.name}.capacity.{what}: this host's containers "
        f"(its sandboxes and services) ask for {asked}, and {declared} with over-commit ratio "
        f"{ratio_milli / 1000:g} ({PROJECT}:{key}) allows {limit}; lower the entries' {what}, "
        "place some on another host, or raise the capacity"
    )


def why_not_here(e: SandboxSpec, s: StackSettings) -> tuple[str, str]:
    """Why this stack does not build `e`, and which stack deploys it."""
    if e.host not in (None, s.host.name):
        return f"placed on host {e.host}", "the stack for that host"
    if e.runtime is Runtime.MODAL:
        return "this stack does not use Modal (sandbox-fleet:modalEnabled)", "the stack that does"
    if e.runtime is Runtime.DAYTONA:
        return (
            "this stack has no Daytona server (sandbox-fleet:daytonaUrl) and runs none "
            "(sandbox-fleet:daytonaServer)",
            "the stack with one",
        )
    why = "runtime docker, but this stack has no container host (hostVariant: none)"
    return why, "the stack with one"
