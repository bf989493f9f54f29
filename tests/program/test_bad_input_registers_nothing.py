"""A broken sandboxes.yaml must stop the real program before any resource is registered:
it can never be applied as "zero sandboxes", which `pulumi up` would read as "delete all"."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pytest

from tests.support.pulumi_harness import run_program, stack_config

from .conftest import MAIN, ROOT, RunSpec

BAD = sorted((ROOT / "tests" / "spec" / "bad").glob("*.yaml"))


def test_there_are_enough_bad_fixtures() -> None:
    assert len(BAD) >= 40


def _run(spec: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(ROOT)
    return run_program(MAIN, stack_config(ROOT / "Pulumi.dev.yaml", {"spec": str(spec)}))


@pytest.mark.parametrize("fixture", BAD, ids=lambda p: p.name)
def test_bad_fixture_registers_nothing(fixture: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = _run(fixture, monkeypatch)
    assert isinstance(run.error, pulumi.RunError), f"{fixture.name}: {run.error!r}"
    assert run.resources == [], f"{fixture.name} registered {[r.urn for r in run.resources]}"
    assert "nothing was changed" in str(run.error)
    assert str(fixture) in str(run.error), "the error must name the file"


@pytest.mark.parametrize(
    "content",
    [
        None,
        b"",
        b"# only a comment\n",
        b"\xff\xfe\x00binary",
        b"version: 1\n",
        b"version: 1\nsandboxes:\n",
    ],
    ids=["missing", "empty", "comment-only", "binary", "no-sandboxes", "null-sandboxes"],
)
def test_missing_or_empty_spec_registers_nothing(
    content: bytes | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = tmp_path / "sandboxes.yaml"
    if content is not None:
        spec.write_bytes(content)
    run = _run(spec, monkeypatch)
    assert isinstance(run.error, pulumi.RunError) and run.resources == []


def test_explicit_empty_fleet_is_valid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = tmp_path / "sandboxes.yaml"
    spec.write_text("version: 1\nsandboxes: {}\n")
    run = _run(spec, monkeypatch)
    assert run.error is None, run.error
    assert run.outputs["sandboxes"] == {}
    containers = {r.inputs["name"] for r in run.of_type("docker:index/container:Container")}
    assert containers == {"model-server", "supervisor"}, "an empty fleet has no sandboxes"


def test_unreadable_spec_registers_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = _run(tmp_path, monkeypatch)  # a directory: exists, cannot be read as a file
    assert isinstance(run.error, pulumi.RunError) and run.resources == []


def test_expired_entries_are_left_out_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = tmp_path / "sandboxes.yaml"
    spec.write_text(
        "version: 1\nsandboxes:\n  old:\n    task: audit\n    expires: 2020-01-01\n"
        "  new:\n    task: audit\n"
    )
    run = _run(spec, monkeypatch)
    assert run.error is None
    assert set(run.outputs["sandboxes"]) == {"new"}
    assert any("sandboxes.old: expired" in w for w in run.warnings), run.warnings


def test_every_problem_of_spec_and_settings_together_is_reported_at_once(
    run_spec: RunSpec,
) -> None:
    """Problems that only the spec and the stack together show come from several places; they
    are all collected in one pass and reported together, before Fleet itself is registered."""
    text = """version: 1
sandboxes:
  needs-token: {task: audit, secrets: [GITHUB_TOKEN]}
  own-identity: {task: audit, tailnet: true}
  on-the-api-port: {task: audit, ssh_port: 18000}
  cloud-desktop: {task: shopping, runtime: daytona}
  etl: {task: data-processing, runtime: modal}
"""
    run = run_spec(text, daytonaUrl="http://127.0.0.1:9", modalEnabled=True)
    assert isinstance(run.error, pulumi.RunError), run.error
    message = str(run.error)
    for line, expected in [
        (3, "sandboxes.needs-token.secrets: GITHUB_TOKEN is not set"),
        (4, "sandboxes.own-identity.tailnet: joining the tailnet needs"),
        (5, "sandboxes.on-the-api-port: host port 18000 is also sandbox-fleet:supervisorPort"),
        (6, "sandboxes.cloud-desktop: runtime daytona runs headless sandboxes only"),
        (6, "needs this stack's credentials; run `pulumi config set --secret DAYTONA_API_KEY"),
        (7, "needs this stack's credentials; run `pulumi config set --secret MODAL_TOKEN_ID"),
    ]:
        assert f".yaml:{line}: " in message and expected in message, f"{expected!r} in {message}"
    assert run.resources == [], [r.urn for r in run.resources]
