#!/usr/bin/env python3
"""Turn one `pulumi refresh --preview-only --expect-no-changes --json` run into a verdict.

The CLI's exit code says what happened (Pulumi CLI >= 3.226.1, docs "CLI exit codes"):
0 = no drift, 7 = changes found (drift), anything else = the run itself broke (login, program,
provider or network error). The two failures are reported differently: drift lists the
resources that changed out of band; a broken run shows the error and says drift is unknown.

  drift_report.py --stack NAME --exit-code N --json refresh.json [--stderr refresh.err]

Prints Markdown for $GITHUB_STEP_SUMMARY and writes `result=clean|drift|broken` to
$GITHUB_OUTPUT when set. Exits 0 (clean), 1 (drift) or 2 (broken).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EXIT_NO_CHANGES_EXPECTED = 7  # "No changes" category: --expect-no-changes saw changes
RESULT_EXIT = {"clean": 0, "drift": 1, "broken": 2}
QUIET_OPS = {"same", "read", "refresh"}  # a refresh step with no diff is not drift
STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass(frozen=True)
class Drifted:
    op: str
    type: str
    name: str
    properties: tuple[str, ...]


def classify(exit_code: int) -> str:
    if exit_code == 0:
        return "clean"
    if exit_code == EXIT_NO_CHANGES_EXPECTED:
        return "drift"
    return "broken"


def drifted(digest: dict[str, Any]) -> list[Drifted]:
    """Resources whose refreshed state differs from the stored one, from the JSON digest."""
    found = []
    for step in digest.get("steps") or ():
        urn = str(step.get("urn", ""))
        op = str(step.get("op", ""))
        props = sorted({*(step.get("diffReasons") or ()), *(step.get("detailedDiff") or {})})
        if op in QUIET_OPS and not props:
            continue
        parts = urn.split("::")
        rtype = parts[-2].split("$")[-1] if len(parts) >= 2 else ""
        if rtype == STACK_TYPE:
            continue
        found.append(Drifted(op, rtype, parts[-1], tuple(props)))
    return sorted(found, key=lambda d: (d.type, d.name))


def load_digest(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text() or "null")
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def render(stack: str, result: str, code: int, digest: dict[str, Any] | None, err: str) -> str:
    if result == "clean":
        return f"### Drift: `{stack}`: none\n\nRefresh found every resource as recorded.\n"
    if result == "broken":
        tail = "\n".join(err.strip().splitlines()[-20:]) or "(no error output)"
        return (
            f"### Drift: `{stack}`: unknown, the refresh itself failed (exit {code})\n\n"
            "This is not drift: fix the run (credentials, backend, program, host reachable) "
            f"and re-run.\n\n```\n{tail}\n```\n"
        )
    rows = drifted(digest or {})
    out = [
        f"### Drift: `{stack}`: {len(rows)} resources changed out of band",
        "",
        "Repair: `pulumi up --refresh` on this stack (see docs/drift.md for what it restores).",
        "",
        "| resource | type | refresh would | changed properties |",
        "|---|---|---|---|",
    ]
    out += [
        f"| `{d.name}` | `{d.type}` | {d.op} | {', '.join(d.properties) or '—'} |" for d in rows
    ]
    if not rows:
        out.append("| (the JSON output listed none; see the job log) | | | |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    top = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    top.add_argument("--stack", required=True)
    top.add_argument("--exit-code", type=int, required=True)
    top.add_argument("--json", type=Path, required=True, help="stdout of the refresh --json")
    top.add_argument("--stderr", type=Path, help="stderr of the refresh")
    args = top.parse_args(argv)
    result = classify(args.exit_code)
    err = args.stderr.read_text() if args.stderr and args.stderr.exists() else ""
    sys.stdout.write(render(args.stack, result, args.exit_code, load_digest(args.json), err))
    if "GITHUB_OUTPUT" in os.environ:
        with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
            out.write(f"result={result}\n")
    return RESULT_EXIT[result]


if __name__ == "__main__":
    sys.exit(main())
