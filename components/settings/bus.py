"""The bus group (`sandbox-fleet:bus*` keys): headquarters' Redis, in a fleet on several hosts
(docs/factories.md). Headquarters publishes it on its bind address at `busPort`; a member's
supervisor reaches it at `busAddress`:`busPort`. A fleet on one host runs no bus."""

from __future__ import annotations

import re
from ipaddress import ip_address
from typing import Annotated

from pydantic import AfterValidator, Field

from .group import SettingsGroup
from .values import Cpus, Memory

_DNS_NAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)


def _bus_address(value: str) -> str:
    """Headquarters as a member's container reaches it: an address or a DNS name, never one
    that means the member itself."""
    if not value:
        return value
    try:
        address = ip_address(value)
    except ValueError:
        if not _DNS_NAME.match(value):
            raise ValueError(
                f"{value!r} is not an address or a host name (headquarters' tailnet IP, e.g. "
                "100.101.102.103, or its MagicDNS name, e.g. hq.example.ts.net)"
            ) from None
        return value
    if address.is_unspecified or address.is_loopback:
        raise ValueError(
            f"{value!r} would be the member's own container, not headquarters; give "
            "headquarters' tailnet IP (its sandbox-fleet:bindAddress)"
        )
    return value


BusAddress = Annotated[str, AfterValidator(_bus_address)]


class BusSettings(SettingsGroup):
    """Stack config `sandbox-fleet:bus*` keys (all optional)."""

    address: BusAddress = ""
    """Members: where headquarters publishes the bus (its tailnet IP or MagicDNS name)."""
    port: int = Field(default=16379, ge=1024, le=65535)
    """Headquarters: the host port of the bus on its bind address. Members: the same number."""
    memory: Memory = "256Mi"
    """Headquarters: the bus's memory limit (it refuses writes at three quarters of it)."""
    cpus: Cpus = "0.5"
    """Headquarters: the bus's CPU limit."""
    pids: int = Field(default=128, ge=32, le=65536)
    """Headquarters: the bus's process limit."""
