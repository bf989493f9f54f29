"""Every credential of the own Daytona server, derived from the stack secret `daytonaServerSecret`.

HMAC-SHA256 of a purpose under the secret, as the fleet's SSH keys are (host/ssh_identity.py):
`up` never changes them, nothing has to be stored, and each is a Pulumi secret from the start.
Dex and the registry read bcrypt hashes; bcrypt's salt is taken from the secret too, so their
files are the same text at every run (a fresh salt would replace the container each time).
Daytona's compose file ships fixed values for all of these (and a published SSH key pair): none
of them is used here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

import bcrypt
import pulumi

from ...host.ssh_identity import derive

# bcrypt's own base64 alphabet, for a salt it accepts.
_BCRYPT_ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
BCRYPT_COST = 10
DASHBOARD_LOGIN = "dev@daytona.io"  # the compose file's Dex login; its password is derived here
REGISTRY_USER = "admin"  # the compose file's registry user (the API hands it to the runner)


def hex_key(secret: str, purpose: str) -> str:
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).hexdigest()


def bcrypt_hash(secret: str, purpose: str, password: str) -> str:
    """`password` hashed with a salt derived from `secret`: the same text every run."""
    raw = hmac.new(secret.encode(), f"salt:{purpose}".encode(), hashlib.sha256).digest()[:16]
    bits = int.from_bytes(raw, "big") << 4  # 128 bits in 22 six-bit characters
    salt = "".join(_BCRYPT_ALPHABET[(bits >> (6 * i)) & 63] for i in reversed(range(22)))
    prefix = f"$2b${BCRYPT_COST:02d}${salt}".encode()
    return bcrypt.hashpw(password.encode(), prefix).decode()


@dataclass(frozen=True)
class ServerCredentials:
    """Each value a secret Output; see `server_credentials`."""

    admin_api_key: pulumi.Output[str]  # the API's admin key: what the Daytona plane uses
    db_password: pulumi.Output[str]
    redis_password: pulumi.Output[str]
    minio_password: pulumi.Output[str]
    encryption_key: pulumi.Output[str]
    encryption_salt: pulumi.Output[str]
    proxy_api_key: pulumi.Output[str]
    runner_token: pulumi.Output[str]
    ssh_gateway_api_key: pulumi.Output[str]
    health_check_key: pulumi.Output[str]
    registry_password: pulumi.Output[str]
    registry_htpasswd: pulumi.Output[str]
    dashboard_password: pulumi.Output[str]
    dashboard_hash: pulumi.Output[str]
    gateway_private_key: pulumi.Output[str]  # base64 of the OpenSSH text, as Daytona reads it
    gateway_public_key: pulumi.Output[str]  # base64 of the authorized_keys line
    gateway_host_key: pulumi.Output[str]


def server_credentials(secret: pulumi.Output[str]) -> ServerCredentials:
    def key(purpose: str, prefix: str = "") -> pulumi.Output[str]:
        return pulumi.Output.secret(secret.apply(lambda s: prefix + hex_key(s, purpose)))

    def ssh(purpose: str, public: bool = False) -> pulumi.Output[str]:
        def encoded(s: str) -> str:
            identity = derive(s, f"daytona {purpose}", f"daytona-{purpose}")
            text = identity.public_key if public else identity.private_key
            return base64.b64encode(text.encode()).decode()

        return pulumi.Output.secret(secret.apply(encoded))

    registry_password = key("registry password")
    dashboard_password = key("dashboard password")
    return ServerCredentials(
        admin_api_key=key("admin api key", "dtn_"),
        db_password=key("db password"),
        redis_password=key("redis password"),
        minio_password=key("minio password"),
        encryption_key=key("encryption key"),
        encryption_salt=key("encryption salt"),
        proxy_api_key=key("proxy api key"),
        runner_token=key("runner token"),
        ssh_gateway_api_key=key("ssh gateway api key"),
        health_check_key=key("health check key"),
        registry_password=registry_password,
        registry_htpasswd=pulumi.Output.all(secret, registry_password).apply(
            lambda a: f"{REGISTRY_USER}:{bcrypt_hash(a[0], 'registry', a[1])}\n"
        ),
        dashboard_password=dashboard_password,
        dashboard_hash=pulumi.Output.all(secret, dashboard_password).apply(
            lambda a: bcrypt_hash(a[0], "dashboard", a[1])
        ),
        gateway_private_key=ssh("gateway key"),
        gateway_public_key=ssh("gateway key", public=True),
        gateway_host_key=ssh("gateway host key"),
    )
