"""scripts/up, as the README gives it, on a copy of the checkout with an empty HOME."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import yaml

from tests.support.pulumi_cli import Project, blocked_plugins


def test_scripts_up_sets_up_the_passphrase_and_a_key_then_runs_or_names_what_blocks_it(
    project: Project, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    cache = project.engine_bin.parents[2]  # <cache>/pulumi-engine/<key>/bin: reuse the build
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    env |= {"HOME": str(home), "SANDBOX_FLEET_CACHE": str(cache), "NO_COLOR": "1"}
    done = subprocess.run(
        ["scripts/up", "--yes"],
        cwd=project.directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    said = done.stdout + done.stderr

    passphrase = project.directory / ".pulumi-state.passphrase"
    assert passphrase.stat().st_size > 20, said
    assert stat.S_IMODE(passphrase.stat().st_mode) == 0o600
    key = (home / ".ssh" / "id_ed25519.pub").read_text().strip()
    stack = yaml.safe_load((project.directory / "Pulumi.dev.yaml").read_text())
    assert stack["config"]["sandbox-fleet:sshAuthorizedKeys"] == [key], said
    assert "put " in said and "sshAuthorizedKeys" in said, "it says what it did"
    for key in ("supervisorApiToken", "modelServerApiKey", "desktopSecret", "sshSecret"):
        assert set(stack["config"][f"sandbox-fleet:{key}"]) == {"secure"}, "stored as secrets"
        assert f"generated sandbox-fleet:{key}" in said, said

    blocked = blocked_plugins(project.engine_bin)
    if "pulumi-resource-command" in blocked:
        assert done.returncode == 1, said
        assert "cannot run pulumi up: pulumi-resource-command" in said, said
        assert "403 Forbidden" in said, "the go command's own answer is shown"
        assert "Traceback" not in said
    else:
        assert done.returncode == 0, said
