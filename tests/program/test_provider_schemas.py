"""Mocks accept anything; the real providers do not. Every recorded input must fit the
published provider schema, for every stack preset, in preview and in update."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.provider_schema import ProviderSchemas

from .conftest import PRESETS, ROOT, RunSpec

SPEC = """version: 1
sandboxes:
  audit-auth: {task: audit, branch: audit/auth, env: {A: b}}
  ui: {task: shopping, ports: [3000, 5173], resources: {cpus: 0.5, memory: 768Mi, pids: 256}}
"""


@pytest.mark.parametrize("preview", [False, True], ids=["up", "preview"])
@pytest.mark.parametrize(
    "stack_file", [ROOT / "Pulumi.dev.yaml", *PRESETS], ids=lambda p: Path(p).name
)
def test_inputs_fit_the_provider_schemas(
    stack_file: Path, preview: bool, run_spec: RunSpec, schemas: ProviderSchemas
) -> None:
    run = run_spec(SPEC, stack_file, preview=preview)
    assert run.error is None, run.error
    assert run.resources
    assert schemas.validate_registered(run.resources) == []
