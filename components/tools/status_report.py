"""The fleet view as a terminal shows it (one table of hosts, then each host's sandboxes), or
as JSON for other tools."""

from __future__ import annotations

from typing import Any

from ..contract import SUPERVISOR_HEALTH_BUS

COUNTS = ("queued", "running", "done", "failed")


def to_json(hosts: list[dict[str, Any]], hours: int) -> dict[str, Any]:
    reachable = sum(1 for h in hosts if h["reachable"])
    return {
        "hours": hours,
        "reachable": reachable,
        "unreachable": len(hosts) - reachable,
        "stacks": hosts,
    }


def _number(value: Any) -> str:
    return "-" if value is None else f"{value:,}"


def _counts(tasks: dict[str, int] | None) -> list[str]:
    if tasks is None:
        return ["-"] * (len(COUNTS) + 1)
    failed = tasks.get("failed", 0) + tasks.get("cancelled", 0)
    shown = [tasks.get(k, 0) for k in COUNTS[:3]] + [failed, tasks.get("tokens", 0)]
    return [_number(v) for v in shown]


def _state(host: dict[str, Any]) -> str:
    if not host["reachable"]:
        return f"unreachable: {host['error']}"
    health = host["health"] or {}
    words = [str(health.get("status", "?"))]
    if health.get("role") and health["role"] != "single":
        words.append(str(health["role"]))
    if isinstance(bus := health.get(SUPERVISOR_HEALTH_BUS), dict):
        words.append(f"bus {bus.get('state')}")
    if health.get("reason"):
        words.append(str(health["reason"]))
    if host["error"]:
        words.append(str(host["error"]))
    return ", ".join(words)


def _table(header: list[str], rows: list[list[str]], numbers: int, last_free: bool) -> list[str]:
    """Columns padded to their widest cell, the counts (from column ``numbers`` on) to the
    right; the last column left as long as it is."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [c.rjust(w) if numbers <= i < numbers + 5 else c.ljust(w)
                 for i, (c, w) in enumerate(zip(row, widths, strict=True))]  # fmt: skip
        if last_free:
            cells[-1] = row[-1]
        lines.append("  ".join(cells).rstrip())
    return lines


def render_text(hosts: list[dict[str, Any]], hours: int) -> str:
    header = ["STACK", "HOST", "CAPABILITIES", "QUEUED", "RUNNING", "DONE", "FAILED",
              f"TOKENS {hours}H", "SUPERVISOR"]  # fmt: skip
    rows = [
        [h["stack"], h["host"] or "?", ",".join(h["capabilities"]) or "-",
         *_counts(h["tasks"]), _state(h)]
        for h in hosts
    ]  # fmt: skip
    out = _table(header, rows, 3, last_free=True)
    for h in hosts:
        out += ["", f"{h['stack']} ({h['host'] or '?'}): {len(h['sandboxes'])} sandboxes"]
        if h["sandboxes"]:
            sandbox_rows = [
                [s["name"], str(s["mode"]), str(s["runtime"]), str(s["state"]),
                 _activity(s["tasks"]) if h["reachable"] else "?", *_counts(s["tasks"])]
                for s in h["sandboxes"]
            ]  # fmt: skip
            head = ["  SANDBOX", "MODE", "RUNTIME", "STATE", "NOW", *header[3:8]]
            out += _table(head, [["  " + r[0], *r[1:]] for r in sandbox_rows], 5, last_free=False)
    reachable = sum(1 for h in hosts if h["reachable"])
    out += ["", f"{reachable} of {len(hosts)} hosts reachable"]
    return "\n".join(out) + "\n"


def _activity(tasks: dict[str, int] | None) -> str:
    if tasks is None:
        return "idle"
    if tasks.get("running"):
        return "busy"
    return "waiting" if tasks.get("queued") else "idle"
