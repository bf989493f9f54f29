"""The Modal plane's group (`sandbox-fleet:modal*` keys)."""

from __future__ import annotations

from pydantic import Field

from .group import SettingsGroup
from .values import Flag


class ModalSettings(SettingsGroup):
    """Stack config `sandbox-fleet:modal*` keys (all optional)."""

    enabled: Flag = False
    """Create `runtime: modal` entries on Modal (tokens in the secrets MODAL_TOKEN_ID and
    MODAL_TOKEN_SECRET)"""
    app: str = "sandbox-fleet"
    """Modal app the sandboxes belong to"""
    image: str = ""
    """Registry image for Modal sandboxes (empty: Debian slim with git)"""
    timeout_seconds: int = Field(default=86400, ge=60, le=86400)
    """Lifetime of a Modal sandbox (Modal allows 24 h)"""
    idle_timeout_seconds: int = Field(default=0, ge=0, le=86400)
    """Modal ends a sandbox idle this long, in seconds (0: never; at most its 24 h lifetime)"""
