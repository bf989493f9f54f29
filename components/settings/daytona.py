"""The Daytona plane's group (`sandbox-fleet:daytona*` keys)."""

from __future__ import annotations

from pydantic import Field

from .group import SettingsGroup

INT32_MAX = 2**31 - 1  # the Daytona API's integers


class DaytonaSettings(SettingsGroup):
    """Stack config `sandbox-fleet:daytona*` keys (all optional)."""

    url: str = ""
    """Daytona API URL (self-hosted: http://host:3000/api): `runtime: daytona` entries go there,
    key in the secret DAYTONA_API_KEY; preflight checks its /health (empty: no Daytona)"""
    snapshot: str = ""
    """Daytona snapshot for `runtime: daytona` entries (empty: server default)"""
    target: str = ""
    """Daytona target region (empty: the organization's default)"""
    auto_stop_minutes: int = Field(default=30, ge=0, le=INT32_MAX)
    """Daytona stops a sandbox idle this long, in minutes (0: never)"""
    timeout_seconds: int = Field(default=600, ge=10, le=86400)
    """How long `pulumi up` waits for a Daytona sandbox to start"""
