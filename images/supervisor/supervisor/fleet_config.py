"""The supervisor's place in a fleet of several hosts, from the environment.

A single host (``SUPERVISOR_ROLE`` unset or ``single``) keeps its embedded queue and needs none of
this. With more than one host, every supervisor reaches the fleet's Redis (the bus): the
``headquarters`` one routes tasks to the host that runs their sandbox, a ``member`` pulls its
own. The fleet sets these variables (components/services); an invalid one stops the process with
a message naming it.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field

ROLES = ("single", "headquarters", "member")
CAPABILITIES = ("headless", "visual", "gpu", "model", "daytona")
# Docker's container-name alphabet, for sandboxes and hosts alike: safe in keys and argv.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
NAME_RULE = "letters, digits, '_', '.', '-', starting with a letter or digit, at most 128"


class FleetConfigError(ValueError):
    """A fleet variable is missing or invalid (load_config re-raises it as a ConfigError)."""


@dataclass(frozen=True)
class FleetConfig:
    role: str = "single"
    host_name: str = ""
    capabilities: tuple[str, ...] = ()
    # Every sandbox of the fleet -> the host it lives on; None: not said (any name is taken).
    sandboxes: Mapping[str, str] | None = None
    bus_url: str = ""
    bus_password: str = field(default="", repr=False)

    @property
    def on_bus(self) -> bool:
        return self.role != "single"

    def host_of(self, sandbox: str) -> str | None:
        return None if self.sandboxes is None else self.sandboxes.get(sandbox)


def load_fleet(env: Mapping[str, str]) -> FleetConfig:
    role = env.get("SUPERVISOR_ROLE", "").strip() or "single"
    if role not in ROLES:
        raise FleetConfigError(
            f"SUPERVISOR_ROLE={role!r} is not a known role; allowed values: {', '.join(ROLES)}"
        )
    host_name = env.get("SUPERVISOR_HOST_NAME", "").strip()
    if host_name and not NAME.fullmatch(host_name):
        raise FleetConfigError(f"SUPERVISOR_HOST_NAME={host_name!r} is invalid: {NAME_RULE}")
    fleet = FleetConfig(
        role=role,
        host_name=host_name,
        capabilities=_capabilities(env.get("SUPERVISOR_HOST_CAPABILITIES", "")),
        sandboxes=_sandboxes(env.get("SUPERVISOR_FLEET_SANDBOXES", "")),
        bus_url=_bus_url(env.get("SUPERVISOR_BUS_URL", "").strip()),
        bus_password=env.get("SUPERVISOR_BUS_PASSWORD", "").strip(),
    )
    if fleet.on_bus:
        _require_bus(fleet)
    return fleet


def _require_bus(fleet: FleetConfig) -> None:
    why = f"SUPERVISOR_ROLE={fleet.role} reaches the fleet's bus"
    if not fleet.host_name:
        raise FleetConfigError(f"SUPERVISOR_HOST_NAME is not set: {why} as its host")
    if not fleet.bus_url:
        raise FleetConfigError(f"SUPERVISOR_BUS_URL is not set: {why} (redis://ADDRESS:PORT/0)")
    if not fleet.bus_password:
        raise FleetConfigError(f"SUPERVISOR_BUS_PASSWORD is not set: {why}, which asks for one")
    if fleet.role == "headquarters" and fleet.sandboxes is None:
        raise FleetConfigError(
            "SUPERVISOR_FLEET_SANDBOXES is not set: headquarters routes each task to the host "
            'of its sandbox (a JSON object, {"SANDBOX": "HOST", ...})'
        )


def _capabilities(text: str) -> tuple[str, ...]:
    given = [part.strip() for part in text.split(",") if part.strip()]
    if unknown := [c for c in given if c not in CAPABILITIES]:
        raise FleetConfigError(
            f"SUPERVISOR_HOST_CAPABILITIES={text.strip()!r}: unknown capability "
            f"{', '.join(map(repr, unknown))}; allowed: {', '.join(CAPABILITIES)}"
        )
    return tuple(sorted(set(given), key=CAPABILITIES.index))


def _sandboxes(text: str) -> dict[str, str] | None:
    if not text.strip():
        return None
    name = "SUPERVISOR_FLEET_SANDBOXES"
    try:
        found = json.loads(text)
    except ValueError as exc:
        raise FleetConfigError(f"{name} is not valid JSON: {exc}") from None
    if not isinstance(found, dict):
        raise FleetConfigError(
            f'{name} must be a JSON object {{"SANDBOX": "HOST", ...}}, got {type(found).__name__}'
        )
    for sandbox, host in found.items():
        if not NAME.fullmatch(sandbox):
            raise FleetConfigError(f"{name}: sandbox name {sandbox[:80]!r} is invalid: {NAME_RULE}")
        if not isinstance(host, str) or not NAME.fullmatch(host):
            raise FleetConfigError(
                f"{name}: the host of {sandbox!r} is {host!r}: expected a host name ({NAME_RULE})"
            )
    return dict(sorted(found.items()))


def _bus_url(url: str) -> str:
    if not url:
        return ""
    name = "SUPERVISOR_BUS_URL"
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if "@" in parts.netloc:  # checked first: the message must not repeat a password
        raise FleetConfigError(
            f"{name} carries credentials: give the address only, the password goes in "
            "SUPERVISOR_BUS_PASSWORD"
        )
    if parts.scheme != "redis" or not parts.hostname or port is None:
        raise FleetConfigError(f"{name}={url!r} is invalid: expected redis://ADDRESS:PORT/0")
    if parts.path not in ("", "/") and not parts.path[1:].isdigit():
        raise FleetConfigError(f"{name}={url!r}: the database must be a number (redis://.../0)")
    return url
