"""Pulumi.yaml's `config:` block, generated from the settings models so it cannot drift.

python -m components.tools.project_file > Pulumi.yaml.new && mv Pulumi.yaml.new Pulumi.yaml
"""

from __future__ import annotations

import sys
import types
import typing
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import yaml

from ..settings import GROUPS, OPTIONAL_GROUPS, PROJECT, all_keys


def _pulumi_type(annotation: Any) -> dict[str, Any]:
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _pulumi_type(typing.get_args(annotation)[0])
    if origin in (tuple, list):
        return {"type": "array", "items": _pulumi_type(typing.get_args(annotation)[0])}
    if origin in (typing.Union, types.UnionType):
        return _pulumi_type(next(a for a in typing.get_args(annotation) if a is not type(None)))
    if annotation is bool:
        return {"type": "boolean"}
    if annotation is int:
        return {"type": "integer"}
    return {"type": "string"}  # Pulumi project config has no number type: floats are text


def config_declarations() -> dict[str, dict[str, Any]]:
    """The `config:` block of Pulumi.yaml: every key, its type, description and default."""
    out = {}
    for key, (prefix, field) in sorted(all_keys().items()):
        if prefix in OPTIONAL_GROUPS and field == "enabled":
            out[f"{PROJECT}:{key}"] = {
                "type": "boolean", "description": OPTIONAL_GROUPS[prefix], "default": False,
            }  # fmt: skip
            continue
        info = next(i for f, i in GROUPS[prefix].model_fields.items() if (i.alias or f) == field)
        declared = _pulumi_type(info.annotation)
        default = None if info.is_required() else info.get_default(call_default_factory=True)
        default = list(default) if isinstance(default, tuple) else default
        default = default.value if isinstance(default, StrEnum) else default
        if declared["type"] == "string" and not isinstance(default, str):
            default = "" if default is None else str(default)  # floats and unset text
        description = " ".join((info.description or key).split())
        out[f"{PROJECT}:{key}"] = {**declared, "description": description, "default": default}
    return out


def render_project_file(template: str) -> str:
    """Pulumi.yaml with its config block regenerated (everything above `config:` kept)."""
    head = template.split("\nconfig:", 1)[0].rstrip("\n")
    body = yaml.safe_dump({"config": config_declarations()}, sort_keys=False, width=100)
    return f"{head}\n{body}"


if __name__ == "__main__":
    sys.stdout.write(render_project_file(Path("Pulumi.yaml").read_text()))
