"""Value types of the stack settings: each refuses what the fleet cannot use, saying what was
given and what is allowed (the reader adds the file and the key)."""

from __future__ import annotations

import re
from ipaddress import IPv6Address, ip_address, ip_network
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

from ..sizes import format_size, parse_size

# Docker refuses a memory limit below 6 MiB; a smaller one rounded down to whole MiB would be 0,
# which Docker reads as "no limit at all".
MIN_MEMORY = 6 * 1024**2
MAX_MEMORY = 1024**4


def parse_flag(value: Any) -> bool:
    """A boolean setting: true or false (YAML's, or the text the engine hands over), nothing
    else. "yes" or "1" could be read either way, so it is refused rather than guessed."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in ("true", "false"):
        return value == "true"
    raise ValueError(f"{value!r} is not true or false")


def _memory(value: str) -> str:
    size = parse_size(value)  # the spec's parser: the same text is a size in both places
    if size < MIN_MEMORY:
        raise ValueError(
            f"{value!r} is less than {format_size(MIN_MEMORY)}, Docker's smallest memory limit"
        )
    if size > MAX_MEMORY:
        raise ValueError(f"{value!r} is more than {format_size(MAX_MEMORY)}")
    return value


def _model_file(value: str) -> str:
    """A path relative to the model-data volume's mount, which cannot lead out of it."""
    parts = value.split("/")
    if (
        value.startswith("/")
        or any(part in ("", ".", "..") for part in parts)
        or any(ord(c) < 32 or c == "\x7f" for c in value)
    ):
        raise ValueError(
            f"{value!r} is not a file in the model-data volume; give a path relative to it "
            "(model.gguf, llama/q4.gguf): no leading '/', no '..', '.' or empty parts"
        )
    return value


def _bind_address(value: str) -> str:
    address = ip_address(value)  # its ValueError names the value
    # An IPv6 socket bound to ::ffff:0.0.0.0 takes every IPv4 address, as 0.0.0.0 does.
    mapped = address.ipv4_mapped if isinstance(address, IPv6Address) else None
    if address.is_unspecified or (mapped is not None and mapped.is_unspecified):
        raise ValueError(
            f"'{value}' listens on every interface; give one address "
            "(127.0.0.1, or the host's tailnet IP)"
        )
    return value


_PUBLIC_KEY = re.compile(
    r"^(ssh-(ed25519|rsa)|ecdsa-sha2-nistp\d+|sk-ssh-ed25519@openssh\.com) \S+"
)


def _ssh_public_key(value: str) -> str:
    # One line: the keys are written one per line into the sandboxes' authorized_keys, where a
    # line break inside one entry would add a key nobody listed.
    if not _PUBLIC_KEY.match(value) or any(c in value for c in "\r\n\0"):
        raise ValueError(
            f"'{value[:24]}...' is not one SSH public key line (ssh-ed25519 AAAA... comment)"
        )
    return value


def _cpus(value: Any) -> float:
    try:
        cpus = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{value!r} is not a number of CPUs (e.g. 0.5 or 2)") from None
    if not 0.01 <= cpus <= 256:  # below 0.01 the CFS quota is under Docker's 1 ms minimum
        raise ValueError(f"{value!r} CPUs is out of range (0.01 to 256)")
    return cpus


def _address_range(value: str) -> str:
    try:
        network = ip_network(value, strict=False)
    except ValueError:
        raise ValueError(f"{value!r} is not an address or a CIDR range (203.0.113.7/32)") from None
    return str(network)


Flag = Annotated[bool, BeforeValidator(parse_flag)]
AddressRange = Annotated[str, AfterValidator(_address_range)]
BindAddress = Annotated[str, AfterValidator(_bind_address)]
SshPublicKey = Annotated[str, AfterValidator(_ssh_public_key)]
Cpus = Annotated[str, AfterValidator(lambda v: str(_cpus(v)))]  # declared as string: no floats
Memory = Annotated[str, AfterValidator(_memory)]
ModelFile = Annotated[
    str, AfterValidator(_model_file)
]  # declared as string, as written: 512Mi, 4Gi
