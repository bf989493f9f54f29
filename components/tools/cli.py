"""`python -m components.cli`: check sandboxes.yaml, print its schema, review a change to it,
and show the fleet's hosts and workload.

`validate`, `schema` and `review` need no Pulumi and no credentials. Exit codes: 0 valid,
1 invalid, 2 usage error. `review BASE HEAD` exits 1 only when HEAD is invalid (a missing or
empty BASE is an empty fleet). `status` reads every stack's outputs as `scripts/up` does and
asks each host's supervisor: 0 every host reachable, 1 some host unreachable, 2 usage or project
error (components/tools/status.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from ..spec import SpecError, load_spec, render_json_schema

EXIT_VALID, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def _validate(args: argparse.Namespace) -> int:
    """Every file given (pre-commit passes all matching files at once); 1 if any is invalid."""
    results = [_validate_one(file, args.format) for file in args.files]
    return EXIT_INVALID if EXIT_INVALID in results else EXIT_VALID


def _validate_one(file: str, output: str) -> int:
    try:
        spec = load_spec(Path(file), display_name=file)
    except SpecError as exc:
        if output == "github":
            for problem in exc.problems:
                print(problem.github_annotation())
        else:
            print(exc.report(), file=sys.stderr)
            print(f"{file}: invalid ({len(exc.problems)} problems)", file=sys.stderr)
        return EXIT_INVALID
    for name in spec.expired:
        print(f"{file}: sandboxes.{name}: expired; left out of the fleet", file=sys.stderr)
    modes = ", ".join(f"{s.name} ({s.mode}, {s.runtime})" for s in spec.sandboxes) or "empty fleet"
    print(f"{file}: valid: {len(spec.sandboxes)} sandboxes: {modes}")
    return EXIT_VALID


def _review(args: argparse.Namespace) -> int:
    from . import review, review_report  # only this subcommand needs them

    today = args.today or dt.datetime.now(dt.UTC).date()
    try:
        result = review.review_files(Path(args.base), Path(args.head), today=today)
    except SpecError as exc:
        print(exc.report(), file=sys.stderr)
        print(f"{args.head}: invalid ({len(exc.problems)} problems)", file=sys.stderr)
        if args.format == "markdown":  # the PR comment says why there is no review
            problems = "\n".join(f"- `{p}`" for p in exc.problems)
            print(f"### Fleet change: `{args.head}` does not load\n\n{problems}")
        return EXIT_INVALID
    if args.format == "json":
        print(json.dumps(review_report.to_json(result), indent=2, sort_keys=True))
    else:
        sys.stdout.write(review_report.render_markdown(result))
    return EXIT_VALID


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {text!r}") from None


def _status(args: argparse.Namespace) -> int:
    from . import status, status_report  # only this subcommand needs them

    try:
        hosts = status.collect(Path(args.project), args.hours, only=args.stack)
    except status.ProjectError as exc:
        print(f"status: {exc}", file=sys.stderr)
        return status.EXIT_USAGE
    if args.format == "json":
        print(json.dumps(status_report.to_json(hosts, args.hours), indent=2, sort_keys=True))
    else:
        sys.stdout.write(status_report.render_text(hosts, args.hours))
    reachable = all(h["reachable"] and h["error"] is None for h in hosts)
    return status.EXIT_REACHABLE if reachable else status.EXIT_UNREACHABLE


def _hours(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 720:
        raise argparse.ArgumentTypeError(f"expected hours 1..720, got {text!r}")
    return int(text)


def _schema(args: argparse.Namespace) -> int:
    sys.stdout.write(render_json_schema())
    return EXIT_VALID


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m components.cli", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)
    validate = commands.add_parser("validate", help="check a sandboxes.yaml")
    validate.add_argument("files", nargs="*", default=["sandboxes.yaml"], metavar="FILE")
    validate.add_argument(
        "--format",
        choices=["human", "github"],
        default="human",
        help="github: ::error annotations for GitHub Actions",
    )
    validate.set_defaults(run=_validate)
    review = commands.add_parser(
        "review",
        help="summarise what changing BASE into HEAD does to the fleet",
        description="Markdown (or JSON) for the reviewer: sandboxes added, removed, changed, "
        "and whether each change restarts the sandbox. Base from git: "
        "git show origin/main:sandboxes.yaml > /tmp/base.yaml",
    )
    review.add_argument("base", help="the fleet before (missing or empty file = empty fleet)")
    review.add_argument("head", help="the fleet after (must be valid)")
    review.add_argument("--format", choices=["markdown", "json"], default="markdown")
    review.add_argument(
        "--today", type=_date, default=None, help="date for `expires` (default: today, UTC)"
    )
    review.set_defaults(run=_review)
    schema = commands.add_parser("schema", help="print the JSON schema of sandboxes.yaml")
    schema.set_defaults(run=_schema)
    status = commands.add_parser(
        "status",
        help="every stack's host: capabilities, reachable, sandboxes, tasks and tokens",
        description="For each Pulumi.<stack>.yaml: the host and sandboxes from the stack's "
        "outputs (read with scripts/pulumi, the backend and passphrase of scripts/up), and "
        "from its supervisor the tasks queued, running and done in the last hours with the "
        "tokens used. Exit 0: every host reachable; 1: some host unreachable; 2: usage or "
        "project error.",
    )
    status.add_argument("--project", default=".", help="the project directory (Pulumi.yaml)")
    status.add_argument("--format", choices=["human", "json"], default="human")
    status.add_argument("--hours", type=_hours, default=24, help="the window (default 24)")
    status.add_argument("--stack", action="append", help="only this stack (repeatable)")
    status.set_defaults(run=_status)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
