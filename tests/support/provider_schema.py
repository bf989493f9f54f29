"""Check recorded resource inputs against the providers' published Pulumi schemas.

The mock runtime accepts any input; the real providers do not. `ProviderSchemas.validate` walks
the inputs the engine would send (camelCase, as `pulumi_harness.Registered.inputs` records them)
through the schema of the resource's package and reports every problem with its dotted path:
unknown tokens, unknown property names, wrong JSON types, missing required inputs and values
outside an enum, at every nesting level.

Wire quirks it tolerates: numbers arrive as floats (an integral float is a valid integer),
unknowns are the sentinel string `UNKNOWN` (skipped), assets/archives/secrets/output values
carry Pulumi's signature key, and provider resources (`pulumi:providers:<pkg>`) get their
non-string inputs JSON-encoded by the generated SDKs.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.support.pulumi_harness import Registered

ENV_VAR = "SANDBOX_FLEET_SCHEMAS"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # what an unknown output looks like on the wire
# No published schema: our own component resources, and our dynamic providers' resources (their
# inputs are what our provider code reads; its own tests check them).
OWN_PACKAGES = frozenset({"sandbox-fleet", "pulumi-python"})
PROVIDER_PREFIX = "pulumi:providers:"

_SIG_KEY = "4dabf18193072939515e22adb298388d"
_ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
_ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
_RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_SKIP = object()  # a value we cannot judge (unknown, resource reference)


def default_schema_dir() -> Path:
    """$SANDBOX_FLEET_SCHEMAS, else <repo>/../shared/provider-schemas."""
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override)
    repo_root = Path(__file__).resolve().parents[2]
    return repo_root.parent / "shared" / "provider-schemas"


class ProviderSchemas:
    """The `<package>.schema.json` files of one directory, each loaded on first use."""

    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_schema_dir()
        if not self.directory.is_dir():
            raise FileNotFoundError(
                f"provider schema directory not found: {self.directory} "
                f"(set {ENV_VAR} to the folder holding docker/command/tailscale.schema.json)"
            )
        self._packages: dict[str, dict[str, Any] | None] = {}

    def package(self, name: str) -> dict[str, Any] | None:
        """The parsed schema of package `name`, or None when there is no file for it."""
        if name not in self._packages:
            path = self.directory / f"{name}.schema.json"
            self._packages[name] = json.loads(path.read_text()) if path.is_file() else None
        return self._packages[name]

    def validate(self, token: str, inputs: Mapping[str, Any]) -> list[str]:
        """Every way `inputs` (camelCase, as on the wire) break the schema of `token`."""
        is_provider = token.startswith(PROVIDER_PREFIX)
        pkg_name = token.removeprefix(PROVIDER_PREFIX) if is_provider else token.split(":")[0]
        if pkg_name in OWN_PACKAGES:
            return []
        pkg = self.package(pkg_name)
        if pkg is None:
            return [f"{token}: no schema for package {pkg_name!r} in {self.directory}"]
        if is_provider:
            resource = pkg.get("provider", {})
        elif token in pkg["resources"]:
            resource = pkg["resources"][token]
        else:
            return [f"{token}: unknown resource token{_suggest(token, pkg['resources'])}"]
        spec = {
            "type": "object",
            "properties": resource.get("inputProperties", {}),
            "required": resource.get("requiredInputs", []),
        }
        checker = _Checker(pkg.get("types", {}), json_encoded_top=is_provider)
        checker.check(spec, dict(inputs), token)
        return checker.problems

    def validate_registered(self, resources: Iterable[Registered]) -> list[str]:
        """Validate every custom resource of a run; each problem starts with the resource name."""
        return [
            f"{r.name}: {problem}"
            for r in resources
            if r.custom
            for problem in self.validate(r.type, r.inputs)
        ]


class _Checker:
    def __init__(self, types: Mapping[str, Any], *, json_encoded_top: bool) -> None:
        self.types = types
        self.json_encoded_top = json_encoded_top
        self.problems: list[str] = []

    def check(self, spec: Mapping[str, Any], value: Any, path: str) -> None:
        value = _unwrap(value)
        if value is _SKIP:
            return
        if "$ref" in spec:
            self._check_ref(spec["$ref"], value, path)
        elif "oneOf" in spec:
            trials = [_Checker(self.types, json_encoded_top=False) for _ in spec["oneOf"]]
            for trial, alternative in zip(trials, spec["oneOf"], strict=True):
                trial.check(alternative, value, path)
            if all(trial.problems for trial in trials):
                self.problems.append(f"{path}: matches none of oneOf, got {_show(value)}")
        elif "type" in spec:
            self._check_typed(spec, value, path)

    def _check_ref(self, ref: str, value: Any, path: str) -> None:
        if ref == "pulumi.json#/Any":
            return
        if ref in ("pulumi.json#/Asset", "pulumi.json#/Archive"):
            # In Pulumi schemas "Asset" means AssetOrArchive.
            allowed = {_ARCHIVE_SIG} if ref.endswith("Archive") else {_ASSET_SIG, _ARCHIVE_SIG}
            if not (isinstance(value, dict) and value.get(_SIG_KEY) in allowed):
                kind = ref.removeprefix("pulumi.json#/").lower()
                self.problems.append(f"{path}: expected {kind}, got {_show(value)}")
            return
        name = ref.removeprefix("#/types/")
        if name == ref or name not in self.types:
            self.problems.append(f"{path}: schema reference {ref!r} cannot be resolved")
            return
        self.check(self.types[name], value, path)

    def _check_typed(self, spec: Mapping[str, Any], value: Any, path: str) -> None:
        kind = spec["type"]
        if not _is_type(kind, value):
            self.problems.append(f"{path}: expected {kind}, got {_show(value)}")
        elif "enum" in spec:
            allowed = [entry["value"] for entry in spec["enum"]]
            if value not in allowed:
                self.problems.append(f"{path}: {_show(value)} not in enum {allowed}")
        elif kind == "array" and "items" in spec:
            for i, item in enumerate(value):
                self.check(spec["items"], item, f"{path}[{i}]")
        elif kind == "object" and "properties" in spec:
            self._check_properties(spec, value, path)
        elif kind == "object" and "additionalProperties" in spec:
            for key, item in value.items():
                self.check(spec["additionalProperties"], item, f"{path}[{key!r}]")

    def _check_properties(self, spec: Mapping[str, Any], value: dict[str, Any], path: str) -> None:
        properties: Mapping[str, Any] = spec["properties"]
        top = self.json_encoded_top
        self.json_encoded_top = False
        for name in spec.get("required", []):
            if value.get(name) is None:
                self.problems.append(f"{path}.{name}: missing required input")
        for name, item in value.items():
            if name not in properties:
                hint = _suggest(name, properties)
                self.problems.append(f"{path}: unknown property {name!r}{hint}")
            elif item is not None:
                prop = properties[name]
                if top and isinstance(item, str) and prop.get("type") != "string":
                    item = _json_or_str(item)
                self.check(prop, item, f"{path}.{name}")


def _unwrap(value: Any) -> Any:
    """Strip secret/output wrappers; _SKIP for values nobody can judge before deployment."""
    if isinstance(value, str) and value == UNKNOWN:
        return _SKIP
    if not isinstance(value, dict):
        return value
    sig = value.get(_SIG_KEY)
    if sig == _RESOURCE_SIG or (sig == _OUTPUT_SIG and "value" not in value):
        return _SKIP
    if sig in (_SECRET_SIG, _OUTPUT_SIG):
        return _unwrap(value["value"])
    return value


def _is_type(kind: str, value: Any) -> bool:
    if kind == "integer":  # the wire carries every number as a float
        return isinstance(value, int | float) and not isinstance(value, bool) and value % 1 == 0
    checks: dict[str, type | tuple[type, ...]] = {
        "string": str,
        "number": (int, float),
        "boolean": bool,
        "array": list,
        "object": dict,
    }
    if kind not in checks:
        return False
    return isinstance(value, checks[kind]) and not (kind == "number" and isinstance(value, bool))


def _json_or_str(text: str) -> Any:
    """Generated provider SDKs send non-string config as JSON text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _show(value: Any) -> str:
    kind = "null" if value is None else type(value).__name__
    text = repr(value)
    return f"{kind} {text[:57] + '...' if len(text) > 60 else text}"


def _suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
