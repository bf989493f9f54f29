"""FleetSpec -> sandboxes.yaml: the canonical document with every entry fully resolved.

Loading what `dump_yaml` writes gives back an equal FleetSpec (expired entries aside: they are
not part of the fleet, so they are not written). No `defaults:` section is needed; `ssh_port`
is written only where the original pinned it, so derived host ports stay derived.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import yaml

from components.sizes import parse_size
from components.spec.hosts import HostSpec
from components.spec.loader import FleetSpec, SandboxSpec
from components.spec.yaml11 import misread

# Largest first, so 1073741824 is written 1Gi and 1000000000 is written 1G.
_UNITS = sorted(
    ((unit, parse_size(f"1{unit}")) for unit in ("Ti", "Gi", "Mi", "Ki", "T", "G", "M", "K")),
    key=lambda unit: -unit[1],
)


def size_text(size: int) -> str:
    """Size text that reads back as exactly `size` bytes, in whole units where possible."""
    for unit, factor in _UNITS:
        if size % factor == 0:
            return f"{size // factor}{unit}"
    # Not whole in any unit (e.g. from `0.3Ki`). parse_size truncates a float product, so the
    # exact decimal may read back one byte short; half a byte more never does.
    exact = f"{Decimal(size) / 1000}K"
    return exact if parse_size(exact) == size else f"{Decimal(2 * size + 1) / 2000}K"


def _entry(s: SandboxSpec) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "task": s.task.value,
        "mode": s.mode.value,
        "runtime": s.runtime.value,
        "branch": s.branch,
        "base": s.base,
        "resources": {"cpus": s.cpus, "memory": size_text(s.memory_bytes), "pids": s.pids},
        "ports": list(s.ports),
        "env": dict(s.env),
        "secrets": list(s.secrets),
        "data": s.data.value,
        "egress": "any" if s.egress is None else list(s.egress),
    }
    optional = {
        "repo": s.repo,
        "host": s.host,
        "ssh_port": s.host_ports.ssh if s.ssh_port_pinned else None,
        "expires": s.expires.isoformat() if s.expires else None,
        "tailnet": True if s.tailnet else None,
        "image": None
        if s.image is None
        else ({"dockerfile": s.image.dockerfile} if s.image.dockerfile else {"base": s.image.base}),
    }
    entry.update({key: value for key, value in optional.items() if value is not None})
    return entry


def _host(h: HostSpec) -> dict[str, Any]:
    host: dict[str, Any] = {"capabilities": [c.value for c in h.capabilities]}
    if h.headquarters:
        host["headquarters"] = True
    capacity = {
        "cpus": h.cpus,
        "memory": None if h.memory_bytes is None else size_text(h.memory_bytes),
    }
    if any(v is not None for v in capacity.values()):
        host["capacity"] = {k: v for k, v in capacity.items() if v is not None}
    return host


def to_document(spec: FleetSpec) -> dict[str, Any]:
    """Plain data (JSON-compatible) for a `version: 1` sandboxes.yaml describing `spec`."""
    document: dict[str, Any] = {"version": 1}
    if spec.hosts:
        document["hosts"] = {h.name: _host(h) for h in spec.hosts.declared}
    return document | {"sandboxes": {s.name: _entry(s) for s in spec.sandboxes}}


class _Dumper(yaml.SafeDumper):
    """PyYAML quotes the text it would read back as something else, but not `y`, `08` or
    `1e3`, which other readers (and so the loader) take for booleans and numbers."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    node = dumper.represent_str(value)
    if misread(yaml.ScalarNode("tag:yaml.org,2002:str", value)):
        node.style = "'"
    return node


_Dumper.add_representer(str, _text)


def safe_dump(document: Any, *, sort_keys: bool) -> str:
    """yaml.safe_dump, with every text the loader would read as plain YAML 1.1 quoted."""
    return yaml.dump(document, Dumper=_Dumper, sort_keys=sort_keys, allow_unicode=True)


def dump_yaml(spec: FleetSpec) -> str:
    return safe_dump(to_document(spec), sort_keys=True)
