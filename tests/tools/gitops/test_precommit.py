"""pre-commit: the hook manifest others use, and the local config this repo uses.

The hook runs in a throwaway git repository (a copy of what it needs): `pre-commit run` stashes
unstaged changes, which must never happen to the working tree the tests run in.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from .conftest import CASES, REPO, missing_tool

MANIFEST = REPO / ".pre-commit-hooks.yaml"
CONFIG = REPO / ".pre-commit-config.yaml"


def hooks(path: Path) -> list[dict[str, Any]]:
    data = yaml.safe_load(path.read_text())
    if isinstance(data, dict):
        return [h for repo in data["repos"] for h in repo["hooks"]]
    assert isinstance(data, list)
    return data


def test_manifest_has_the_validate_hook() -> None:
    (hook,) = [h for h in hooks(MANIFEST) if h["id"] == "validate-sandboxes"]
    assert {"id", "name", "entry", "language", "files"} <= set(hook)
    assert hook["entry"] == "python -m components.cli validate"
    pattern = re.compile(hook["files"])
    for name in ("sandboxes.yaml", "sandboxes.yml", "fleets/lab/sandboxes.yaml"):
        assert pattern.search(name), name
    for name in ("sandboxes.yaml.bak", "sandboxes.json", "other.yaml"):
        assert not pattern.search(name), name


def test_local_config_uses_the_same_hook() -> None:
    config = yaml.safe_load(CONFIG.read_text())
    assert [r["repo"] for r in config["repos"]] == ["local"]
    (local,) = [h for h in hooks(CONFIG) if h["id"] == "validate-sandboxes"]
    (offered,) = [h for h in hooks(MANIFEST) if h["id"] == "validate-sandboxes"]
    assert local["entry"] == offered["entry"] and local["files"] == offered["files"]


def precommit() -> str:
    binary = shutil.which("pre-commit")
    if binary is None:
        missing_tool("pre-commit not installed: pip install -r tests/tools/gitops/requirements.txt")
    return str(binary)


def test_pre_commit_accepts_both_files() -> None:
    for command, path in (("validate-manifest", MANIFEST), ("validate-config", CONFIG)):
        done = subprocess.run([precommit(), command, str(path)], capture_output=True, text=True,
                              check=False)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr


def test_hook_blocks_an_invalid_spec(tmp_path: Path) -> None:
    binary = precommit()
    shutil.copytree(REPO / "components", tmp_path / "components",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    config = yaml.safe_load(CONFIG.read_text())
    config["repos"][0]["hooks"] = [h for h in hooks(CONFIG) if h["id"] == "validate-sandboxes"]
    (tmp_path / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    shutil.copy(CASES / "base.yaml", tmp_path / "sandboxes.yaml")

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    git("add", "-A")

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run([binary, "run", "--all-files"], cwd=tmp_path, capture_output=True,
                              text=True, check=False)  # fmt: skip

    good = run()
    assert good.returncode == 0, good.stdout + good.stderr
    (tmp_path / "sandboxes.yaml").write_text("version: 1\nsandboxes:\n  x: {task: nap}\n")
    git("add", "-A")
    bad = run()
    assert bad.returncode == 1
    assert "sandboxes.yaml:3:" in bad.stdout and "'nap' is not one of" in bad.stdout
