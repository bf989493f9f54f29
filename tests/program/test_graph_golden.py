"""The resource graph the program registers, pinned for every stack preset and good fixture.

One digest per resource: type, name, parent, inputs (secrets as their placeholders) and options.
Each is keyed by the URN the state knows it by: a resource moved under a new parent with an alias
to the old one (and its children, which the engine carries along) keeps its old URN here, as it
does in the state. A difference here is a difference in what `pulumi up` would do, so a
refactor that means to change nothing must leave this file untouched. When a change is meant,
record it again:

    python -m tests.program.test_graph_golden --record
"""

from __future__ import annotations

import argparse
import hashlib
import json
from functools import cache
from pathlib import Path

import pytest

from tests.support.pulumi_harness import Registered, run_program, stack_config

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).with_name("graph-golden.json")
GOOD = ROOT / "tests" / "spec" / "good"
STACKS = [ROOT / "Pulumi.dev.yaml", *sorted((ROOT / "stacks").glob("*.yaml"))]
SECRETS = {
    "GITHUB_TOKEN": "golden-github",
    "NPM_TOKEN": "golden-npm",
    "MODAL_TOKEN_ID": "golden-modal-id",
    "MODAL_TOKEN_SECRET": "golden-modal-secret",
    "DAYTONA_API_KEY": "golden-daytona",
    "TAILSCALE_API_KEY": "golden-tailscale",
}


def state_urns(resources: list[Registered]) -> dict[str, str]:
    """Each URN -> the URN the state knows the resource by: one with an alias to its old parent
    keeps the URN it had there. (The mock monitor names a resource by its parent's own type
    only, so the children of a moved resource keep their URNs; the real engine carries the
    parent's alias down to them.)"""

    def under(parent: str, r: Registered) -> str:
        stack, project, _, _ = r.urn.split("::")
        return "::".join(
            (stack, project, f"{parent.split('::')[2].split('$')[-1]}${r.type}", r.name)
        )

    return {r.urn: under(r.alias_parents[0], r) if r.alias_parents else r.urn for r in resources}


def digest(r: Registered, known: dict[str, str]) -> str:
    shown = {
        "parent": known.get(r.parent, r.parent),
        "inputs": r.inputs,
        "options": [
            r.protect,
            r.retain_on_delete,
            r.delete_before_replace,
            r.provider,
            sorted(known.get(d, d) for d in r.dependencies),
            sorted(r.replace_on_changes),
            sorted(r.ignore_changes),
            sorted(r.additional_secret_outputs),
        ],
    }
    text = json.dumps(shown, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@cache
def graph(stack: str, fixture: str) -> dict[str, str]:
    config = stack_config(ROOT / stack, {"spec": str(GOOD / fixture), **SECRETS})
    run = run_program(ROOT / "__main__.py", config, secret_keys=tuple(SECRETS))
    if run.error is not None:
        return {"error": str(run.error).replace(str(ROOT), "<root>")}
    known = state_urns(run.resources)
    return {known[r.urn]: digest(r, known) for r in sorted(run.resources, key=lambda r: r.urn)}


def cases() -> list[tuple[str, str]]:
    return [(str(s.relative_to(ROOT)), f.name) for s in STACKS for f in sorted(GOOD.glob("*.yaml"))]


def recorded() -> dict[str, dict[str, str]]:
    return dict(json.loads(GOLDEN.read_text())) if GOLDEN.exists() else {}


@pytest.mark.parametrize(("stack", "fixture"), cases())
def test_the_graph_is_the_recorded_one(
    stack: str, fixture: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    want = recorded().get(f"{stack} {fixture}")
    assert want is not None, f"no recorded graph for {stack} {fixture}: record it (see docstring)"
    got = graph(stack, fixture)
    changed = sorted(u for u in want.keys() | got.keys() if want.get(u) != got.get(u))
    assert changed == [], f"{stack} {fixture}: these resources differ from the recording"


def main() -> None:
    parser = argparse.ArgumentParser(description="record the program's resource graphs")
    parser.add_argument("--record", action="store_true", required=True)
    parser.parse_args()
    table = {f"{stack} {fixture}": graph(stack, fixture) for stack, fixture in cases()}
    GOLDEN.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    print(f"recorded {len(table)} graphs in {GOLDEN.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
