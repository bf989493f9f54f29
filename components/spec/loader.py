"""sandboxes.yaml -> FleetSpec: parse, validate, apply defaults, route, assign host ports.

Any problem raises SpecError listing all of them with file:line:col, so a broken file can
never be mistaken for an empty fleet.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from ..sizes import format_size
from . import egress, hosts, image, ports, reserved
from .hosts import Hosts
from .image import SandboxImage
from .messages import validation_problems
from .models import (
    TASK_MODE,
    DataPolicy,
    Defaults,
    Mode,
    Resources,
    Runtime,
    SandboxEntry,
    SpecFile,
    Task,
)  # fmt: skip
from .ports import PortBlock, block_size
from .problems import Problem, SpecError
from .reading import parse_source, read_source
from .source import Source

_T = typing.TypeVar("_T")

BUILTIN_RESOURCES = Resources(cpus=1.0, memory="1Gi", pids=512)  # type: ignore[arg-type]
BUILTIN_BASE = "main"


@dataclass(frozen=True)
class HostPorts:
    """Host side of every port a sandbox publishes (all on the stack's bind address)."""

    ssh: int
    novnc: int | None
    apps: tuple[tuple[int, int], ...]  # (container port, host port)


@dataclass(frozen=True)
class SandboxSpec:
    """One sandbox with defaults applied: everything a plane needs, nothing optional left."""

    name: str
    task: Task
    mode: Mode
    runtime: Runtime
    repo: str | None
    branch: str
    base: str
    cpus: float
    memory_bytes: int
    pids: int
    ports: tuple[int, ...]
    ssh_port_pinned: bool
    host_ports: HostPorts
    expires: dt.date | None
    env: tuple[tuple[str, str], ...]  # sorted by name: order never causes a diff
    secrets: tuple[str, ...]
    repo_token: str | None  # which of `secrets` git's credential helper answers with
    data: DataPolicy
    host: str | None  # with `hosts:` always the host it lands on (hosts.py)
    tailnet: bool  # joins the tailnet itself through a sidecar, reachable by MagicDNS name
    egress: tuple[str, ...] | None  # names it may reach (egress.py); None: anywhere
    image: SandboxImage | None  # its toolchain (image.py); None: the fleet's own base
    line: int = field(compare=False)  # where the entry is written, for later error messages

    @property
    def memory(self) -> str:
        return format_size(self.memory_bytes)

    @property
    def port_block(self) -> PortBlock:
        """Every host port this entry holds, published or not yet (components/spec/ports.py)."""
        return PortBlock(self.name, self.host_ports.ssh, block_size(len(self.ports)))


@dataclass(frozen=True)
class FleetSpec:
    file: str
    sandboxes: tuple[SandboxSpec, ...]  # sorted by name
    expired: tuple[str, ...] = ()
    hosts: Hosts = field(default_factory=Hosts)  # `hosts:` (hosts.py); none: one host

    def by_name(self) -> dict[str, SandboxSpec]:
        return {s.name: s for s in self.sandboxes}

    def service_port_problems(
        self, here: Iterable[SandboxSpec], services: Mapping[int, str]
    ) -> list[str]:
        """`file:line: path: message` for each entry of `here` whose port block holds a port
        of the fleet's own services (`services`: host port -> who publishes it), with a start
        that is free of the services and of every entry's block."""
        problems = []
        for e in here:
            block = e.port_block
            others = [s.port_block for s in self.sandboxes if s.name != e.name]
            others += [PortBlock(who, port, 1) for port, who in services.items()]
            how = "pinned by ssh_port" if e.ssh_port_pinned else "derived from the name"
            problems += [
                f"{self.file}:{e.line}: sandboxes.{e.name}: host ports {block.start}-{block.end} "
                f"({how}) include {port}, which {services[port]} publishes; use "
                f"`ssh_port: {ports.free_start(block.size, others, block.start)}` (free) or "
                "change that setting"
                for port in ports.held(block, services)
            ]
        return problems


def utc_today() -> dt.date:
    """The date `expires` is compared with when the caller gives none (tests pin it)."""
    return dt.datetime.now(dt.UTC).date()


def load_spec(
    path: Path, *, today: dt.date | None = None, display_name: str | None = None
) -> FleetSpec:
    """Load and validate `path`. Raises SpecError; never returns a half-read fleet."""
    return _build(read_source(path, display_name), today, path.parent)


def load_spec_text(
    text: str | bytes, *, file: str = "sandboxes.yaml", today: dt.date | None = None
) -> FleetSpec:
    raw = text.encode() if isinstance(text, str) else text
    return _build(parse_source(raw, file), today)


def _build(source: Source, today: dt.date | None, root: Path | None = None) -> FleetSpec:
    clashes = _name_clashes(source)  # from the keys alone: reported with everything else
    try:
        document = SpecFile.model_validate(source.data)
    except ValidationError as exc:
        raise SpecError([*source.problems, *validation_problems(exc, source), *clashes]) from None
    clashes += _repo_token_problems(document, source)
    if source.problems or clashes:
        raise SpecError([*source.problems, *clashes])
    today = today or utc_today()
    live = {n: e for n, e in document.sandboxes.items() if e.expires is None or e.expires >= today}
    sandboxes = [_resolve(name, entry, document, source) for name, entry in sorted(live.items())]
    sandboxes, found = _images(sandboxes, document, source, root)
    found += egress.problems(sandboxes, source)
    fleet_hosts, sandboxes, placing = hosts.place(sandboxes, document, source)
    found += placing
    try:
        sandboxes = _assign_host_ports(sandboxes, document, source)
    except SpecError as exc:
        raise SpecError([*found, *exc.problems]) from None
    if found:
        raise SpecError(found)
    expired = tuple(sorted(set(document.sandboxes) - set(live)))
    return FleetSpec(source.file, tuple(sandboxes), expired, fleet_hosts)


def _name_clashes(source: Source) -> list[Problem]:
    names = source.data.get("sandboxes")
    return [
        Problem(
            *source.position(("sandboxes", c.name), of_key=True),
            f"sandboxes.{c.name}",
            c.message(),
            source.file,
        )
        for c in reserved.name_clashes(names if isinstance(names, dict) else ())
    ]


def _repo_token_problems(doc: SpecFile, source: Source) -> list[Problem]:
    """A token is for git over https: no repo, or an ssh/git:// one (keys, no token), is a
    mistake the sandbox would only show as a failed clone."""
    found = []
    for name, entry in doc.sandboxes.items():
        repo = entry.repo or doc.defaults.repo
        if entry.repo_token is None or (repo or "").startswith("https://"):
            continue
        given = f"repo {repo!r}" if repo else "no repo"
        found.append(
            Problem(
                *source.position(("sandboxes", name, "repo_token")),
                f"sandboxes.{name}.repo_token",
                f"a token is for an https:// repo, and this entry has {given}; drop repo_token "
                "or give an https:// repo",
                source.file,
            )
        )
    return found


def _resolve(name: str, entry: SandboxEntry, doc: SpecFile, source: Source) -> SandboxSpec:
    d = doc.defaults
    res = entry.resources
    # A secret named like a default env key replaces it for this entry: the secret wins.
    env = {k: v for k, v in {**d.env, **entry.env}.items() if k not in entry.secrets}
    return SandboxSpec(
        name=name,
        task=entry.task,
        mode=entry.mode or TASK_MODE[entry.task],
        runtime=entry.runtime or d.runtime or Runtime.DOCKER,
        repo=entry.repo or d.repo,
        branch=entry.branch or name,
        base=entry.base or d.base or BUILTIN_BASE,
        cpus=_first(res.cpus, d.resources.cpus, BUILTIN_RESOURCES.cpus),
        memory_bytes=_first(res.memory, d.resources.memory, BUILTIN_RESOURCES.memory),
        pids=_first(res.pids, d.resources.pids, BUILTIN_RESOURCES.pids),
        ports=tuple(entry.ports),
        ssh_port_pinned=entry.ssh_port is not None,
        host_ports=HostPorts(ssh=0, novnc=None, apps=()),  # assigned once all entries are known
        expires=entry.expires,
        env=tuple(sorted(env.items())),
        secrets=tuple(sorted(entry.secrets)),
        repo_token=entry.repo_token,
        data=entry.data or d.data or DataPolicy.KEEP,
        host=entry.host or d.host,
        tailnet=entry.tailnet,
        egress=_egress(entry, d),
        image=None,  # resolved with the file's directory (_images)
        line=source.position(("sandboxes", name), of_key=True)[0],
    )


def _images(
    sandboxes: list[SandboxSpec], doc: SpecFile, source: Source, root: Path | None
) -> tuple[list[SandboxSpec], list[Problem]]:
    """Each entry's `image:` (its own, else the defaults'), its Dockerfile looked for next to
    the spec (`root`; not looked for in a spec given as text)."""
    out, found = [], []
    for s in sandboxes:
        own = doc.sandboxes[s.name].image
        at = ("sandboxes", s.name) if own is not None else ("defaults",)
        chosen, problems = image.resolve(own or doc.defaults.image, root, at, source)
        out.append(dataclasses.replace(s, image=chosen))
        found += problems
    return out, found


def _egress(entry: SandboxEntry, d: Defaults) -> tuple[str, ...] | None:
    chosen = entry.egress if entry.egress is not None else d.egress
    return None if chosen in (None, egress.ANY) else tuple(sorted(chosen))


def _first(*values: _T | None) -> _T:
    return next(v for v in values if v is not None)


def _assign_host_ports(
    sandboxes: list[SandboxSpec], doc: SpecFile, source: Source
) -> list[SandboxSpec]:
    blocks = {}
    for s in sandboxes:
        size = ports.block_size(len(s.ports))
        pinned = doc.sandboxes[s.name].ssh_port
        start = pinned if pinned is not None else ports.derived_start(s.name)
        blocks[s.name] = ports.PortBlock(s.name, start, size)
    problems = []
    for first, second in ports.overlaps(blocks.values()):
        # Blame the entry that is not pinned (pinning it is the fix), else the later one.
        blamed, other = (
            (first, second) if not doc.sandboxes[first.name].ssh_port else (second, first)
        )
        others = {n: b for n, b in blocks.items() if n != blamed.name}
        suggestion = ports.free_start(blamed.size, others.values(), blamed.start)
        line, col = source.position(("sandboxes", blamed.name), of_key=True)
        problems.append(
            Problem(
                line,
                col,
                f"sandboxes.{blamed.name}",
                f"host ports {blamed.start}-{blamed.end} overlap sandboxes.{other.name} "
                f"({other.start}-{other.end}); pin this entry with `ssh_port: {suggestion}`",
                source.file,
            )
        )
    if problems:
        raise SpecError(problems)
    out = []
    for s in sandboxes:
        b = blocks[s.name]
        hp = HostPorts(
            ssh=b.start,
            novnc=b.start + 1 if s.mode is Mode.VISUAL else None,
            apps=tuple((p, b.start + ports.BLOCK_OVERHEAD + i) for i, p in enumerate(s.ports)),
        )
        out.append(dataclasses.replace(s, host_ports=hp))
    return out
