"""The review's verdicts agree with what the real program registers (under Pulumi mocks).

For each golden case, the real __main__.py runs twice under the SDK's mock runtime (base spec,
then head spec) and every sandbox's recorded container inputs are diffed. The review must say
"restarts" exactly when an input the provider replaces on change (willReplaceOnChanges, or the
resource's replace_on_changes option) differs, "applies in place" when only in-place inputs or
the pids command change, and "no restart" or "unchanged" when the container is untouched.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from components.planes import Effect
from components.tools import review
from tests.support.pulumi_harness import Registered, Run, run_program, stack_config

from .conftest import CASES, DOCKER_SCHEMA, REPO, TODAY

CONTAINER = "docker:index/container:Container"
SECRETS = {"GITHUB_TOKEN": "test-github", "NPM_TOKEN": "test-npm"}
CASE_NAMES = sorted(p.name for p in CASES.iterdir() if (p / "head.yaml").exists())


@cache
def replacing_inputs() -> frozenset[str]:
    if not DOCKER_SCHEMA.exists():
        pytest.fail(f"provider schema missing: {DOCKER_SCHEMA}")
    props = json.loads(DOCKER_SCHEMA.read_text())["resources"][CONTAINER]["inputProperties"]
    return frozenset(k for k, v in props.items() if v.get("willReplaceOnChanges"))


@cache
def program_run(spec: Path) -> Run:
    config = stack_config(REPO / "Pulumi.dev.yaml", {"spec": str(spec), **SECRETS})
    run = run_program(REPO / "__main__.py", config, secret_keys=tuple(SECRETS), today=TODAY)
    assert run.error is None, f"program failed on {spec}: {run.error!r}"
    return run


def sandbox_resources(run: Run, name: str) -> dict[str, Registered]:
    """The sandbox's own resources by role (container, pids-limit, workspace)."""
    found = {}
    for r in run.resources:
        for role in ("container", "pids-limit", "workspace"):
            if r.custom and r.name.endswith(f"-{name}-{role}"):
                found[role] = r
    return found


def changed_keys(old: dict[str, Any], new: dict[str, Any]) -> set[str]:
    return {k for k in set(old) | set(new) if old.get(k) != new.get(k)}


def implied(old: dict[str, Registered], new: dict[str, Registered]) -> str:
    """What the engine would do to the sandbox, from the recorded inputs."""
    if "container" not in old or "container" not in new:
        return "gone" if "container" in old else "new"
    container = old["container"]
    keys = changed_keys(container.inputs, new["container"].inputs)
    if keys & (replacing_inputs() | set(container.replace_on_changes)):
        return "replace"
    pids = changed_keys(old["pids-limit"].inputs, new["pids-limit"].inputs)
    if keys or pids:
        return "in place"
    return "untouched"


EXPECTED = {
    Effect.REPLACE: {"replace"},
    Effect.IN_PLACE: {"in place"},
    Effect.NO_RESTART: {"untouched"},
    Effect.MOVE: {"gone"},  # leaves this stack: removed here, created elsewhere
}


@pytest.mark.parametrize("case", CASE_NAMES)
def test_review_agrees_with_program(case: str) -> None:
    base, head = CASES / "base.yaml", CASES / case / "head.yaml"
    result = review.review_files(base, head, today=TODAY)
    before, after = program_run(base), program_run(head)
    for ch in result.changed:
        what = implied(sandbox_resources(before, ch.name), sandbox_resources(after, ch.name))
        fields = [f.field for f in ch.changes]
        assert what in EXPECTED[ch.verdict], (
            f"{case}: review says {ch.name} {ch.verdict} ({fields}); the program would {what}"
        )
    for name in result.unchanged:
        what = implied(sandbox_resources(before, name), sandbox_resources(after, name))
        assert what == "untouched", f"{case}: review says {name} is unchanged; program: {what}"
    for s in result.added:
        assert "container" in sandbox_resources(after, s.name), f"{case}: {s.name} not created"
    for s, _ in result.removed:
        gone = sandbox_resources(after, s.name)
        assert "container" not in gone, f"{case}: {s.name} still registered"
        workspace = sandbox_resources(before, s.name)["workspace"]
        kept = review.workspace_fate(s) == "workspace kept"
        assert workspace.retain_on_delete is kept, (
            f"{case}: review says '{review.workspace_fate(s)}' for {s.name}; "
            f"the volume's retain_on_delete is {workspace.retain_on_delete}"
        )
