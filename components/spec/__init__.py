"""The fleet spec: `sandboxes.yaml` in, validated frozen models out. Pure Python, no Pulumi."""

from .loader import FleetSpec, HostPorts, SandboxSpec, load_spec, load_spec_text
from .models import DataPolicy, Mode, Runtime, Task
from .problems import Problem, SpecError
from .schema import json_schema, render_json_schema

__all__ = [
    "DataPolicy", "FleetSpec", "HostPorts", "Mode", "Problem", "Runtime", "SandboxSpec",
    "SpecError", "Task", "json_schema", "load_spec", "load_spec_text", "render_json_schema",
]  # fmt: skip
