"""`hosts:`: the machines of a fleet that spans several (docs/factories.md).

Each host declares what it can do, and every entry lands on exactly one: its own `host:`, else
`defaults.host`, else the headquarters. Placement is written down, never computed from the set
of hosts, so declaring another host moves no sandbox. A file without `hosts:` is a fleet on one
host as before: an entry without `host:` goes to whichever stack reads the file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from .messages import did_you_mean
from .models import Capability, HostEntry, Mode, Runtime, SpecFile
from .problems import Problem
from .source import Path_, Source, dotted

if TYPE_CHECKING:
    from .loader import SandboxSpec


class Role(StrEnum):
    """A host's part in the fleet: alone, or the headquarters (runs the bus), or a member.
    The supervisor reads the value (contract.py: SUPERVISOR_ROLE)."""

    SINGLE = "single"
    HEADQUARTERS = "headquarters"
    MEMBER = "member"


@dataclass(frozen=True)
class HostSpec:
    name: str
    capabilities: tuple[Capability, ...]  # sorted
    headquarters: bool  # marked, or the only host
    cpus: float | None  # declared capacity, if any
    memory_bytes: int | None
    # Where its capacity is written, for the stack's capacity check (components/factory.py).
    cpus_at: tuple[int, int] = field(default=(1, 1), compare=False)
    memory_at: tuple[int, int] = field(default=(1, 1), compare=False)


@dataclass(frozen=True)
class Hosts:
    declared: tuple[HostSpec, ...] = ()  # sorted by name; empty: no `hosts:` in the file

    def __bool__(self) -> bool:
        return bool(self.declared)

    @property
    def names(self) -> list[str]:
        return [h.name for h in self.declared]

    def get(self, name: str) -> HostSpec | None:
        return next((h for h in self.declared if h.name == name), None)

    @property
    def headquarters(self) -> HostSpec | None:
        return next((h for h in self.declared if h.headquarters), None)

    def role_of(self, name: str) -> Role:
        if len(self.declared) <= 1:
            return Role.SINGLE
        hq = self.headquarters
        return Role.HEADQUARTERS if hq is not None and hq.name == name else Role.MEMBER


def needs(entry: SandboxSpec) -> Capability | None:
    """What an entry needs of its host: Docker sandboxes their mode, Daytona sandboxes the
    host's Daytona server; Modal's run in Modal's cloud, whichever stack creates them."""
    if entry.runtime is Runtime.DOCKER:
        return Capability.VISUAL if entry.mode is Mode.VISUAL else Capability.HEADLESS
    return Capability.DAYTONA if entry.runtime is Runtime.DAYTONA else None


def place(
    sandboxes: Sequence[SandboxSpec], doc: SpecFile, source: Source
) -> tuple[Hosts, list[SandboxSpec], list[Problem]]:
    """The declared hosts, every entry with the host it lands on, and what is wrong."""
    if doc.hosts is None:
        return Hosts(), list(sandboxes), []
    if not doc.hosts:
        message = "no hosts given; leave `hosts:` out for a fleet on one host, or declare each"
        return Hosts(), list(sandboxes), [_at(source, ("hosts",), message, of_key=True)]
    lone = len(doc.hosts) == 1
    hosts = Hosts(
        tuple(_host(name, entry, lone, source) for name, entry in sorted(doc.hosts.items()))
    )
    found = _headquarters_problems(hosts, doc, source)
    default = doc.defaults.host
    if default is not None and hosts.get(default) is None:
        found.append(_unknown(hosts, default, ("defaults", "host"), source))
    hq = hosts.headquarters
    placed = []
    for s in sandboxes:
        own = doc.sandboxes[s.name].host
        name = own or default or (hq.name if hq else None)
        host = hosts.get(name) if name else None
        if own is not None and host is None:
            found.append(_unknown(hosts, own, ("sandboxes", s.name, "host"), source))
        if host is not None:
            found += _lacks(s, host, hosts, source, own is not None)
        placed.append(dataclasses.replace(s, host=name))
    return hosts, placed, found


def _host(name: str, entry: HostEntry, lone: bool, source: Source) -> HostSpec:
    at = ("hosts", name, "capacity")
    return HostSpec(
        name=name,
        capabilities=tuple(sorted(set(entry.capabilities))),
        headquarters=entry.headquarters or lone,
        cpus=entry.capacity.cpus if entry.capacity else None,
        memory_bytes=entry.capacity.memory if entry.capacity else None,
        cpus_at=source.position((*at, "cpus")),
        memory_at=source.position((*at, "memory")),
    )


def _headquarters_problems(hosts: Hosts, doc: SpecFile, source: Source) -> list[Problem]:
    """Exactly one headquarters among several hosts: it runs the bus and takes the entries
    without `host:`, so it is written down, never guessed from the hosts' order."""
    marked = [name for name, entry in sorted((doc.hosts or {}).items()) if entry.headquarters]
    if not marked and len(hosts.declared) > 1:
        message = (
            f"{len(hosts.declared)} hosts and none is headquarters; mark exactly one "
            "`headquarters: true` (it runs the bus and takes the entries without `host:`: when "
            "a host joins a fleet on one, mark the one it had, so that no sandbox moves)"
        )
        return [_at(source, ("hosts",), message, of_key=True)]
    return [
        _at(
            source,
            ("hosts", name, "headquarters"),
            f"hosts.{marked[0]} is headquarters already; exactly one host is",
            of_key=True,
        )
        for name in marked[1:]
    ]


def _unknown(hosts: Hosts, given: str, path: Path_, source: Source) -> Problem:
    message = (
        f"'{given}' is not a declared host (hosts: {', '.join(hosts.names)})"
        + did_you_mean(given, hosts.names)
        + "; declare it under `hosts:` or name one of these"
    )
    return _at(source, path, message)


def _lacks(
    s: SandboxSpec, host: HostSpec, hosts: Hosts, source: Source, own: bool
) -> list[Problem]:
    need = needs(s)
    if need is None or need in host.capabilities:
        return []
    able = [h.name for h in hosts.declared if need in h.capabilities]
    what = (
        f"a {s.mode.value} sandbox (task {s.task.value})"
        if need is not Capability.DAYTONA
        else "a Daytona sandbox (runtime daytona)"
    )
    add = f"{need.value} to hosts.{host.name}.capabilities"
    fix = f"give it `host: {able[0]}`, or add {add}" if able else f"no host has it: add {add}"
    message = (
        f"{what} needs a host with `{need.value}`, and host {host.name} has only "
        f"{', '.join(c.value for c in host.capabilities)}; {fix}"
    )
    path = ("sandboxes", s.name, "host") if own else ("sandboxes", s.name)
    return [_at(source, path, message, of_key=not own)]


def _at(source: Source, path: Path_, message: str, *, of_key: bool = False) -> Problem:
    return Problem(*source.position(path, of_key=of_key), dotted(path), message, source.file)
