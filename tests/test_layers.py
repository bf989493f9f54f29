"""The house plan holds: each layer of components/ imports only the layers below it (and itself),
the spec is pure Python, and no module or function outgrows what one reading takes in."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

COMPONENTS = Path(__file__).resolve().parents[1] / "components"
# Bottom first. A module may import its own layer and any layer with a smaller rank.
RANK = {
    "contract": 0,  # ports, names and paths shared with images/
    "sizes": 0,  # '512Mi' <-> bytes, for the spec and the settings alike
    "settings": 1,  # every stack config key
    "spec": 1,  # sandboxes.yaml
    "outputs": 2,  # the stack outputs' shapes
    "factory": 2,  # this stack as one host of the fleet: its capabilities, role, what it prunes
    "host": 3,  # the container host and what is built on it
    "tailnet": 4,  # Tailscale access (discovers the host's tailnet address)
    "services": 5,  # model server, supervisor
    "planes": 6,  # where sandboxes run
    "fleet": 7,  # routes entries to planes
    "tools": 8,  # cli, review, Pulumi.yaml generator
    # Kept paths: the CLI command, and the providers' module paths in existing state.
    "cli": 9,
    "daytona": 9,
    "modal_sandbox": 9,
}
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 50
MODULES = sorted(COMPONENTS.rglob("*.py"))


def layer(module: str) -> str:
    """`components.planes.docker.sandbox` -> `planes`."""
    return module.split(".")[1]


def module_name(path: Path) -> str:
    parts = path.relative_to(COMPONENTS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Absolute names of what `path` imports (relative imports resolved against its package)."""
    package = ".".join(path.relative_to(COMPONENTS.parent).with_suffix("").parts[:-1])
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            names.add(".".join(p for p in (base, node.module or "") if p))
    return names


def test_every_layer_has_a_rank() -> None:
    layers = {layer(module_name(p)) for p in MODULES if module_name(p) != "components"}
    assert layers == set(RANK), f"unranked: {layers - set(RANK)}; gone: {set(RANK) - layers}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(COMPONENTS)))
def test_a_module_imports_only_its_layer_and_those_below(path: Path) -> None:
    own = module_name(path)
    if own == "components":
        return
    above = sorted(
        name
        for name in imported_modules(path)
        if name.startswith("components.")
        and layer(name) != layer(own)
        and RANK[layer(name)] >= RANK[layer(own)]
    )
    assert above == [], f"{own} (layer {layer(own)}) imports from above or beside it: {above}"


def test_the_spec_is_pure_python() -> None:
    """sandboxes.yaml is checked without Pulumi (the CLI, pre-commit, CI): no pulumi import."""
    found = sorted(
        f"{path.relative_to(COMPONENTS)}: {name}"
        for path in sorted((COMPONENTS / "spec").glob("*.py"))
        for name in imported_modules(path)
        if name.split(".")[0].startswith("pulumi")
    )
    assert found == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(COMPONENTS)))
def test_modules_and_functions_stay_small(path: Path) -> None:
    text = path.read_text()
    assert len(text.splitlines()) <= MAX_MODULE_LINES, f"{path.name}: split it by concept"
    functions = [
        (node.name, (node.end_lineno or node.lineno) - node.lineno + 1)
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    long = [f"{name}: {lines} lines" for name, lines in functions if lines > MAX_FUNCTION_LINES]
    assert long == []
