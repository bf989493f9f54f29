"""Stack settings: every `sandbox-fleet:*` config key, validated once, errors naming the key.

Pulumi project config has only string/integer/boolean/array types and treats a declared key
without a default as required, so settings are flat keys with defaults: `bindAddress`,
`hostVariant`, `modelServerThreads`, ... A key `<group><Field>` fills field `<field>` of
that group's model. Pulumi.yaml's `config:` block is generated from these models
(`python -m components.tools.project_file`), so the two cannot drift apart.
"""

from __future__ import annotations

import difflib
import json
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..contract import BUS, SUPERVISOR
from .bus import BusSettings
from .cross_checks import port_clashes, server_without_host
from .daytona import DaytonaSettings
from .daytona_server import DaytonaServerSettings
from .group import PROJECT
from .host import HostSettings, HostVariant
from .modal import ModalSettings
from .preflight import PreflightSettings
from .services import ModelServerSettings, SupervisorSettings
from .tailnet import TailnetSettings
from .values import (
    AddressRange,
    BindAddress,
    Flag,
    SshPublicKey,
    parse_flag,
)

# Stack secrets the fleet reads itself (as Pulumi secrets, never as settings).
SUPERVISOR_API_TOKEN_KEY = "supervisorApiToken"
MODEL_SERVER_API_KEY_KEY = "modelServerApiKey"
DESKTOP_SECRET_KEY = "desktopSecret"  # each desktop's VNC password is derived from it
SSH_SECRET_KEY = "sshSecret"  # the supervisor's key and every sandbox's host key, derived
SUPERVISOR_MODEL_KEY = "supervisorModelApiKey"  # for supervisorModelUrl (optional)
BUS_SECRET_KEY = "busSecret"  # the bus's password is derived from it: the same on every host
DAYTONA_SERVER_SECRET_KEY = "daytonaServerSecret"  # the own Daytona server's keys, derived
STACK_SECRETS = (
    SUPERVISOR_API_TOKEN_KEY, MODEL_SERVER_API_KEY_KEY, DESKTOP_SECRET_KEY, SSH_SECRET_KEY,
    SUPERVISOR_MODEL_KEY, BUS_SECRET_KEY, DAYTONA_SERVER_SECRET_KEY,
)  # fmt: skip


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TopSettings(_Group):
    spec: str = Field("sandboxes.yaml", description="The fleet spec file")
    namePrefix: str = Field(
        "",
        pattern=r"^([a-z0-9][a-z0-9-]{0,19})?$",
        description="Prefix of every Docker object name (isolation)",
    )
    bindAddress: BindAddress = Field(
        "127.0.0.1",
        description="The one address every port "
        "is published on (the host's tailnet IP in real stacks)",
    )
    sshAuthorizedKeys: tuple[SshPublicKey, ...] = Field(
        (), description="SSH public keys allowed into every sandbox"
    )
    buildImages: Flag = Field(True, description="Build images/ on the host (no registry)")
    readyTimeoutSeconds: int = Field(
        300,
        ge=0,
        le=3600,
        description="How long `up` waits for each new or replaced Docker sandbox to be ready "
        "(checkout done, sshd answering) before it fails naming it; 0 = do not wait",
    )
    mirrorEnabled: Flag = Field(
        True,
        description="Give each repository a mirror its Docker sandboxes clone with (git's "
        "alternates): one copy of its history on the host instead of one per sandbox",
    )
    mirrorFetchSeconds: int = Field(
        300, ge=30, le=86_400,
        description="How often each repository's mirror (the object store its Docker sandboxes "
        "share) fetches from the remote",
    )  # fmt: skip
    gitAuthorSuffix: str = Field(
        " (agent)",
        max_length=80,
        pattern=r"^[^\n\r<>]*$",
        description="Added to the sandbox's git author name on the commits agents make",
    )
    egressDenyAddresses: tuple[AddressRange, ...] = Field(
        (),
        description="Addresses no sandbox with an egress list reaches through its gateway, "
        "besides the private, loopback, link-local and tailnet ranges: list the host's own "
        "public addresses (docs/egress.md)",
    )


