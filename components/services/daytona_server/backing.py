"""The services Daytona's compose file takes from elsewhere: Postgres, Redis, Dex (the login),
MinIO (object storage) and the registry (snapshots). Each asks for a credential here, derived
from the stack secret; docs/daytona.md lists every difference from the compose file."""

from __future__ import annotations

import pulumi
import yaml

from ...contract import DAYTONA_PORTS
from ...host.containers import Privileges
from .credentials import DASHBOARD_LOGIN
from .service import (
    DB,
    DB_NAME,
    DB_USER,
    DEX,
    LIMITS,
    MINIO,
    OIDC_CLIENT,
    REDIS,
    REGISTRY,
    S3_USER,
    ServerContext,
    Service,
    check,
    http_check,
)

# The official images' own users (postgres and redis: 999; dex: 1001). MinIO and the registry
# have none but root: they run as root without a single capability (docs/daytona.md).
POSTGRES_USER = REDIS_USER = Privileges("999:999")
DEX_USER = Privileges("1001:1001")
ROOT_WITHOUT_CAPABILITIES = Privileges("0:0")
DEX_CONFIG = "/etc/dex/config.yaml"
HTPASSWD = "/auth/htpasswd"
REGISTRY_DEBUG = "127.0.0.1:5001"  # its health endpoint, inside its container only


def db(x: ServerContext) -> Service:
    return Service(
        name=DB,
        image=x.settings.db_image,
        limits=LIMITS[DB],
        health=check(["pg_isready", "-q", "-h", "127.0.0.1", "-U", DB_USER, "-d", DB_NAME], "1m0s"),
        env={"POSTGRES_USER": DB_USER, "POSTGRES_DB": DB_NAME},
        computed_env={"POSTGRES_PASSWORD": x.credentials.db_password},
        # The image's volume (Postgres 18 keeps PGDATA in a versioned directory under it): a
        # fresh volume there is the postgres user's, so it runs as that user from the start.
        volumes={"db": "/var/lib/postgresql"},
        privileges=POSTGRES_USER,
    )


def redis(x: ServerContext) -> Service:
    password = x.credentials.redis_password
    return Service(
        name=REDIS,
        image=x.settings.redis_image,
        limits=LIMITS[REDIS],
        health=check(["redis-cli", "ping"]),
        # The password from the environment, so it is not in the container's command line.
        command=["sh", "-c", 'exec redis-server --requirepass "$REDIS_PASSWORD"'],
        computed_env={"REDIS_PASSWORD": password, "REDISCLI_AUTH": password},
        privileges=REDIS_USER,
    )


def dex(x: ServerContext) -> Service:
    s = x.settings
    port = DAYTONA_PORTS[DEX]
    return Service(
        name=DEX,
        image=s.dex_image,
        limits=LIMITS[DEX],
        # The compose file's health check.
        health=http_check(f"http://127.0.0.1:{port}/dex/.well-known/openid-configuration", "wget"),
        entrypoint=["sh", "-c", f"touch /var/dex/dex.db && exec dex serve {DEX_CONFIG}"],
        volumes={"dex": "/var/dex"},
        uploads={DEX_CONFIG: _dex_config(x)},
        ports={port: s.dex_port},
        privileges=DEX_USER,
    )


def _dex_config(x: ServerContext) -> pulumi.Output[str]:
    """The compose file's dex/config.yaml, with the public URLs on the bind address and the
    login's password derived (the compose file's is the published `password`)."""
    s = x.settings
    values = pulumi.Output.all(
        issuer=x.public(s.dex_port, "/dex"),
        dashboard=x.public(s.api_port),
        proxy=x.proxy_domain(),
        hash=x.credentials.dashboard_hash,
    )

    def render(v: dict[str, str]) -> str:
        return yaml.safe_dump({
            "issuer": v["issuer"],
            "storage": {"type": "sqlite3", "config": {"file": "/var/dex/dex.db"}},
            "web": {"http": f"0.0.0.0:{DAYTONA_PORTS[DEX]}", "allowedOrigins": [v["dashboard"]],
                    "allowedHeaders": ["x-requested-with"]},
            "staticClients": [{
                "id": OIDC_CLIENT, "name": "Daytona", "public": True,
                "redirectURIs": [v["dashboard"], f"{v['dashboard']}/dashboard",
                                 f"{v['dashboard']}/api/oauth2-redirect.html",
                                 f"http://{v['proxy']}/callback"],
            }],
            "enablePasswordDB": True,
            "staticPasswords": [
                {"email": DASHBOARD_LOGIN, "hash": v["hash"], "username": "admin",
                 "userID": "1234"}
            ],
        }, sort_keys=False)  # fmt: skip

    return pulumi.Output.secret(values.apply(render))


def minio(x: ServerContext) -> Service:
    return Service(
        name=MINIO,
        image=x.settings.minio_image,
        limits=LIMITS[MINIO],
        # As Daytona's own end-to-end compose file checks it.
        health=http_check(f"http://127.0.0.1:{DAYTONA_PORTS[MINIO]}/minio/health/ready"),
        command=["server", "/data"],
        env={"MINIO_ROOT_USER": S3_USER, "MINIO_IDENTITY_STS_EXPIRY": "24h"},
        computed_env={"MINIO_ROOT_PASSWORD": x.credentials.minio_password},
        volumes={"minio": "/data"},
        privileges=ROOT_WITHOUT_CAPABILITIES,
    )


def registry(x: ServerContext) -> Service:
    return Service(
        name=REGISTRY,
        image=x.settings.registry_image,
        limits=LIMITS[REGISTRY],
        health=http_check(f"http://{REGISTRY_DEBUG}/debug/health", "wget"),
        env={
            "REGISTRY_HTTP_ADDR": f":{DAYTONA_PORTS[REGISTRY]}",
            "REGISTRY_HTTP_DEBUG_ADDR": REGISTRY_DEBUG,
            "REGISTRY_STORAGE_DELETE_ENABLED": "true",
            "REGISTRY_AUTH": "htpasswd",
            "REGISTRY_AUTH_HTPASSWD_REALM": "daytona",
            "REGISTRY_AUTH_HTPASSWD_PATH": HTPASSWD,
        },
        uploads={HTPASSWD: x.credentials.registry_htpasswd},
        volumes={"registry": "/var/lib/registry"},
        privileges=ROOT_WITHOUT_CAPABILITIES,
    )


# The volumes whose loss loses users' work: protected as well as kept.
PROTECTED_VOLUMES = ("db", "minio", "registry")
BACKING = (db, redis, dex, minio, registry)
