"""Drive the real `pulumi` CLI (built by scripts/install-pulumi) on a copy of the project.

Each `Project` is a copy of the checkout's files in its own directory, with the checkout's
`.venv` linked in, so two copies in different places can share one backend and stack: what a
laptop and a CI runner do. State lives in a local file backend under the test's temp dir; the
passphrase is a test constant. Nothing is fetched: automatic plugin download is off.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "e2e-only-passphrase"
# One CLI call may build images or wait for sandboxes; none may hang a test run.
CALL_TIMEOUT_S = 900


# The real __main__.py without the per-container pids-limit command: that resource needs
# pulumi-command, which the Go module proxy here refuses (docs/engine.md), so without this no
# container could be created by the engine built here. Everything else is the program as it is.
WITHOUT_PIDS_COMMAND = '''"""The real __main__.py minus each container's pids-limit command
(pulumi-command is not buildable here; docs/engine.md). From tests/support/pulumi_cli.py."""
import runpy
import sys

sys.path.insert(0, ".")  # run as a file, not as the project directory: import from it all the same
from components.host.engine_cli import EngineCli  # noqa: E402

EngineCli.limit_pids = lambda self, *args, **kwargs: None  # type: ignore[method-assign]
runpy.run_path("__main__.py", run_name="__main__")
'''


def without_pids_command(directory: Path) -> None:
    """Make the project copy at `directory` run WITHOUT_PIDS_COMMAND as its program."""
    (directory / "main_without_pids.py").write_text(WITHOUT_PIDS_COMMAND)
    project_file = directory / "Pulumi.yaml"
    text = project_file.read_text()
    if "main: main_without_pids.py" in text:
        return
    project_file.write_text(text.replace("runtime:", "main: main_without_pids.py\nruntime:", 1))


class EngineMissing(RuntimeError):
    """scripts/install-pulumi failed: the message is its own output."""


def install_engine() -> Path:
    """The directory scripts/install-pulumi built the engine into (seconds when cached)."""
    done = subprocess.run(
        [str(REPO_ROOT / "scripts" / "install-pulumi")], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise EngineMissing(done.stderr.strip() or f"exit {done.returncode}")
    return Path(done.stdout.strip().splitlines()[-1])


def blocked_plugins(engine_bin: Path) -> dict[str, str]:
    """Pieces install-pulumi could not build, with the go command's reason (its BLOCKED file)."""
    blocked = engine_bin.parent / "BLOCKED"
    lines = blocked.read_text().splitlines() if blocked.exists() else []
    return {line.split()[0]: line for line in lines if line.strip()}


def copy_project(dest: Path) -> Path:
    """The checkout's tracked and new (not ignored) files at `dest`, plus a link to `.venv`."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for rel in filter(None, listed.split("\0")):
        src = REPO_ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    (dest / ".venv").symlink_to(REPO_ROOT / ".venv")
    return dest


@dataclass
class Project:
    """One copy of the project, driven with the real CLI against a shared local backend."""

    directory: Path
    engine_bin: Path
    backend: Path
    stack: str = "e2e"
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        venv = self.directory / ".venv"
        return {
            **os.environ,
            "PATH": f"{self.engine_bin}{os.pathsep}{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
            "PULUMI_HOME": str(self.backend.parent / "pulumi-home"),
            "PULUMI_BACKEND_URL": self.backend.as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            # The language host built here predates reading `virtualenv` from the run request.
            "PULUMI_PYTHON_CMD": str(venv / "bin" / "python"),
            "PULUMI_RUNTIME_VIRTUALENV": str(venv),
            "NO_COLOR": "1",
            **self.extra_env,
        }

    def run(
        self, *args: str, check: bool = True, stack: bool = True
    ) -> subprocess.CompletedProcess[str]:
        command = ["pulumi", *args, "--non-interactive", *(["--stack", self.stack] * stack)]
        done = subprocess.run(
            command,
            cwd=self.directory,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=CALL_TIMEOUT_S,
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"{' '.join(command)} exited {done.returncode} in {self.directory}\n"
                f"--- stdout ---\n{done.stdout[-6000:]}\n--- stderr ---\n{done.stderr[-4000:]}"
            )
        return done

    def init(self, stack_file: Path, config: dict[str, Any], secrets: dict[str, str]) -> None:
        """Create the stack from a preset's `config:` plus `config` (flat keys, plain values
        or lists) and `secrets` (set with --secret, as a user would)."""
        self.backend.mkdir(parents=True, exist_ok=True)
        preset = yaml.safe_load(stack_file.read_text()) or {}
        (self.directory / f"Pulumi.{self.stack}.yaml").write_text(yaml.safe_dump(preset))
        self.run("stack", "select", "--create", self.stack, stack=False)
        for key, value in config.items():
            if isinstance(value, list):  # a YAML list, as Pulumi.yaml declares array keys
                for i, item in enumerate(value):
                    self.run("config", "set", "--path", f"sandbox-fleet:{key}[{i}]", str(item))
            else:
                self.run("config", "set", f"sandbox-fleet:{key}", str(value))
        for key, value in secrets.items():
            self.run("config", "set", "--secret", key, value)

    def clone(self, dest: Path) -> Project:
        """The same project, stack file and spec in another directory, on the same backend."""
        shutil.copytree(self.directory, dest, symlinks=True)
        return Project(dest, self.engine_bin, self.backend, self.stack, dict(self.extra_env))

    def outputs(self) -> dict[str, Any]:
        return dict(json.loads(self.run("stack", "output", "--json", "--show-secrets").stdout))

    def resources(self) -> dict[str, dict[str, Any]]:
        """The stack's state by URN, as `pulumi stack export` writes it."""
        exported = json.loads(self.run("stack", "export", "--show-secrets").stdout)
        return {r["urn"]: r for r in exported["deployment"].get("resources", [])}