GROUPS: dict[str, type[BaseModel]] = {
    "": TopSettings,
    "host": HostSettings,
    "modelServer": ModelServerSettings,
    SUPERVISOR: SupervisorSettings,
    "tailnet": TailnetSettings,
    "preflight": PreflightSettings,
    "daytona": DaytonaSettings,
    "daytonaServer": DaytonaServerSettings,
    "modal": ModalSettings,
    BUS: BusSettings,
}
# Groups that exist only when `<prefix>Enabled` is true (their other keys are then checked).
OPTIONAL_GROUPS = {"tailnet": "Join the fleet to a tailnet (Tailscale): bind address, policy, keys"}


@dataclass(frozen=True)
class StackSettings:
    top: TopSettings
    host: HostSettings
    model_server: ModelServerSettings
    supervisor: SupervisorSettings
    tailnet: TailnetSettings | None
    preflight: PreflightSettings
    daytona: DaytonaSettings
    daytona_server: DaytonaServerSettings
    modal: ModalSettings
    bus: BusSettings
    # Not a config key: set from the spec's hosts (components/factory.py: pruned) on the
    # headquarters of a fleet on several hosts, whose stack publishes the bus.
    runs_bus: bool = False

    @property
    def runs_daytona_server(self) -> bool:
        """The host runs Daytona's own server (the one switch a host capability can set too)."""
        return self.daytona.server and self.host.variant is not HostVariant.NONE

    @property
    def bind_address(self) -> str:
        return self.top.bindAddress

    @property
    def name_prefix(self) -> str:
        return self.top.namePrefix

    @property
    def host_ports(self) -> dict[str, int]:
        """`sandbox-fleet:<key>` -> the host port it publishes, for every port setting that
        publishes one in this stack (a sandbox's ports come from the spec)."""
        if self.host.variant is HostVariant.NONE:
            return {}
        ports = {f"{PROJECT}:{SUPERVISOR}Port": self.supervisor.port}
        if self.model_server.enabled and self.model_server.publish:
            ports[f"{PROJECT}:modelServerPort"] = self.model_server.port
        if self.runs_bus:
            ports[f"{PROJECT}:{BUS}Port"] = self.bus.port
        if self.runs_daytona_server:
            ports |= {f"{PROJECT}:{k}": v for k, v in self.daytona_server.host_ports.items()}
        return ports


class SettingsError(ValueError):
    """Bad stack config. The message names the file, key, value and what is allowed."""


def config_key(prefix: str, field: str) -> str:
    return field if not prefix else prefix + field[0].upper() + field[1:]


def all_keys() -> dict[str, tuple[str, str]]:
    """config key -> (group prefix, the field's name as the model reads it)."""
    keys = {
        config_key(p, info.alias or f): (p, info.alias or f)
        for p, m in GROUPS.items()
        for f, info in m.model_fields.items()
    }
    keys.update({config_key(p, "enabled"): (p, "enabled") for p in OPTIONAL_GROUPS})
    return keys


