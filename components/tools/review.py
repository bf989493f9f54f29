"""What a change to sandboxes.yaml will do, for the reviewer of the pull request.

Compares two FleetSpecs (base and head) and says, per sandbox, whether it is added, removed or
changed, and for each changed field whether applying it restarts the sandbox (its container is
replaced), applies in place, or needs no restart at all. The verdicts are each plane's `effects`
(the Docker plane's follow planes/docker/routes.py, which tests pin against the provider schema's
`willReplaceOnChanges` flags). Pure: no Pulumi, no Docker, no credentials.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..planes import PLANES, Effect
from ..spec import DataPolicy, FleetSpec, Runtime, SandboxSpec, SpecError, load_spec

_STRENGTH = list(Effect)


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: str
    new: str
    effect: Effect


@dataclass(frozen=True)
class SandboxChange:
    name: str
    changes: tuple[FieldChange, ...]
    move: str | None = None  # "docker → modal", "host a → b"

    @property
    def verdict(self) -> Effect:
        return min((c.effect for c in self.changes), key=_STRENGTH.index)


@dataclass(frozen=True)
class Review:
    base_file: str
    head_file: str
    added: tuple[SandboxSpec, ...]
    removed: tuple[tuple[SandboxSpec, str], ...]  # (sandbox as in base, why)
    changed: tuple[SandboxChange, ...]
    unchanged: tuple[str, ...]
    notes: tuple[str, ...] = field(default=())


# --- comparing -------------------------------------------------------------------------------


def compare(base: FleetSpec, head: FleetSpec, *, today: dt.date) -> Review:
    old, new = _placed(base, head), head.by_name()
    changed, unchanged = [], []
    for name in sorted(set(old) & set(new)):
        change = diff_sandbox(old[name], new[name])
        if change is None:
            unchanged.append(name)
        else:
            changed.append(change)
    removed = tuple(
        (old[n], "expired (entry left in the file)" if n in head.expired else "entry deleted")
        for n in sorted(set(old) - set(new))
    )
    return Review(
        base_file=base.file,
        head_file=head.file,
        added=tuple(new[n] for n in sorted(set(new) - set(old))),
        removed=removed,
        changed=tuple(changed),
        unchanged=tuple(unchanged),
        notes=_notes(base, head, today),
    )


def _placed(base: FleetSpec, head: FleetSpec) -> dict[str, SandboxSpec]:
    """The base's entries by name. When the head first declares `hosts:`, an entry without
    `host:` is taken to be on the head's headquarters: the host the fleet had (docs/factories.md
    says to mark it so), whose stack keeps it as it is."""
    hq = head.hosts.headquarters
    if base.hosts or hq is None:
        return base.by_name()
    return {s.name: dataclasses.replace(s, host=s.host or hq.name) for s in base.sandboxes}


def _notes(base: FleetSpec, head: FleetSpec, today: dt.date) -> tuple[str, ...]:
    notes = [
        f"`{n}` is past its `expires` date and is left out of the fleet; delete the entry."
        for n in head.expired
    ]
    hq = head.hosts.headquarters
    if hq is not None and not base.hosts:
        notes.append(
            f"The file declares its hosts now: its entries without `host:` are taken to be on "
            f"headquarters ({hq.name}) so far, as if its stack had deployed them."
        )
    for s in head.sandboxes:
        if s.expires is not None and (s.expires - today).days <= 7:
            days = (s.expires - today).days
            notes.append(f"`{s.name}` expires on {s.expires} (in {days} days); then it is removed.")
    return tuple(notes)


def show(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, tuple):
        return ", ".join(show(v) for v in value) or "—"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def egress(s: SandboxSpec) -> str:
    return "any" if s.egress is None else (", ".join(s.egress) or "none (an empty list)")


def host_ports(s: SandboxSpec) -> str:
    hp = s.host_ports
    parts = [f"ssh {hp.ssh}"] + ([f"novnc {hp.novnc}"] if hp.novnc else [])
    parts += [f"{c}→{h}" for c, h in hp.apps]
    return ", ".join(parts)


_PLAIN: tuple[tuple[str, Callable[[SandboxSpec], object]], ...] = (
    ("task", lambda s: s.task),
    ("mode", lambda s: s.mode),
    ("repo", lambda s: s.repo),
    ("branch", lambda s: s.branch),
    ("base", lambda s: s.base),
    ("ports", lambda s: s.ports),
    ("host ports", host_ports),
    ("cpus", lambda s: s.cpus),
    ("memory", lambda s: s.memory),
    ("pids", lambda s: s.pids),
    ("data", lambda s: s.data),
    ("expires", lambda s: s.expires),
    ("tailnet", lambda s: s.tailnet),
    ("image", lambda s: s.image.shown if s.image else None),
)


def diff_sandbox(old: SandboxSpec, new: SandboxSpec) -> SandboxChange | None:
    """Field-by-field changes of one sandbox, or None when nothing that matters changed."""
    raw: list[tuple[str, str, str, str]] = []  # (field shown, old, new, route key)
    for name, get in _PLAIN:
        if get(old) != get(new):
            raw.append((name, show(get(old)), show(get(new)), name))
    old_env, new_env = dict(old.env), dict(new.env)
    for var in sorted(set(old_env) | set(new_env)):
        if old_env.get(var) != new_env.get(var):
            raw.append((f"env.{var}", show(old_env.get(var)), show(new_env.get(var)), "env"))
    if old.secrets != new.secrets:  # names only: values live in Pulumi config, never here
        raw.append(("secrets (names)", show(old.secrets), show(new.secrets), "secrets"))
    if old.egress != new.egress:  # a list's names, or `any` <-> a list (a different network)
        same_kind = (old.egress is None) == (new.egress is None)
        raw.append(("egress", egress(old), egress(new), "egress" if same_kind else "egress kind"))
    move = _move(old, new)
    if not raw and move is None:
        return None
    if move is not None:
        kind = "runtime" if old.runtime != new.runtime else "host"
        shown = [(kind, show(getattr(old, kind)), show(getattr(new, kind)), Effect.MOVE)]
        changes = [FieldChange(f, o, n, e) for f, o, n, e in shown]
        changes += [FieldChange(f, o, n, Effect.MOVE) for f, o, n, _ in raw]
    else:
        effects = PLANES[old.runtime].effects
        changes = [
            FieldChange(f, o, n, effects.get(key, Effect.NO_RESTART)) for f, o, n, key in raw
        ]
    return SandboxChange(old.name, tuple(changes), move)


def _move(old: SandboxSpec, new: SandboxSpec) -> str | None:
    if old.runtime != new.runtime:
        if old.runtime is Runtime.DOCKER:
            where = f"container removed here, {workspace_fate(old)}"
        elif old.runtime is Runtime.DAYTONA:
            where = (
                "Daytona sandbox deleted (data: discard)"
                if old.data is DataPolicy.DISCARD
                else "Daytona sandbox archived (its files kept)"
            )
        else:
            where = f"Modal sandbox terminated, {workspace_fate(old)}"
        return f"runtime {old.runtime} → {new.runtime}: {where}; created on the {new.runtime} plane"
    if old.host != new.host:
        return (
            f"host {old.host or 'default'} → {new.host or 'default'}: removed by this host's "
            f"stack, {workspace_fate(old)}; created by the other host's stack"
        )
    return None


def workspace_fate(s: SandboxSpec) -> str:
    if s.data is DataPolicy.DISCARD:
        return "workspace deleted (data: discard)"
    return "workspace kept"


# --- loading ---------------------------------------------------------------------------------


def load_base(
    path: Path, *, today: dt.date, display_name: str | None = None
) -> tuple[FleetSpec, str | None]:
    """The base side: a missing or empty file is an empty fleet (a new repository, a first PR).

    An invalid base does not stop the review (main may be the thing being fixed); it is compared
    as an empty fleet with a warning saying so.
    """
    name = display_name or str(path)
    if not path.exists() or not path.read_text(encoding="utf-8", errors="replace").strip():
        return FleetSpec(file=name, sandboxes=()), None
    try:
        return load_spec(path, today=today, display_name=name), None
    except SpecError as exc:
        warning = (
            f"The base `{name}` does not load ({len(exc.problems)} problems); "
            "it is compared as an empty fleet."
        )
        return FleetSpec(file=name, sandboxes=()), warning


def review_files(base: Path, head: Path, *, today: dt.date) -> Review:
    """Raises SpecError when head is invalid: a broken head must never read as 'remove all'."""
    base_spec, warning = load_base(base, today=today)
    head_spec = load_spec(head, today=today, display_name=str(head))
    result = compare(base_spec, head_spec, today=today)
    if warning:
        result = dataclasses.replace(result, notes=(warning, *result.notes))
    return result
