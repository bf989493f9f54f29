"""`runtime: modal` entries under Pulumi mocks: what the real program registers for them.

The providers themselves run against a fake Modal server in tests/planes/modal; here only the graph.
"""

from __future__ import annotations

from typing import Any

from tests.support.pulumi_harness import Registered, Run

from .conftest import RunSpec, custom

DYNAMIC = "pulumi-python:dynamic:Resource"
TOKENS = {"MODAL_TOKEN_ID": "ak-test", "MODAL_TOKEN_SECRET": "as-test"}
SPEC = """\
version: 1
sandboxes:
  local-audit:
    task: audit
  etl:
    task: data-processing
    runtime: modal
    repo: https://git.example.test/acme/app.git
    resources: {cpus: 1.5, memory: 3Gi}
    secrets: [GITHUB_TOKEN]
"""


def modal_run(run_spec: RunSpec, text: str = SPEC, **config: Any) -> Run:
    settings: dict[str, Any] = {"modalEnabled": True, "GITHUB_TOKEN": "ghp_x", **TOKENS}
    keys = ("GITHUB_TOKEN", *TOKENS)
    return run_spec(text, secret_keys=keys, **{**settings, **config})


def by_name(run: Run) -> dict[str, Registered]:
    return {r.name: r for r in run.of_type(DYNAMIC)}


def test_a_modal_entry_is_a_workspace_volume_and_a_sandbox(run_spec: RunSpec) -> None:
    run = modal_run(run_spec)
    assert run.error is None, run.error
    found = by_name(run)
    assert sorted(found) == ["fleet-modal-etl", "fleet-modal-etl-workspace"]
    volume, box = found["fleet-modal-etl-workspace"], found["fleet-modal-etl"]
    assert volume.inputs["name"] == "etl-workspace" and volume.inputs["keep"] is True
    assert box.inputs["volume"] == "etl-workspace" and volume.urn in box.dependencies
    assert (box.inputs["cpu"], box.inputs["memory_mib"]) == (1.5, 3072)
    assert box.inputs["app_name"] == "sandbox-fleet" and box.inputs["timeout_seconds"] == 86400
    env = box.inputs["env"]
    assert env["GIT_REPO"] == "https://git.example.test/acme/app.git"
    assert env["GITHUB_TOKEN"] == "ghp_x" and env["SANDBOX_NAME"] == "etl"
    assert box.inputs["tags"]["sandbox-fleet.sandbox"] == "etl"
    containers = [c.inputs["name"] for c in run.of_type("docker:index/container:Container")]
    assert "etl" not in containers and "local-audit" in containers
    out = run.outputs["sandboxes"]["etl"]
    assert out["runtime"] == "modal" and out["workspaceVolume"] == "etl-workspace"


def test_tokens_and_secret_env_stay_secret(run_spec: RunSpec) -> None:
    found = by_name(modal_run(run_spec))
    for r in found.values():
        assert {"token_id", "token_secret"} <= r.secret_input_paths(), r.name
        assert {"token_id", "token_secret"} <= set(r.additional_secret_outputs), r.name
    box = found["fleet-modal-etl"]
    assert "env" in box.secret_input_paths() and "env" in box.additional_secret_outputs


def test_data_discard_lets_the_volume_go_with_the_entry(run_spec: RunSpec) -> None:
    run = modal_run(run_spec, SPEC + "    data: discard\n")
    assert by_name(run)["fleet-modal-etl-workspace"].inputs["keep"] is False


def test_missing_tokens_stop_the_run_at_the_entry(run_spec: RunSpec) -> None:
    run = run_spec(SPEC, modalEnabled=True, GITHUB_TOKEN="x", secret_keys=("GITHUB_TOKEN",))
    assert run.error is not None and custom(run) == {}
    text = str(run.error)
    assert ":5: sandboxes.etl: runtime modal (etl) needs this stack's credentials" in text
    assert "pulumi config set --secret MODAL_TOKEN_ID <value>" in text
    assert "pulumi config set --secret MODAL_TOKEN_SECRET <value>" in text


def test_a_visual_entry_on_modal_is_refused_at_its_line(run_spec: RunSpec) -> None:
    run = modal_run(
        run_spec, "version: 1\nsandboxes:\n  ui:\n    task: shopping\n    runtime: modal\n"
    )
    assert run.error is not None and custom(run) == {}
    assert ":3: sandboxes.ui: runtime modal runs headless sandboxes only" in str(run.error)


def test_a_stack_without_modal_leaves_the_entry_to_another(run_spec: RunSpec) -> None:
    run = run_spec(SPEC, GITHUB_TOKEN="x", secret_keys=("GITHUB_TOKEN",))
    assert run.error is None, run.error
    assert by_name(run) == {}
    assert "does not use Modal" in run.outputs["sandboxes"]["etl"]["status"]


def test_adding_a_modal_entry_moves_nothing_on_the_host(run_spec: RunSpec) -> None:
    without = modal_run(run_spec, SPEC.split("  etl:")[0])
    with_it = modal_run(run_spec)
    before = {u: r.inputs for u, r in custom(without).items()}
    after = {u: r.inputs for u, r in custom(with_it).items() if r.type != DYNAMIC}
    assert before == after


def test_a_name_too_long_for_modal_is_refused_at_its_line(run_spec: RunSpec) -> None:
    name = "a" * 40
    text = f"version: 1\nsandboxes:\n  {name}:\n    task: audit\n    runtime: modal\n"
    run = modal_run(run_spec, text, namePrefix="p" * 20)
    assert run.error is not None and custom(run) == {}
    assert f":3: sandboxes.{name}: its Modal volume name" in str(run.error)
    assert "is 70 characters; Modal allows 64" in str(run.error)
