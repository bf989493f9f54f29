"""Each desktop's VNC password, derived from the stack's `desktopSecret` and the sandbox name.

Derived rather than generated, so `up` never churns it and nothing else needs storing: the same
secret and name give the same password on every run. VNC's authentication reads only the first
8 characters of a password, so it is 8 characters of a 64-letter alphabet (48 bits, no modulo
bias); the noVNC port is published only on the bind address, and x11vnc listens on loopback."""

from __future__ import annotations

import hashlib
import hmac
import string

import pulumi

ALPHABET = string.ascii_letters + string.digits + "-_"  # 64: one letter per 6 bits
LENGTH = 8  # what VNC authentication uses


def derive(seed: str, sandbox: str) -> str:
    digest = hmac.new(seed.encode(), f"vnc-password:{sandbox}".encode(), hashlib.sha256).digest()
    return "".join(ALPHABET[byte % len(ALPHABET)] for byte in digest[:LENGTH])


def desktop_password(seed: pulumi.Output[str], sandbox: str) -> pulumi.Output[str]:
    return pulumi.Output.secret(seed.apply(lambda value: derive(value, sandbox)))
