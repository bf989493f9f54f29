"""The host group (`sandbox-fleet:host*` keys): which container engine the fleet runs on and,
for the ssh variant, how to reach it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv6Address
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from .values import Flag

# What ssh-keyscan prints after the host name: the key type and the key, nothing else (the
# line is handed to ssh as the only key it accepts).
_HOST_KEY = re.compile(
    r"^(ssh-(ed25519|rsa)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)"
    r"@openssh\.com) [A-Za-z0-9+/]+={0,2}$"
)
# Options that decide which host keys ssh trusts: the fleet sets them from hostSshHostKey.
_HOST_KEY_OPTIONS = re.compile(
    r"(StrictHostKeyChecking|UserKnownHostsFile|GlobalKnownHostsFile|KnownHostsCommand)", re.I
)
_USER = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_.-]*$")
_HOST_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


class HostVariant(StrEnum):
    LOCAL = "local"  # the Docker socket of the machine running `pulumi up`
    SSH = "ssh"  # a remote Docker engine over ssh:// (the tailnet address)
    PODMAN = "podman"  # rootful Podman's Docker-compatible socket
    PODMAN_WSL = "podman-wsl"  # Podman Machine under Debian WSL
    NONE = "none"  # cloud-only stack: no container host at all


@dataclass(frozen=True)
class SshAddress:
    """`ssh://[user@]host[:port]`, read into the parts ssh takes as -l, -p and the host."""

    user: str | None
    host: str
    port: int | None


def parse_ssh_address(value: str) -> SshAddress:
    """The parts of an ssh:// address, or ValueError saying what is wrong. A part that starts
    with '-' is refused: ssh (and the docker CLI's ssh helper) would read it as an option."""
    if not value.startswith("ssh://"):
        raise ValueError(f"{value!r} is not an ssh:// address (ssh://user@host[:port])")
    if value[len("ssh://") :].startswith("-"):
        raise ValueError(f"{value!r} starts with '-' after ssh://, which ssh reads as an option")
    url = urlsplit(value)
    if url.path or url.query or url.fragment:
        raise ValueError(f"{value!r} has a path, query or fragment; give ssh://user@host[:port]")
    if url.password is not None:
        raise ValueError(
            f"{value!r} carries a password; use a key (-i KEYFILE in sandbox-fleet:hostSshOpts)"
        )
    try:
        port = url.port
    except ValueError:
        port = 0
    if port == 0:
        raise ValueError(f"{value!r} has no valid port (1-65535)")
    host, user = url.hostname or "", url.username
    if not host:
        raise ValueError(f"{value!r} names no host (ssh://user@host[:port])")
    for what, part in (("user", user), ("host", host)):
        if part and part.startswith("-"):
            raise ValueError(f"{value!r}: its {what} '{part}' starts with '-', an ssh option")
    if user is not None and not _USER.match(user):
        raise ValueError(f"{value!r}: '{user}' is not a user name")
    if not (_HOST_NAME.match(host) or _is_ipv6(host)):
        raise ValueError(f"{value!r}: '{host}' is not a host name or address")
    return SshAddress(user, host, port)


def _is_ipv6(text: str) -> bool:
    try:
        IPv6Address(text)
    except ValueError:
        return False
    return True


class HostSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    variant: HostVariant = Field(
        HostVariant.LOCAL, description="local | ssh | podman | podman-wsl | none (cloud-only)"
    )
    name: str = Field("local", description="Host name; spec entries with `host:` go here")
    address: str = Field(
        "",
        validate_default=True,
        description="ssh://user@host[:port] of a remote engine (ssh variant)",
    )
    sshOpts: tuple[str, ...] = Field(
        (),
        description="ssh options (e.g. -i KEYFILE) of everything that reaches the ssh variant's "
        "host: the Docker provider, the preflight, the pids limits",
    )
    socket: str = Field("", description="Engine socket URL; empty = the variant's default")
    machine: str = Field("podman-machine-default", description="Podman Machine name (podman-wsl)")
    rootless: Flag = Field(
        False,
        description="The Podman engine runs rootless (podman, "
        "podman-wsl): preflight warns about visual sandboxes",
    )
    sshHostKey: str = Field(
        "",
        validate_default=True,
        description="The host's SSH host key, pinned for commands run on it over SSH "
        "(ssh-keyscan -t ed25519 HOST)",
    )

    @field_validator("address")
    @classmethod
    def _address(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("variant") is HostVariant.SSH:
            if not value:
                raise ValueError("required by hostVariant: ssh (ssh://user@host[:port])")
            parse_ssh_address(value)
        return value

    @field_validator("sshOpts")
    @classmethod
    def _ssh_opts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for option in value:
            if found := _HOST_KEY_OPTIONS.search(option):
                raise ValueError(
                    f"{option!r} sets {found[1]}, which the fleet sets itself so that ssh "
                    "accepts only sandbox-fleet:hostSshHostKey; remove it"
                )
        return value

    @field_validator("sshHostKey")
    @classmethod
    def _host_key(cls, value: str, info: ValidationInfo) -> str:
        if not value and info.data.get("variant") is HostVariant.SSH:
            raise ValueError(
                "required by hostVariant: ssh: without a pinned host key any server could "
                "answer; set it to `ssh-keyscan -t ed25519 HOST | cut -d' ' -f2-`"
            )
        if value and not _HOST_KEY.match(value):
            raise ValueError(
                f"'{value[:24]}...' is not a host key line (ssh-ed25519 AAAA..., without the "
                "host name: `ssh-keyscan -t ed25519 HOST | cut -d' ' -f2-`)"
            )
        return value

    @property
    def ssh_address(self) -> SshAddress:
        """The ssh variant's address in parts (checked when read)."""
        return parse_ssh_address(self.address)
