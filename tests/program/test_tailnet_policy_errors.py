"""A mistake in the repo's base tailnet policy stops `pulumi up` with file:line and the key,
never a Python traceback, and before anything is created."""

from __future__ import annotations

from pathlib import Path

import pulumi

from .conftest import RunSpec

TAILNET = {
    "tailnetEnabled": True,
    "tailnetOwner": "group:fleet-admins",
    "tailnetAddress": "100.64.0.10",
    "tailnetManageAcl": True,
}


def test_broken_base_policy_is_a_run_error_naming_file_and_line(
    run_spec: RunSpec, tmp_path: Path
) -> None:
    base = tmp_path / "base.hujson"
    base.write_text('{\n  // our groups\n  "groups": {"group:fleet-admins": ["a@b.c"]\n}\n')
    run = run_spec("version: 1\nsandboxes: {}\n", **TAILNET, tailnetBasePolicyFile=str(base))
    assert isinstance(run.error, pulumi.RunError), repr(run.error)
    assert f"{base}:" in str(run.error)
    assert [r for r in run.resources if r.custom] == []


def test_missing_base_policy_names_the_config_key(run_spec: RunSpec, tmp_path: Path) -> None:
    missing = tmp_path / "nope.hujson"
    run = run_spec("version: 1\nsandboxes: {}\n", **TAILNET, tailnetBasePolicyFile=str(missing))
    assert isinstance(run.error, pulumi.RunError), repr(run.error)
    assert "sandbox-fleet:tailnetBasePolicyFile" in str(run.error) and str(missing) in str(
        run.error
    )
