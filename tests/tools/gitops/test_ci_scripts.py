"""The scripts the workflows call: drift verdicts from exit codes, and affected stacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import FIXTURES, REPO

SCRIPTS = REPO / ".github" / "scripts"
sys.path.insert(0, str(SCRIPTS))

import affected_stacks  # noqa: E402
import drift_report  # noqa: E402

DIGEST = FIXTURES / "refresh-drift.json"


def report(tmp_path: Path, code: int, digest: Path = DIGEST, err: str = "") -> tuple[int, str, str]:
    stderr = tmp_path / "refresh.err"
    stderr.write_text(err)
    out_file = tmp_path / "github_output"
    done = subprocess.run(
        [sys.executable, str(SCRIPTS / "drift_report.py"), "--stack", "hq", "--exit-code",
         str(code), "--json", str(digest), "--stderr", str(stderr)],
        capture_output=True, text=True, check=False,
        env={"GITHUB_OUTPUT": str(out_file), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    return done.returncode, done.stdout, out_file.read_text() if out_file.exists() else ""


@pytest.mark.parametrize(
    ("code", "result"), [(0, "clean"), (7, "drift"), (1, "broken"), (3, "broken"), (255, "broken")]
)
def test_exit_code_classification(code: int, result: str) -> None:
    assert drift_report.classify(code) == result


def test_drift_lists_the_changed_resources(tmp_path: Path) -> None:
    code, out, outputs = report(tmp_path, 7)
    assert code == 1 and outputs == "result=drift\n"
    assert "2 resources changed out of band" in out
    assert "| `fleet-audit-auth-container` | `docker:index/container:Container` | delete |" in out
    assert (
        "fleet-fix-login-ui-container` | `docker:index/container:Container` | update | memory"
        in out
    )
    assert "fleet-network" not in out, "a refresh step without a diff is not drift"
    assert "sandbox-fleet-hq" not in out, "the stack itself is not a drifted resource"


def test_broken_run_is_not_reported_as_drift(tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("")
    code, out, outputs = report(tmp_path, 3, empty, "error: PULUMI_ACCESS_TOKEN is invalid\n")
    assert code == 2 and outputs == "result=broken\n"
    assert "unknown, the refresh itself failed (exit 3)" in out and "This is not drift" in out
    assert "PULUMI_ACCESS_TOKEN is invalid" in out


def test_clean_run(tmp_path: Path) -> None:
    code, out, outputs = report(tmp_path, 0)
    assert code == 0 and outputs == "result=clean\n" and "none" in out


# --- affected stacks -----------------------------------------------------------------------

STACK_FILES = {
    "hq": "config:\n  sandbox-fleet:hostVariant: local\n  sandbox-fleet:hostName: hq\n",
    "gpu": "config:\n  sandbox-fleet:hostVariant: ssh\n  sandbox-fleet:hostName: gpu-box\n",
    "cloud": "config:\n  sandbox-fleet:hostVariant: none\n  sandbox-fleet:hostName: modal\n",
}
PLACED = """version: 1
defaults: {repo: https://github.com/acme/app.git}
sandboxes:
  a: {task: audit, host: hq}
  b: {task: test, host: gpu-box}
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("config", "user.email", "t@example.test")
    git("config", "user.name", "t")
    for name, text in STACK_FILES.items():
        (tmp_path / f"Pulumi.{name}.yaml").write_text(text)
    (tmp_path / "Pulumi.yaml").write_text("name: sandbox-fleet\n")
    (tmp_path / "sandboxes.yaml").write_text(PLACED)
    git("add", "-A")
    git("commit", "-q", "-m", "base")
    return tmp_path


def change(repo: Path, path: str, text: str) -> list[str]:
    (repo / path).parent.mkdir(parents=True, exist_ok=True)
    (repo / path).write_text(text)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "x"], cwd=repo, check=True)
    done = subprocess.run(
        [sys.executable, str(SCRIPTS / "affected_stacks.py"), "--root", str(repo),
         "--base", "HEAD~1", "--head", "HEAD"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    result: list[str] = json.loads(done.stdout)
    return result


def test_entry_placed_on_a_host_affects_only_that_stack(repo: Path) -> None:
    text = PLACED.replace("b: {task: test, host: gpu-box}", "b: {task: refactor, host: gpu-box}")
    assert change(repo, "sandboxes.yaml", text) == ["gpu"]


def test_entry_moving_between_hosts_affects_both(repo: Path) -> None:
    assert change(repo, "sandboxes.yaml", PLACED.replace("host: gpu-box", "host: hq")) == [
        "gpu", "hq",
    ]  # fmt: skip


def test_unplaced_or_cloud_entry_affects_every_stack(repo: Path) -> None:
    assert change(repo, "sandboxes.yaml", PLACED + "  c: {task: audit}\n") == [
        "cloud", "gpu", "hq",
    ]  # fmt: skip


def test_stack_file_affects_that_stack(repo: Path) -> None:
    assert change(repo, "Pulumi.hq.yaml", STACK_FILES["hq"] + "  x:y: 1\n") == ["hq"]


def test_program_change_affects_every_stack(repo: Path) -> None:
    assert change(repo, "components/planes/docker/sandbox.py", "# new\n") == ["cloud", "gpu", "hq"]


def test_docs_affect_nothing(repo: Path) -> None:
    assert change(repo, "docs/gitops.md", "# docs\n") == []


def test_unknown_base_means_every_stack(repo: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPTS / "affected_stacks.py"), "--root", str(repo),
         "--base", "0" * 40],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert json.loads(done.stdout) == ["cloud", "gpu", "hq"]


def test_invalid_head_spec_means_every_stack(repo: Path) -> None:
    assert change(repo, "sandboxes.yaml", "version: 1\nsandboxes: {a: {task: nap}}\n") == [
        "cloud", "gpu", "hq",
    ]  # fmt: skip


def test_real_repository_stacks() -> None:
    found = affected_stacks.stacks(REPO)
    assert all((REPO / f"Pulumi.{name}.yaml").exists() for name in found)
    assert "yaml" not in found  # Pulumi.yaml is the project, not a stack


def test_spec_added_in_the_change_counts_from_an_empty_fleet(repo: Path) -> None:
    subprocess.run(["git", "rm", "-q", "sandboxes.yaml"], cwd=repo, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "no spec"], cwd=repo, check=True)
    assert change(repo, "sandboxes.yaml", PLACED) == ["gpu", "hq"]
