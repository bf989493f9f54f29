"""The config-hash label lets the drift job see env/port edits that refresh cannot. It must
change exactly when a replace-worthy input changes, never for an in-place resize."""

from __future__ import annotations

from components.planes.docker.config_hash import LABEL_HASH

from .conftest import RunSpec


def _hash(run_spec: RunSpec, entry: str) -> str:
    run = run_spec(f"version: 1\nsandboxes:\n  a:\n{entry}")
    labels = {x["label"]: x["value"] for x in run.by_name("fleet-a-container").inputs["labels"]}
    return str(labels[LABEL_HASH])


def test_config_hash_follows_replacements_only(run_spec: RunSpec) -> None:
    base = _hash(run_spec, "    task: audit\n")
    assert len(base) == 16
    assert _hash(run_spec, "    task: audit\n    env: {A: '1'}\n") != base
    assert _hash(run_spec, "    task: audit\n    ports: [3000]\n") != base
    assert _hash(run_spec, "    task: audit\n    branch: other\n") != base
    assert _hash(run_spec, "    task: audit\n    resources: {memory: 2Gi, cpus: 3}\n") == base
    assert _hash(run_spec, "    task: audit\n") == base
