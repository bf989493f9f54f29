"""The review of a change to sandboxes.yaml as the pull request shows it: a Markdown comment, or
JSON for other tools."""

from __future__ import annotations

from typing import Any

from ..planes import Effect
from .review import Review, host_ports, show, workspace_fate


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
            [f"`{s.name}`", str(s.task), str(s.mode), str(s.runtime), show(s.host),
             f"{s.cpus:g} cpu, {s.memory}, {s.pids} pids", host_ports(s), _code(s.branch),
             show(s.expires)]
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
                "host_ports": host_ports(s),
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
