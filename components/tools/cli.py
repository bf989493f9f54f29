"""`python -m components.cli`: check sandboxes.yaml, print its schema, review a change to it.

No Pulumi and no credentials needed. Exit codes: 0 valid, 1 invalid, 2 usage error.
`review BASE HEAD` exits 1 only when HEAD is invalid (a missing or empty BASE is an empty fleet).
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
