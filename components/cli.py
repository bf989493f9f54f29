"""`python -m components.cli`: check sandboxes.yaml and print its schema, without Pulumi.

Exit codes: 0 valid, 1 invalid, 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .spec import SpecError, load_spec, render_json_schema

EXIT_VALID, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


def _validate(args: argparse.Namespace) -> int:
    try:
        spec = load_spec(Path(args.file), display_name=args.file)
    except SpecError as exc:
        if args.format == "github":
            for problem in exc.problems:
                print(problem.github_annotation())
        else:
            print(exc.report(), file=sys.stderr)
            print(f"{args.file}: invalid ({len(exc.problems)} problems)", file=sys.stderr)
        return EXIT_INVALID
    for name in spec.expired:
        print(f"{args.file}: sandboxes.{name}: expired; left out of the fleet", file=sys.stderr)
    modes = ", ".join(f"{s.name} ({s.mode}, {s.runtime})" for s in spec.sandboxes) or "empty fleet"
    print(f"{args.file}: valid: {len(spec.sandboxes)} sandboxes: {modes}")
    return EXIT_VALID


def _schema(args: argparse.Namespace) -> int:
    sys.stdout.write(render_json_schema())
    return EXIT_VALID


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m components.cli", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)
    validate = commands.add_parser("validate", help="check a sandboxes.yaml")
    validate.add_argument("file", nargs="?", default="sandboxes.yaml")
    validate.add_argument(
        "--format",
        choices=["human", "github"],
        default="human",
        help="github: ::error annotations for GitHub Actions",
    )
    validate.set_defaults(run=_validate)
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
