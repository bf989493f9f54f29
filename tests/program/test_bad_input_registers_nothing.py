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
        (
            5,
            "sandboxes.on-the-api-port: host ports 18000-18001 (pinned by ssh_port) include "
            "18000, which the supervisor's task API (sandbox-fleet:supervisorPort) publishes; "
            "use `ssh_port: 18001` (free)",
        ),
        (6, "sandboxes.cloud-desktop: runtime daytona runs headless sandboxes only"),
        (6, "needs this stack's credentials; run `pulumi config set --secret DAYTONA_API_KEY"),
        (7, "needs this stack's credentials; run `pulumi config set --secret MODAL_TOKEN_ID"),
    ]:
        assert f".yaml:{line}: " in message and expected in message, f"{expected!r} in {message}"
    assert run.resources == [], [r.urn for r in run.resources]


@pytest.mark.parametrize(
    ("entry", "overrides", "expected"),
    [
        # the noVNC slot of a headless block: free today, the desktop's port tomorrow
        ("{task: audit, ssh_port: 17999}", {}, "include 18000, which the supervisor's task API"),
        (
            "{task: audit, ports: [3000], ssh_port: 18079}",
            {"modelServerPublish": True},
            "include 18080, which the model server's API (sandbox-fleet:modelServerPort)",
        ),
        (
            "{task: audit, ssh_port: 30000}",
            {"supervisorPort": 30001},
            "host ports 30000-30001 (pinned by ssh_port) include 30001, which the supervisor's",
        ),
    ],
)
def test_a_sandbox_block_holding_a_fleet_service_port_stops_the_stack(
    run_spec: RunSpec, entry: str, overrides: dict[str, object], expected: str
) -> None:
    run = run_spec(f"version: 1\nsandboxes:\n  blocked: {entry}\n", **overrides)
    assert isinstance(run.error, pulumi.RunError), run.error
    assert ".yaml:3: sandboxes.blocked: " in str(run.error) and expected in str(run.error)
    assert run.resources == []


def test_the_model_server_port_is_free_when_the_model_server_is_not_published_or_not_run(
    run_spec: RunSpec,
) -> None:
    text = "version: 1\nsandboxes:\n  web: {task: audit, ssh_port: 18080}\n"
    assert run_spec(text).error is None
    assert run_spec(text, modelServerPublish=True, modelServerEnabled=False).error is None


def test_a_spec_path_that_leads_to_a_private_file_stops_the_stack_and_shows_none_of_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "id_ed25519"
    body = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW"
    secret.write_text(
        f"-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n-----END OPENSSH PRIVATE KEY-----\n"
    )
    spec = tmp_path / "sandboxes.yaml"
    spec.symlink_to(secret)
    run = _run(spec, monkeypatch)
    assert isinstance(run.error, pulumi.RunError) and run.resources == []
    assert "not a sandbox-fleet spec" in str(run.error)
    assert body[:8] not in str(run.error) and "OPENSSH" not in str(run.error)
