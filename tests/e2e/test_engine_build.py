"""What scripts/install-pulumi builds: the pins agree with each other, and the docker plugin
built here takes every input the program sends, by its own schema (not only the published one).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from tests.support.provider_schema import ProviderSchemas, default_schema_dir
from tests.support.pulumi_cli import REPO_ROOT, Project
from tests.support.pulumi_harness import run_program, stack_config

SPEC = """version: 1
sandboxes:
  audit-auth: {task: audit, branch: audit/auth, env: {A: b}}
  ui: {task: shopping, ports: [3000, 5173], resources: {cpus: 0.5, memory: 768Mi, pids: 256}}
"""


def engine_pieces() -> dict[str, tuple[str, str, str]]:
    """engine-versions.txt: piece -> (version, module@version, how)."""
    pieces = {}
    for line in (REPO_ROOT / "engine-versions.txt").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            piece, version, module, _package, how = line.split()
            pieces[piece] = (version, module, how)
    return pieces


def python_pins() -> dict[str, str]:
    text = (REPO_ROOT / "requirements.txt").read_text()
    return dict(re.findall(r"^([a-z0-9-]+)==([^\s#]+)", text, re.MULTILINE))


def test_provider_plugins_match_the_python_sdk_pins() -> None:
    pins, pieces = python_pins(), engine_pieces()
    for piece, (version, _module, _how) in pieces.items():
        if piece.startswith("pulumi-resource-"):
            sdk = "pulumi-" + piece.removeprefix("pulumi-resource-")
            assert pins.get(sdk) == version, f"{piece} {version} but requirements.txt has {sdk}"
    assert pieces["pulumi-python-scripts"][0] == pins["pulumi"], "scripts of another SDK"


def test_each_wrapper_module_requires_the_listed_version() -> None:
    for piece, (_version, module_at, how) in engine_pieces().items():
        if how == "blocked":
            continue
        module, version = module_at.rsplit("@", 1)
        go_mod = (REPO_ROOT / "engine" / piece / "go.mod").read_text()
        assert re.search(rf"^\s*(require\s+)?{re.escape(module)} {version}\b", go_mod, re.M), (
            f"engine/{piece}/go.mod does not require {module} {version}"
        )


def test_the_built_docker_plugin_accepts_every_input_the_program_sends(
    project: Project, tmp_path: Path
) -> None:
    schemas = tmp_path / "schemas"
    shutil.copytree(default_schema_dir(), schemas)
    plugin = project.engine_bin / "pulumi-resource-docker"
    built = subprocess.run(
        ["pulumi", "package", "get-schema", str(plugin)],
        env=project.env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    (schemas / "docker.schema.json").write_text(built.stdout)
    spec = tmp_path / "sandboxes.yaml"
    spec.write_text(SPEC)
    for stack_file in [REPO_ROOT / "Pulumi.dev.yaml", *sorted((REPO_ROOT / "stacks").glob("*"))]:
        run = run_program(REPO_ROOT / "__main__.py", stack_config(stack_file, {"spec": str(spec)}))
        assert run.error is None, f"{stack_file.name}: {run.error!r}"
        assert ProviderSchemas(schemas).validate_registered(run.resources) == [], stack_file.name
