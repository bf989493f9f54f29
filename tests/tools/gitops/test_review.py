"""Reviewer summaries: golden Markdown per kind of change, determinism, error paths.

Golden files live in cases/<case>/expected.md. After an intended change to the summary, rewrite
them with `UPDATE_GOLDEN=1 python -m pytest tests/tools/gitops/test_review.py` and review the diff.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from components.planes import Effect
from components.spec import load_spec
from components.tools import cli, review

from .conftest import CASES, TODAY

BASE = CASES / "base.yaml"
CASE_NAMES = sorted(p.name for p in CASES.iterdir() if (p / "head.yaml").exists())


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["review", *args, "--today", TODAY.isoformat()])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("case", CASE_NAMES)
def test_summary_matches_golden(case: str, capsys: pytest.CaptureFixture[str]) -> None:
    head = CASES / case / "head.yaml"
    code, out, err = run_cli(capsys, str(BASE), str(head))
    assert code == 0, err
    out = out.replace(str(CASES), "cases")
    golden = CASES / case / "expected.md"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(out)
    assert golden.exists(), f"no golden file for {case}; run with UPDATE_GOLDEN=1 and review it"
    assert out == golden.read_text(), f"{case}: summary differs from {golden}"


def verdicts(case: str) -> dict[str, str]:
    result = review.review_files(BASE, CASES / case / "head.yaml", today=TODAY)
    return {c.name: c.verdict for c in result.changed}


def test_in_place_changes_do_not_restart() -> None:
    assert verdicts("in-place") == {"audit-auth": Effect.IN_PLACE}


def test_env_branch_ports_cpus_mode_and_secrets_replace() -> None:
    result = review.review_files(BASE, CASES / "replace" / "head.yaml", today=TODAY)
    effects = {(c.name, f.field): f.effect for c in result.changed for f in c.changes}
    assert effects[("audit-auth", "branch")] is Effect.REPLACE
    assert effects[("audit-auth", "env.FEATURE_X")] is Effect.REPLACE
    assert effects[("audit-auth", "secrets (names)")] is Effect.REPLACE
    assert effects[("fix-login-ui", "ports")] is Effect.REPLACE
    assert effects[("scratch", "mode")] is Effect.REPLACE
    assert all(c.verdict is Effect.REPLACE for c in result.changed)


def test_data_policy_change_needs_no_restart() -> None:
    assert verdicts("discard") == {
        "audit-auth": Effect.NO_RESTART,
        "scratch": Effect.NO_RESTART,
    }


def test_runtime_and_host_moves_are_called_out() -> None:
    result = review.review_files(BASE, CASES / "runtime-move" / "head.yaml", today=TODAY)
    moves = {c.name: c.move for c in result.changed}
    assert moves["audit-auth"] is not None and "docker → modal" in moves["audit-auth"]
    assert "workspace kept" in moves["audit-auth"]
    assert moves["scratch"] is not None and "workspace deleted (data: discard)" in moves["scratch"]
    host = review.review_files(BASE, CASES / "host-move" / "head.yaml", today=TODAY)
    assert [c.name for c in host.changed] == ["fix-login-ui"]
    assert host.changed[0].verdict is Effect.MOVE
    assert "gpu-box" in (host.changed[0].move or "")


def test_removed_says_what_happens_to_the_workspace() -> None:
    result = review.review_files(BASE, CASES / "remove" / "head.yaml", today=TODAY)
    fates = {s.name: review.workspace_fate(s) for s, _ in result.removed}
    assert fates == {
        "audit-auth": "workspace kept",
        "scratch": "workspace deleted (data: discard)",
    }


def test_expired_entry_is_removed_with_a_note() -> None:
    result = review.review_files(BASE, CASES / "expired" / "head.yaml", today=TODAY)
    assert [(s.name, why) for s, why in result.removed] == [
        ("scratch", "expired (entry left in the file)")
    ]
    assert any("scratch" in n and "expires" in n for n in result.notes)
    assert any("audit-auth" in n and "in 2 days" in n for n in result.notes)


def test_secret_values_never_appear(capsys: pytest.CaptureFixture[str]) -> None:
    # secrets are names only in the spec; the summary must show names and nothing else
    code, out, _ = run_cli(capsys, str(BASE), str(CASES / "replace" / "head.yaml"))
    assert code == 0
    assert "NPM_TOKEN" in out
    row = next(line for line in out.splitlines() if "secrets (names)" in line)
    assert row.count("`") == 4, row


def test_same_fleet_reordered_is_no_change() -> None:
    result = review.review_files(BASE, CASES / "noop" / "head.yaml", today=TODAY)
    assert not (result.added or result.removed or result.changed)
    assert result.unchanged == ("audit-auth", "fix-login-ui", "scratch")


def test_output_is_deterministic(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    head = CASES / "replace" / "head.yaml"
    first = run_cli(capsys, str(BASE), str(head))
    second = run_cli(capsys, str(BASE), str(head))
    assert first == second
    as_json = [run_cli(capsys, str(BASE), str(head), "--format", "json") for _ in range(2)]
    assert as_json[0] == as_json[1]
    # the same entries written in reverse order review identically
    text = head.read_text()
    lines = text.splitlines()
    start = lines.index("sandboxes:") + 1
    blocks: list[list[str]] = []
    for line in lines[start:]:
        if not line.startswith("    "):
            blocks.append([])
        blocks[-1].append(line)
    reordered = tmp_path / "head.yaml"
    reordered.write_text("\n".join(lines[:start] + [x for b in reversed(blocks) for x in b]) + "\n")
    third = run_cli(capsys, str(BASE), str(reordered))
    assert third[1].replace(str(reordered), str(head)) == first[1]


def test_json_format(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, str(BASE), str(CASES / "add" / "head.yaml"), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["counts"]["added"] == 2
    assert [a["name"] for a in data["added"]] == ["refactor-db", "shop-bot"]


def test_invalid_head_exits_1_with_file_and_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    head = tmp_path / "sandboxes.yaml"
    head.write_text("version: 1\nsandboxes:\n  ok:\n    task: audit\n  bad:\n    task: nap\n")
    code, out, err = run_cli(capsys, str(BASE), str(head))
    assert code == 1
    assert f"{head}:6:" in err and "'nap' is not one of" in err
    assert "does not load" in out and f"{head}:6:" in out  # the PR comment says why


@pytest.mark.parametrize("content", [None, "", "  \n# only a comment\n"])
def test_missing_or_empty_base_is_an_empty_fleet(
    content: str | None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    base = tmp_path / "base.yaml"
    if content is not None:
        base.write_text(content)
    code, out, _ = run_cli(capsys, str(base), str(BASE))
    assert code == 0
    assert "**3 added, 0 removed, 0 changed**" in out


def test_empty_head_is_an_error_not_an_empty_fleet(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    head = tmp_path / "sandboxes.yaml"
    head.write_text("")
    code, _, err = run_cli(capsys, str(BASE), str(head))
    assert code == 1, "an empty head must never review as 'remove every sandbox'"
    assert f"{head}:1:1" in err


def test_invalid_base_is_reviewed_as_empty_with_a_warning(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    base = tmp_path / "base.yaml"
    base.write_text("version: 1\nsandboxes:\n  x: {task: nap}\n")
    code, out, _ = run_cli(capsys, str(base), str(BASE))
    assert code == 0
    assert "does not load (1 problems); it is compared as an empty fleet" in out


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["review", str(BASE)]) == 2
    assert cli.main(["review", str(BASE), str(BASE), "--format", "yaml"]) == 2
    assert cli.main(["review", str(BASE), str(BASE), "--today", "tomorrow"]) == 2
    capsys.readouterr()


def test_validate_and_schema_unchanged(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert cli.main(["validate", str(BASE)]) == 0
    bad = tmp_path / "s.yaml"
    bad.write_text("version: 1\nsandboxes:\n  x: {task: nap}\n")
    assert cli.main(["validate", str(bad), "--format", "github"]) == 1
    assert f"::error file={bad},line=3" in capsys.readouterr().out
    assert cli.main(["schema"]) == 0


def test_base_taken_from_git_show(tmp_path: Path) -> None:
    # what the workflow does: git show <base>:sandboxes.yaml > base.yaml (missing -> empty file)
    shutil.copy(BASE, tmp_path / "base.yaml")
    spec = load_spec(tmp_path / "base.yaml", today=TODAY)
    result = review.compare(spec, spec, today=TODAY)
    assert result.unchanged == ("audit-auth", "fix-login-ui", "scratch")


def test_cloud_entries_get_their_planes_verdicts(tmp_path: Path) -> None:
    base, head = tmp_path / "base.yaml", tmp_path / "head.yaml"
    entry = "version: 1\nsandboxes:\n  etl:\n    task: data-processing\n    runtime: daytona\n"
    base.write_text(entry + "    resources: {cpus: 1}\n    env: {A: '1'}\n")
    head.write_text(entry + "    resources: {cpus: 2}\n    env: {A: '2'}\n")
    result = review.review_files(base, head, today=TODAY)
    effects = {f.field: f.effect for c in result.changed for f in c.changes}
    assert effects == {"cpus": Effect.IN_PLACE, "env.A": Effect.REPLACE}
    gone = tmp_path / "moved.yaml"
    gone.write_text(
        entry.replace("daytona", "docker") + "    resources: {cpus: 1}\n    env: {A: '1'}\n"
    )
    moved = review.review_files(base, gone, today=TODAY).changed[0].move or ""
    assert "Daytona sandbox archived (its files kept)" in moved
    modal_base, modal_head = (tmp_path / "mb.yaml", tmp_path / "mh.yaml")
    modal_base.write_text(base.read_text().replace("daytona", "modal"))
    modal_head.write_text(head.read_text().replace("daytona", "modal"))
    result = review.review_files(modal_base, modal_head, today=TODAY)
    assert {f.effect for c in result.changed for f in c.changes} == {Effect.REPLACE}


def test_egress_changes_say_whether_the_sandbox_moves_networks(tmp_path: Path) -> None:
    """A list's names live in the gateway (no restart); `any` <-> a list moves the sandbox to
    or from its own network (restart). Both show the old and new list."""
    entry = "version: 1\nsandboxes:\n  box:\n    task: audit\n    egress: "
    specs = {}
    for name, egress in [("any", "any"), ("one", "[github.com]"), ("two", "[github.com, x.io]"),
                         ("none", "[]")]:  # fmt: skip
        specs[name] = tmp_path / f"{name}.yaml"
        specs[name].write_text(entry + egress + "\n")

    def change(old: str, new: str) -> tuple[str, str, Effect]:
        (ch,) = review.review_files(specs[old], specs[new], today=TODAY).changed
        (f,) = ch.changes
        return f.old, f.new, f.effect

    assert change("one", "two") == ("github.com", "github.com, x.io", Effect.NO_RESTART)
    assert change("any", "one") == ("any", "github.com", Effect.REPLACE)
    assert change("two", "any") == ("github.com, x.io", "any", Effect.REPLACE)
    assert change("one", "none") == ("github.com", "none (an empty list)", Effect.NO_RESTART)
