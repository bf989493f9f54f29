"""The fleet spec: `sandboxes.yaml` in, validated frozen models out. Pure Python, no Pulumi."""

from .hosts import Hosts, HostSpec, Role
from .loader import FleetSpec, HostPorts, SandboxSpec, load_spec, load_spec_text
from .models import Capability, DataPolicy, Mode, Runtime, Task
from .problems import Problem, SpecError
from .schema import json_schema, render_json_schema

__all__ = [
    "Capability", "DataPolicy", "FleetSpec", "HostPorts", "HostSpec", "Hosts", "Mode", "Problem",
    "Role", "Runtime", "SandboxSpec", "SpecError", "Task", "json_schema", "load_spec",
    "load_spec_text", "render_json_schema",
]  # fmt: skip
