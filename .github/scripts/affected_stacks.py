#!/usr/bin/env python3
"""Which Pulumi stacks a change affects: a JSON list for a GitHub Actions matrix.

A stack is a `Pulumi.<stack>.yaml` at the repository root. Rules, most specific first:

- a change to the program (`__main__.py`, `Pulumi.yaml`, `components/`, `images/`,
  `requirements.txt`) affects every stack;
- a change to `Pulumi.<stack>.yaml` affects that stack;
- a change to `sandboxes.yaml` affects the stacks that run the entries it adds, removes or
  changes: entries with `host: X` run on the stack whose `sandbox-fleet:hostName` is X; an entry
  without `host:`, or on a cloud runtime, may run on any stack, so it affects all of them;
- anything else (docs, tests, workflows) affects none.

When in doubt (no base, an unreadable spec, a stack without a readable file) it answers every
stack: an extra `pulumi up` with nothing to do is harmless, a skipped one is not.

  affected_stacks.py --base REF [--head REF]    files changed between two commits
  affected_stacks.py --all                      every stack
  affected_stacks.py --only NAME                that stack (exit 2 when there is none)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from components.spec import Runtime, SpecError, load_spec  # noqa: E402
from components.tools import review  # noqa: E402

PROGRAM_PREFIXES = ("components/", "images/")
PROGRAM_FILES = {"__main__.py", "Pulumi.yaml", "requirements.txt"}
SPEC = "sandboxes.yaml"
HOST_KEY = "sandbox-fleet:hostName"
DEFAULT_HOST = "local"  # Pulumi.yaml's default for sandbox-fleet:hostName


def stacks(root: Path) -> dict[str, str | None]:
    """Stack name -> its hostName (None when the file cannot be read)."""
    found: dict[str, str | None] = {}
    for path in sorted(root.glob("Pulumi.*.yaml")):
        name = path.name[len("Pulumi.") : -len(".yaml")]
        try:
            config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
            found[name] = str(config.get(HOST_KEY, DEFAULT_HOST))
        except (OSError, yaml.YAMLError, AttributeError):
            found[name] = None
    return found


def touched_hosts(base_text: str | None, head: Path) -> set[str | None] | None:
    """Hosts of the entries the spec change touches; None means 'could be on any stack'."""
    today = dt.datetime.now(dt.UTC).date()
    with tempfile.TemporaryDirectory() as tmp:
        base_file = Path(tmp) / "base.yaml"
        base_file.write_text(base_text or "")
        base, warning = review.load_base(base_file, today=today)
    try:
        head_spec = load_spec(head, today=today)
    except SpecError:
        return None  # the program refuses an invalid spec; nothing to narrow
    if warning:
        return None
    result = review.compare(base, head_spec, today=today)
    old, new = base.by_name(), head_spec.by_name()
    touched = [*result.added, *(s for s, _ in result.removed)]
    for ch in result.changed:
        touched += [old[ch.name], new[ch.name]]
    if any(s.runtime is not Runtime.DOCKER or s.host is None for s in touched):
        return None
    return {s.host for s in touched}


def affected(
    changed: Iterable[str], all_stacks: dict[str, str | None], base_spec: str | None, head: Path
) -> list[str]:
    names: set[str] = set()
    for path in changed:
        if path in PROGRAM_FILES or path.startswith(PROGRAM_PREFIXES):
            return sorted(all_stacks)
        if path.startswith("Pulumi.") and path.endswith(".yaml") and "/" not in path:
            stack = path[len("Pulumi.") : -len(".yaml")]
            if stack in all_stacks:
                names.add(stack)
        elif path == SPEC:
            hosts = touched_hosts(base_spec, head) if head.exists() else None
            if hosts is None or any(h is None for h in all_stacks.values()):
                return sorted(all_stacks)
            names |= {s for s, h in all_stacks.items() if h in hosts}
    return sorted(names)


def git(*args: str, root: Path) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=True
    ).stdout


def main(argv: list[str] | None = None) -> int:
    top = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    top.add_argument("--base", help="commit the change starts from")
    top.add_argument("--head", default="HEAD", help="commit the change ends at (checked out)")
    top.add_argument("--all", action="store_true", help="every stack")
    top.add_argument("--only", help="just this stack; exit 2 when it does not exist")
    top.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = top.parse_args(argv)
    all_stacks = stacks(args.root)
    if args.only:
        if args.only not in all_stacks:
            print(
                f"affected_stacks: no Pulumi.{args.only}.yaml; have {sorted(all_stacks)}",
                file=sys.stderr,
            )
            return 2
        print(json.dumps([args.only]))
        return 0
    if args.all or not args.base:
        print(json.dumps(sorted(all_stacks)))
        return 0
    try:
        git("cat-file", "-e", f"{args.base}^{{commit}}", root=args.root)
        changed = git("diff", "--name-only", args.base, args.head, root=args.root).split()
    except subprocess.CalledProcessError:
        print(f"affected_stacks: {args.base} is not in this clone; every stack", file=sys.stderr)
        print(json.dumps(sorted(all_stacks)))
        return 0
    try:
        base_spec: str | None = git("show", f"{args.base}:{SPEC}", root=args.root)
    except subprocess.CalledProcessError:
        base_spec = None  # the spec is new
    print(json.dumps(affected(changed, all_stacks, base_spec, args.root / SPEC)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
