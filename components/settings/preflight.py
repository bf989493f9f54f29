"""The preflight group (`sandbox-fleet:preflight*` keys)."""

from __future__ import annotations

import ipaddress

from pydantic import Field

from .group import SettingsGroup
from .values import Flag

TAILNET_V4 = ipaddress.ip_network("100.64.0.0/10")  # where Tailscale assigns IPv4 addresses


class PreflightSettings(SettingsGroup):
    """Stack config `sandbox-fleet:preflight*` keys (all optional)."""

    enabled: Flag = True
    """Run the host checks at all (turning them off is logged as a warning)."""
    overcommit_ratio: float = Field(default=1.0, gt=0, le=16)
    """How far the fleet's summed memory limits may exceed the host (1.0 = never)."""
    cpu_overcommit_ratio: float = Field(default=4.0, gt=0, le=64)
    """The same for CPUs. CPU limits are caps that idle agents rarely reach, so 4.0."""
    timeout_seconds: int = Field(default=10, ge=1, le=300)
    """Seconds allowed for each probe (engine info, Daytona URL, tailscale ip)."""
