"""Secrets reach containers only as Pulumi secrets, and never appear in outputs."""

from __future__ import annotations

import json

from .conftest import RunSpec

SPEC = """version: 1
sandboxes:
  etl:
    task: data-processing
    env: {LOG_LEVEL: debug}
    secrets: [GITHUB_TOKEN]
"""
VALUE = "value-of-the-token-0123456789"


def test_secret_env_is_secret_on_the_wire_and_absent_from_outputs(run_spec: RunSpec) -> None:
    run = run_spec(SPEC, GITHUB_TOKEN=VALUE, secret_keys=("GITHUB_TOKEN",))
    assert run.error is None, run.error
    box = run.by_name("fleet-etl-container")
    assert f"GITHUB_TOKEN={VALUE}" in box.inputs["envs"]
    assert "envs" in box.secret_input_paths(), "the env list carrying a secret is not secret"
    assert VALUE not in json.dumps(run.outputs)
    for r in run.resources:
        if r is not box:
            assert VALUE not in json.dumps(r.inputs), f"secret leaked into {r.urn}"


def test_missing_secret_stops_before_anything_is_created(run_spec: RunSpec) -> None:
    run = run_spec(SPEC)
    assert run.error is not None
    message = str(run.error)
    assert "sandboxes.etl.secrets: GITHUB_TOKEN is not set" in message
    assert ".yaml:3: " in message, message  # the line of the entry
    assert "pulumi config set --secret GITHUB_TOKEN" in message
    assert [r for r in run.resources if r.custom] == []


def test_plain_env_stays_plain(run_spec: RunSpec) -> None:
    run = run_spec("version: 1\nsandboxes:\n  a:\n    task: audit\n    env: {X: '1'}\n")
    box = run.by_name("fleet-a-container")
    assert "X=1" in box.inputs["envs"] and box.secret_input_paths() == set()
