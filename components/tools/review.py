"""What a change to sandboxes.yaml will do, for the reviewer of the pull request.

Compares two FleetSpecs (base and head) and says, per sandbox, whether it is added, removed or
changed, and for each changed field whether applying it restarts the sandbox (its container is
replaced), applies in place, or needs no restart at all. The verdicts follow how the Docker plane
maps spec fields to pulumi-docker inputs (ROUTES below); tests pin them against the provider
schema's `willReplaceOnChanges` flags. Pure: no Pulumi, no Docker, no credentials.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
    old, new = base.by_name(), head.by_name()
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


def _notes(base: FleetSpec, head: FleetSpec, today: dt.date) -> tuple[str, ...]:
    notes = [
        f"`{n}` is past its `expires` date and is left out of the fleet; delete the entry."
        for n in head.expired
    ]
    for s in head.sandboxes:
        if s.expires is not None and (s.expires - today).days <= 7:
            days = (s.expires - today).days
            notes.append(f"`{s.name}` expires on {s.expires} (in {days} days); then it is removed.")
    return tuple(notes)


def _show(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, tuple):
        return ", ".join(_show(v) for v in value) or "—"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _host_ports(s: SandboxSpec) -> str:
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
    ("host ports", _host_ports),
    ("cpus", lambda s: s.cpus),
    ("memory", lambda s: s.memory),
    ("pids", lambda s: s.pids),
    ("data", lambda s: s.data),
    ("expires", lambda s: s.expires),
    ("tailnet", lambda s: s.tailnet),
)


def diff_sandbox(old: SandboxSpec, new: SandboxSpec) -> SandboxChange | None:
    """Field-by-field changes of one sandbox, or None when nothing that matters changed."""
    raw: list[tuple[str, str, str, str]] = []  # (field shown, old, new, route key)
    for name, get in _PLAIN:
        if get(old) != get(new):
            raw.append((name, _show(get(old)), _show(get(new)), name))
    old_env, new_env = dict(old.env), dict(new.env)
    for var in sorted(set(old_env) | set(new_env)):
        if old_env.get(var) != new_env.get(var):
            raw.append((f"env.{var}", _show(old_env.get(var)), _show(new_env.get(var)), "env"))
    if old.secrets != new.secrets:  # names only: values live in Pulumi config, never here
        raw.append(("secrets (names)", _show(old.secrets), _show(new.secrets), "secrets"))
    move = _move(old, new)
    if not raw and move is None:
        return None
    if move is not None:
        kind = "runtime" if old.runtime != new.runtime else "host"
        shown = [(kind, _show(getattr(old, kind)), _show(getattr(new, kind)), Effect.MOVE)]
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


# --- rendering -------------------------------------------------------------------------------


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    return "—" if text == "—" else f"`{_cell(text)}`"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def counts(r: Review) -> dict[str, int]:
    verdicts = [c.verdict for c in r.changed]
    return {
        "added": len(r.added),
        "removed": len(r.removed),
        "changed": len(r.changed),
        "move": sum(v is Effect.MOVE for v in verdicts),
        "restart": sum(v is Effect.REPLACE for v in verdicts),
        "in_place": sum(v is Effect.IN_PLACE for v in verdicts),
        "no_restart": sum(v is Effect.NO_RESTART for v in verdicts),
        "unchanged": len(r.unchanged),
    }


def render_markdown(r: Review) -> str:
    c = counts(r)
    out = [
        f"### Fleet change: `{r.head_file}`",
        "",
        f"**{c['added']} added, {c['removed']} removed, {c['changed']} changed** "
        f"({c['move']} move, {c['restart']} restart, {c['in_place']} in place, "
        f"{c['no_restart']} without restart), "
        f"{c['unchanged']} unchanged.",
    ]
    if not (r.added or r.removed or r.changed):
        out += ["", "No sandbox is added, removed or changed."]
    moves = [ch for ch in r.changed if ch.move]
    if moves:
        out += ["", "**Moves:**"] + [f"- `{m.name}`: {m.move}" for m in moves]
    if r.added:
        rows = [
            [f"`{s.name}`", str(s.task), str(s.mode), str(s.runtime), _show(s.host),
             f"{s.cpus:g} cpu, {s.memory}, {s.pids} pids", _host_ports(s), _code(s.branch),
             _show(s.expires)]
            for s in r.added
        ]  # fmt: skip
        header = ["sandbox", "task", "mode", "runtime", "host", "resources", "host ports",
                  "branch", "expires"]  # fmt: skip
        out += ["", "#### Added", "", *_table(header, rows)]
    if r.removed:
        rows = [[f"`{s.name}`", str(s.runtime), why, workspace_fate(s)] for s, why in r.removed]
        out += ["", "#### Removed", "", *_table(["sandbox", "runtime", "why", "workspace"], rows)]
    if r.changed:
        rows = []
        for ch in r.changed:
            for i, fc in enumerate(ch.changes):
                first = i == 0
                rows.append([
                    f"`{ch.name}`" if first else "", f"**{ch.verdict}**" if first else "",
                    fc.field, f"{_code(fc.old)} → {_code(fc.new)}", str(fc.effect),
                ])  # fmt: skip
        out += ["", "#### Changed", ""]
        out += _table(["sandbox", "verdict", "field", "old → new", "effect"], rows)
    if r.notes:
        out += ["", "#### Notes", ""] + [f"- {n}" for n in r.notes]
    return "\n".join(out) + "\n"


def to_json(r: Review) -> dict[str, Any]:
    return {
        "base": r.base_file,
        "head": r.head_file,
        "counts": counts(r),
        "added": [
            {
                "name": s.name,
                "task": str(s.task),
                "mode": str(s.mode),
                "runtime": str(s.runtime),
                "host": s.host,
                "host_ports": _host_ports(s),
            }
            for s in r.added
        ],
        "removed": [
            {"name": s.name, "runtime": str(s.runtime), "why": why, "workspace": workspace_fate(s)}
            for s, why in r.removed
        ],
        "changed": [
            {
                "name": ch.name,
                "verdict": str(ch.verdict),
                "move": ch.move,
                "changes": [
                    {"field": f.field, "old": f.old, "new": f.new, "effect": str(f.effect)}
                    for f in ch.changes
                ],
            }
            for ch in r.changed
        ],
        "unchanged": list(r.unchanged),
        "notes": list(r.notes),
    }
