"""The fleet's own SSH identities, derived from the stack secret `sshSecret`:
- the supervisor's client key, authorised in every Docker sandbox (the keys volume);
- each sandbox's host key, which the supervisor pins (known_hosts in the keys volume).

Derived (HMAC-SHA256 of a purpose under the secret, as an Ed25519 seed), so `up` never changes
them and a replaced sandbox keeps its host key: the supervisor trusts no key on first use, and
nothing has to be stored. The private keys are written in OpenSSH's own format with a check
number taken from the seed, so the text, too, is the same at every run (ssh-keygen would pick a
random one, and a new text would replace the container it is given to)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

KEY_TYPE = b"ssh-ed25519"
SUPERVISOR_PURPOSE = "supervisor client key"


def host_purpose(sandbox: str) -> str:
    return f"sandbox host key:{sandbox}"


@dataclass(frozen=True)
class SshIdentity:
    private_key: str  # OpenSSH private key file text (secret)
    public_key: str  # `ssh-ed25519 AAAA... comment`


def derive(secret: str, purpose: str, comment: str) -> SshIdentity:
    seed = hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()
    public = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    line = public.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode()
    return SshIdentity(_openssh_private_key(seed, raw, comment), f"{line} {comment}")


def _string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def _openssh_private_key(seed: bytes, public: bytes, comment: str) -> str:
    """PROTOCOL.key's unencrypted `openssh-key-v1` container for one Ed25519 key."""
    blob = _string(KEY_TYPE) + _string(public)
    check = hashlib.sha256(b"check" + seed).digest()[:4]
    private = check + check + blob + _string(seed + public) + _string(comment.encode())
    private += bytes(range(1, 1 + (-len(private) % 8)))  # pad to the cipher block (8 for none)
    body = b"openssh-key-v1\0" + _string(b"none") + _string(b"none") + _string(b"")
    body += struct.pack(">I", 1) + _string(blob) + _string(private)
    text = base64.b64encode(body).decode()
    lines = [text[i : i + 70] for i in range(0, len(text), 70)]
    return "\n".join(
        ["-----BEGIN OPENSSH PRIVATE KEY-----", *lines, "-----END OPENSSH PRIVATE KEY-----", ""]
    )


def supervisor_identity(secret: pulumi.Output[str]) -> pulumi.Output[SshIdentity]:
    return secret.apply(lambda s: derive(s, SUPERVISOR_PURPOSE, "sandbox-fleet-supervisor"))


def host_private_key(secret: pulumi.Output[str], sandbox: str) -> pulumi.Output[str]:
    """The sandbox's host key (secret: only that sandbox gets it)."""
    return pulumi.Output.secret(
        secret.apply(lambda s: derive(s, host_purpose(sandbox), sandbox).private_key)
    )


def known_hosts(secret: pulumi.Output[str], sandboxes: Sequence[str]) -> pulumi.Output[str]:
    """`NAME ssh-ed25519 AAAA...` for each sandbox, looked up under its name (HostKeyAlias):
    public keys, so not secret."""
    lines = secret.apply(
        lambda s: "\n".join(
            f"{name} {derive(s, host_purpose(name), name).public_key}" for name in sandboxes
        )
    )
    return pulumi.Output.unsecret(lines)


def supervisor_public_key(secret: pulumi.Output[str]) -> pulumi.Output[str]:
    return pulumi.Output.unsecret(supervisor_identity(secret).apply(lambda i: i.public_key))


def supervisor_private_key(secret: pulumi.Output[str]) -> pulumi.Output[str]:
    return pulumi.Output.secret(supervisor_identity(secret).apply(lambda i: i.private_key))
