"""The tailnet group (`sandbox-fleet:tailnet*` keys) and the name rules it checks."""

from __future__ import annotations

import ipaddress
import re

from pydantic import Field, field_validator, model_validator

from ..contract import NOVNC_PORT, SSH_PORT
from .group import SettingsGroup
from .preflight import TAILNET_V4
from .values import Flag

MAX_KEY_EXPIRY = 90 * 24 * 3600  # Tailscale's limit for auth keys
TAG_RE = re.compile(r"^tag:[A-Za-z][A-Za-z0-9-]*$")
GROUP_RE = re.compile(r"^group:[A-Za-z0-9][A-Za-z0-9._-]*$")
USER_RE = re.compile(r"^[^@\s*:]+@[^@\s*:]+$")


def check_owner(owner: str) -> str:
    """Return `owner` when it is a user e-mail or a group, else raise ValueError."""
    if GROUP_RE.match(owner) or USER_RE.match(owner):
        return owner
    raise ValueError(
        f"owner {owner!r} must be a user e-mail (alice@example.com) or a group (group:fleet); "
        "'*', autogroups and tags would open the fleet wider than one owner"
    )


def check_tag_owner(owner: str) -> str:
    """Return `owner` when it may own a tag here: a user, a group, a tag or autogroup:admin."""
    if owner == "autogroup:admin" or TAG_RE.match(owner):
        return owner
    try:
        return check_owner(owner)
    except ValueError:
        raise ValueError(
            f"tag owner {owner!r} must be a user e-mail, group:<name>, tag:<name> or "
            "autogroup:admin"
        ) from None


def check_tag(tag: str) -> str:
    """Return `tag` when it is a valid Tailscale tag (tag:<letter><letters/digits/dashes>)."""
    if TAG_RE.match(tag):
        return tag
    raise ValueError(f"{tag!r} is not a Tailscale tag: use tag:<name> (letters, digits, dashes)")


class TailnetSettings(SettingsGroup):
    """Stack config `sandbox-fleet:tailnet*` keys (read when tailnetEnabled is true)."""

    owner: str
    """The user (alice@example.com) or group (group:fleet) granted the fleet's ports."""
    host_tag: str = "tag:sandbox-host"
    """Tag of the host device; grants target it, host auth keys carry it."""
    sandbox_tag: str = "tag:sandbox"
    """Tag of sandboxes that join the tailnet themselves."""
    address: str | None = None
    """The host's tailnet IPv4: the bind address of every published port."""
    discover_address: Flag = False
    """Read the address on the host with `tailscale ip -4` instead (pulumi-command)."""
    host_device: str | None = None
    """Tailnet hostname or MagicDNS name of the host, to keep its tags (DeviceTags)."""
    manage_acl: Flag = False
    """Own the whole tailnet policy (tailscale.Acl): base policy file plus generated grants."""
    base_policy_file: str = "policy/base.hujson"
    """HuJSON base policy, relative to the project directory."""
    overwrite_existing_policy: Flag = False
    """Let the first `up` replace a policy that was not imported (overwrite_existing_content)."""
    key_expiry_seconds: int = Field(default=MAX_KEY_EXPIRY, ge=300, le=MAX_KEY_EXPIRY)
    """How long new auth keys can be used to join (at most 90 days)."""
    key_rotation: str = Field(default="1", pattern=r"^[A-Za-z0-9-]{1,16}$")
    """Opaque label; changing it replaces every auth key the fleet minted."""
    sandbox_identity: Flag = False
    """Allow sandboxes to join the tailnet themselves (tailscaled sidecar, its state kept)."""
    sandbox_ports: tuple[int, ...] = (SSH_PORT, NOVNC_PORT)
    """Ports granted on sandboxes that have their own identity (sshd, noVNC)."""
    magic_dns_suffix: str | None = None
    """Tailnet DNS name (tail1234.ts.net) to give full MagicDNS names; else short names."""
    extra_tag_owners: tuple[str, ...] = ()
    """More owners of the fleet's tags, e.g. the tag of the OAuth client that mints keys."""

    @field_validator("owner")
    @classmethod
    def _owner(cls, value: str) -> str:
        return check_owner(value)

    @field_validator("extra_tag_owners")
    @classmethod
    def _extra_owners(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(check_tag_owner(owner) for owner in value)

    @field_validator("host_tag", "sandbox_tag")
    @classmethod
    def _tag(cls, value: str) -> str:
        return check_tag(value)

    @field_validator("address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ip = ipaddress.IPv4Address(value)
        except ValueError:
            raise ValueError(f"address {value!r} is not an IPv4 address") from None
        if ip not in TAILNET_V4:
            raise ValueError(
                f"address {value} is outside the tailnet range {TAILNET_V4}; binding there "
                "would publish the fleet's ports off the tailnet"
            )
        return value

    @field_validator("sandbox_ports")
    @classmethod
    def _ports(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        bad = [p for p in value if not 1 <= p <= 65535]
        if bad or not value:
            raise ValueError("give TCP ports 1-65535")
        return tuple(sorted(set(value)))

    @model_validator(mode="after")
    def _rules(self) -> TailnetSettings:
        # Rules across keys: the messages name the stack keys as the user writes them.
        if (self.address is None) == (not self.discover_address):
            raise ValueError(
                "set exactly one of sandbox-fleet:tailnetAddress (the host's tailnet IPv4) "
                "or sandbox-fleet:tailnetDiscoverAddress: true"
            )
        if self.host_tag == self.sandbox_tag:
            raise ValueError(
                "sandbox-fleet:tailnetHostTag and sandbox-fleet:tailnetSandboxTag must differ, "
                f"both are {self.host_tag}"
            )
        if self.overwrite_existing_policy and not self.manage_acl:
            raise ValueError(
                "sandbox-fleet:tailnetOverwriteExistingPolicy only applies with "
                "sandbox-fleet:tailnetManageAcl: true"
            )
        return self
