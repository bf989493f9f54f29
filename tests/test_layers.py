"""The bottom layers import nothing above them: settings and the spec are read before any
component exists, and must not drag the components (and pulumi) in with them. Only the
contract (components/contract.py) sits below them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

COMPONENTS = Path(__file__).resolve().parents[1] / "components"


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


def forbidden(name: str, own: str, pulumi_allowed: bool) -> bool:
    if name.startswith("components"):
        return not name.startswith((own, "components.contract"))  # the contract is below all
    return not pulumi_allowed and name.split(".")[0].startswith("pulumi")


# settings reads the stack's config through pulumi.Config; the spec is pure Python.
@pytest.mark.parametrize(("layer", "pulumi_allowed"), [("settings", True), ("spec", False)])
def test_a_bottom_layer_imports_only_itself(layer: str, pulumi_allowed: bool) -> None:
    own = f"components.{layer}"
    above = sorted(
        f"{path.relative_to(COMPONENTS.parent)}: {name}"
        for path in sorted((COMPONENTS / layer).glob("*.py"))
        for name in imported_modules(path)
        if forbidden(name, own, pulumi_allowed)
    )
    assert above == [], f"components.{layer} imports from above it: {above}"
