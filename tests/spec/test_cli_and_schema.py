"""`python -m components.cli` as users and CI run it, and the committed editor schema."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from components.spec import load_spec, render_json_schema
from tests.support.spec_dump import to_document

from .conftest import BAD, GOOD, REPO, TODAY

SCHEMA_FILE = REPO / "sandboxes.schema.json"


def cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "components.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_repo_sandboxes_yaml_is_valid() -> None:
    run = cli("validate", "sandboxes.yaml")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("sandboxes.yaml: valid: ")
    names = [s.name for s in load_spec(REPO / "sandboxes.yaml").sandboxes]
    assert names and all(f"{n} (" in run.stdout for n in names)


def test_default_file_is_sandboxes_yaml_in_the_working_directory() -> None:
    run = cli("validate")
    assert run.returncode == 0 and "sandboxes.yaml: valid" in run.stdout


def test_bad_file_exits_1_with_file_line_col_on_stderr() -> None:
    rel = "tests/spec/bad/memory-not-a-size.yaml"
    run = cli("validate", rel)
    assert run.returncode == 1
    assert run.stdout == ""
    assert run.stderr.splitlines() == [
        f"{rel}:7:15: sandboxes.fix-login-ui.resources.memory: "
        "'lots' is not a size (use e.g. 512Mi or 4Gi)",
        f"{rel}: invalid (1 problems)",
    ]


def test_every_problem_is_printed_at_once() -> None:
    rel = "tests/spec/bad/many-mistakes.yaml"
    run = cli("validate", rel)
    assert run.returncode == 1
    lines = run.stderr.splitlines()
    assert len(lines) == 10 and lines[-1] == f"{rel}: invalid (9 problems)"
    assert all(re.match(rf"{re.escape(rel)}:\d+:\d+: ", line) for line in lines[:-1])


def test_github_format_prints_one_annotation_per_problem() -> None:
    rel = "tests/spec/bad/many-mistakes.yaml"
    run = cli("validate", rel, "--format", "github")
    assert run.returncode == 1
    lines = run.stdout.splitlines()
    assert len(lines) == 9
    pattern = re.compile(rf"^::error file={re.escape(rel)},line=(\d+),col=(\d+)::\S.*$")
    assert all(pattern.match(line) for line in lines), lines
    assert f"::error file={rel},line=10,col=10::version: unsupported version 3" in run.stdout


def test_several_files_are_each_checked_and_any_bad_one_fails(tmp_path: Path) -> None:
    """pre-commit passes every matching file in one call."""
    good = tmp_path / "good.yaml"
    good.write_text("version: 1\nsandboxes: {}\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 2\nsandboxes: {}\n")
    run = cli("validate", str(good), str(bad), str(good), cwd=tmp_path)
    assert run.returncode == 1
    assert run.stdout.count("good.yaml: valid") == 2
    assert "bad.yaml:1:10: version: unsupported version 2" in run.stderr
    assert cli("validate", str(good), str(good), cwd=tmp_path).returncode == 0


def test_missing_default_file_exits_1(tmp_path: Path) -> None:
    run = cli("validate", cwd=tmp_path)
    assert run.returncode == 1
    assert "sandboxes.yaml:1:1: file not found" in run.stderr


@pytest.mark.parametrize(
    "args",
    [("bogus",), (), ("validate", "--format", "xml")],
    ids=["unknown-command", "no-command", "bad-format"],
)
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    run = cli(*args)
    assert run.returncode == 2
    assert "usage:" in run.stderr


def test_expired_entries_are_named_in_a_warning(tmp_path: Path) -> None:
    (tmp_path / "sandboxes.yaml").write_text(
        "version: 1\nsandboxes:\n"
        "  old-spike: {task: audit, expires: 2020-01-01}\n"
        "  keeper: {task: test}\n"
    )
    run = cli("validate", cwd=tmp_path)
    assert run.returncode == 0
    assert "sandboxes.old-spike: expired; left out of the fleet" in run.stderr
    assert "valid: 1 sandboxes: keeper (headless, docker)" in run.stdout


def test_empty_fleet_is_valid(tmp_path: Path) -> None:
    (tmp_path / "sandboxes.yaml").write_text("version: 1\nsandboxes: {}\n")
    run = cli("validate", cwd=tmp_path)
    assert run.returncode == 0 and "valid: 0 sandboxes: empty fleet" in run.stdout


# --- the committed schema --------------------------------------------------------------------


def test_committed_schema_is_current() -> None:
    run = cli("schema")
    assert run.returncode == 0
    assert run.stdout == render_json_schema()
    assert run.stdout == SCHEMA_FILE.read_text(), (
        "sandboxes.schema.json is stale; regenerate it with "
        "`python -m components.cli schema > sandboxes.schema.json`"
    )


def test_repo_file_points_editors_at_the_schema() -> None:
    first = (REPO / "sandboxes.yaml").read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=./sandboxes.schema.json"


def as_editor_sees(path: Path) -> Any:
    """YAML 1.2 (yaml-language-server) reads 2026-01-01 as text, not a date."""

    def fix(value: Any) -> Any:
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fix(v) for v in value]
        return value

    return fix(yaml.safe_load(path.read_text()))


def schema_errors(document: Any) -> list[str]:
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text()))
    return [error.message for error in validator.iter_errors(document)]


def test_committed_schema_is_a_valid_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(json.loads(SCHEMA_FILE.read_text()))


@pytest.mark.parametrize("path", sorted(GOOD.glob("*.yaml")), ids=lambda p: p.stem)
def test_schema_accepts_good_fixtures_and_their_canonical_dump(path: Path) -> None:
    assert schema_errors(as_editor_sees(path)) == []
    assert schema_errors(to_document(load_spec(path, today=TODAY))) == []


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("unknown-key-memroy", "'memroy' was unexpected"),
        ("version-2", "1 was expected"),
        ("task-unknown-audti", "'audti' is not one of"),
        ("port-70000", "70000 is greater than the maximum of 65535"),
        ("sandboxes-is-a-list", "is not of type 'object'"),
        ("cpus-quoted-string", "'2' is not valid under any of the given schemas"),
        ("cpus-below-docker-minimum", "0.005 is not valid under any of the given schemas"),
        ("name-too-long", "is too long"),
    ],
)
def test_schema_rejects_bad_fixtures(name: str, needle: str) -> None:
    errors = schema_errors(as_editor_sees(BAD / f"{name}.yaml"))
    assert any(needle in e for e in errors), errors


def test_schema_rejects_a_name_that_is_not_a_dns_label() -> None:
    assert schema_errors(as_editor_sees(BAD / "name-uppercase.yaml"))