def parse_settings(
    raw: dict[str, Any], *, stack_file: str = "Pulumi.<stack>.yaml"
) -> StackSettings:
    """`raw` maps config keys without the project prefix to values (JSON text allowed, as the
    engine passes arrays). "" means unset, as Pulumi.yaml declares optional text."""
    grouped, problems = _by_group(raw, stack_file)
    models: dict[str, BaseModel | None] = {}
    for prefix, model in GROUPS.items():
        if prefix in OPTIONAL_GROUPS:
            enabled = grouped[prefix].pop("enabled", False)
            try:
                on = parse_flag(enabled)  # the rule every boolean key follows
            except ValueError as exc:
                key = config_key(prefix, "enabled")
                problems.append(f"{stack_file}: {PROJECT}:{key}: {exc} (got {json.dumps(enabled)})")
                on = False
            if not on:
                models[prefix] = None
                continue
        try:
            models[prefix] = model.model_validate(grouped[prefix])
        except ValidationError as exc:
            problems += [f"{stack_file}: {line}" for line in _group_problems(prefix, exc)]
    if problems:
        raise SettingsError("\n".join(problems))
    settings = StackSettings(
        top=typing.cast(TopSettings, models[""]),
        host=typing.cast(HostSettings, models["host"]),
        model_server=typing.cast(ModelServerSettings, models["modelServer"]),
        supervisor=typing.cast(SupervisorSettings, models[SUPERVISOR]),
        tailnet=typing.cast(TailnetSettings | None, models["tailnet"]),
        preflight=typing.cast(PreflightSettings, models["preflight"]),
        daytona=typing.cast(DaytonaSettings, models["daytona"]),
        daytona_server=typing.cast(DaytonaServerSettings, models["daytonaServer"]),
        modal=typing.cast(ModalSettings, models["modal"]),
        bus=typing.cast(BusSettings, models[BUS]),
    )
    clashes = port_clashes(settings.host_ports)
    if clashes := clashes + server_without_host(settings.daytona.server, settings.host.variant):
        raise SettingsError("\n".join(f"{stack_file}: {line}" for line in clashes))
    return settings


def _by_group(raw: dict[str, Any], stack_file: str) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Each known key's value under its group's field name, and a problem per unknown key."""
    keys = all_keys()
    grouped: dict[str, dict[str, Any]] = {p: {} for p in GROUPS}
    problems = []
    for key, value in sorted(raw.items()):
        if key not in keys:
            close = [k for k in keys if k.lower() == key.lower()] or _close(key, keys)
            hint = f" (did you mean {PROJECT}:{close[0]}?)" if close else ""
            problems.append(f"{stack_file}: {PROJECT}:{key}: unknown config key{hint}")
            continue
        prefix, field = keys[key]
        if value != "":
            grouped[prefix][field] = _decode(value)
    return grouped, problems


def _group_problems(prefix: str, exc: ValidationError) -> list[str]:
    """One group's validation errors, each naming its config key, the value and the rule."""
    problems = []
    for err in exc.errors(include_url=False):
        key = config_key(prefix, str(err["loc"][0])) if err["loc"] else prefix
        where = "".join(f"[{p}]" for p in err["loc"][1:])
        message = str((err.get("ctx") or {}).get("error") or err["msg"])
        if err["type"] == "missing":
            problems.append(
                f"{PROJECT}:{key}: required here; set it with "
                f"`pulumi config set {PROJECT}:{key} VALUE`"
            )
            continue
        given = err.get("input")
        if not err["loc"] and isinstance(given, dict):  # a rule across the group's keys
            key = f"{config_key(prefix, '*')} settings"
            given = {f"{PROJECT}:{config_key(prefix, k)}": v for k, v in given.items()}
        problems.append(f"{PROJECT}:{key}{where}: {message} (got {json.dumps(given, default=str)})")
    return problems


def _close(key: str, keys: dict[str, Any]) -> list[str]:
    return difflib.get_close_matches(key, list(keys), n=1, cutoff=0.7)


def _decode(value: Any) -> Any:
    if isinstance(value, str) and value[:1] == "[":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def read_stack_settings() -> StackSettings:
    """Every `sandbox-fleet:*` key of the running stack (UPPER_CASE keys are secrets named in
    sandboxes.yaml, and STACK_SECRETS: both read by the fleet itself); RunError on bad values."""
    import pulumi
    from pulumi.runtime.config import CONFIG

    raw = {}
    for full_key, value in CONFIG.get().items():
        namespace, _, key = full_key.partition(":")
        if namespace == PROJECT and not key.isupper() and key not in STACK_SECRETS:
            raw[key] = value
    try:
        return parse_settings(raw, stack_file=f"Pulumi.{pulumi.get_stack()}.yaml")
    except SettingsError as exc:
        raise pulumi.RunError(str(exc)) from None
