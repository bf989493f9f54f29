"""The Daytona plane's group (`sandbox-fleet:daytona*` keys)."""

from __future__ import annotations

from pydantic import Field

from .group import SettingsGroup
from .values import Flag

INT32_MAX = 2**31 - 1  # the Daytona API's integers


class DaytonaSettings(SettingsGroup):
    """Stack config `sandbox-fleet:daytona*` keys (all optional)."""

    server: Flag = False
    """Run Daytona's own server (v0.190.0, open-source edition) on this stack's host, as
    containers: daytonaUrl and the API key then default to it (docs/daytona.md)"""
    url: str = ""
    """Daytona API URL (self-hosted: http://host:3000/api): `runtime: daytona` entries go there,
    key in the secret DAYTONA_API_KEY; preflight checks its /health (empty: no Daytona, or the
    stack's own server with daytonaServer)"""
    snapshot: str = ""
    """Daytona snapshot for `runtime: daytona` entries (empty: server default)"""
    target: str = ""
    """Daytona target region (empty: the organization's default)"""
    auto_stop_minutes: int = Field(default=30, ge=0, le=INT32_MAX)
    """Daytona stops a sandbox idle this long, in minutes (0: never)"""
    timeout_seconds: int = Field(default=600, ge=10, le=86400)
    """How long `pulumi up` waits for a Daytona sandbox to start"""
