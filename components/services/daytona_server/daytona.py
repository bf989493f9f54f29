"""Daytona's own services (API, proxy, runner, SSH gateway): the compose file's settings, with
the fleet's derived credentials and public URLs in place of its fixed ones. docs/daytona.md
lists every difference from the compose file and why."""

from __future__ import annotations

import pulumi

from ...contract import DAYTONA_PORTS
from ...host.containers import PRIVILEGED_ENGINE, healthcheck
from ...sizes import GIB, parse_size
from .credentials import REGISTRY_USER, ServerCredentials
from .service import (
    API,
    API_URL,
    DB,
    DB_NAME,
    DB_USER,
    DEX,
    DEX_URL,
    LIMITS,
    MINIO,
    MINIO_URL,
    OIDC_CLIENT,
    PROXY,
    REDIS,
    REGISTRY,
    REGISTRY_URL,
    RUNNER,
    RUNNER_URL,
    S3_BUCKET,
    S3_REGION,
    S3_USER,
    SSH_GATEWAY,
    ServerContext,
    Service,
    check,
    http_check,
    runner_limits,
)

# The compose file's quotas and scheduling thresholds, as it sets them.
API_DEFAULTS = {
    "NODE_ENV": "production",
    "ENVIRONMENT": "docker-compose",
    "MAX_AUTO_ARCHIVE_INTERVAL": "43200",
    "MAINTENANCE_MODE": "false",
    "DEFAULT_RUNNER_NAME": "default",
    "DEFAULT_REGION_ID": "us",
    "DEFAULT_REGION_NAME": "us",
    "DEFAULT_REGION_ENFORCE_QUOTAS": "false",
    "DEFAULT_ORG_QUOTA_TOTAL_CPU_QUOTA": "10000",
    "DEFAULT_ORG_QUOTA_TOTAL_MEMORY_QUOTA": "10000",
    "DEFAULT_ORG_QUOTA_TOTAL_DISK_QUOTA": "100000",
    "DEFAULT_ORG_QUOTA_MAX_CPU_PER_SANDBOX": "100",
    "DEFAULT_ORG_QUOTA_MAX_MEMORY_PER_SANDBOX": "100",
    "DEFAULT_ORG_QUOTA_MAX_DISK_PER_SANDBOX": "1000",
    "DEFAULT_ORG_QUOTA_SNAPSHOT_QUOTA": "1000",
    "DEFAULT_ORG_QUOTA_MAX_SNAPSHOT_SIZE": "1000",
    "DEFAULT_ORG_QUOTA_VOLUME_QUOTA": "10000",
    "RUNNER_DECLARATIVE_BUILD_SCORE_THRESHOLD": "10",
    "RUNNER_AVAILABILITY_SCORE_THRESHOLD": "10",
    "RUNNER_START_SCORE_THRESHOLD": "3",
    "SKIP_USER_EMAIL_VERIFICATION": "true",
    "RUN_MIGRATIONS": "true",
    # No OpenTelemetry collector, no PostHog analytics, no mail server (docs/daytona.md).
    "OTEL_ENABLED": "false",
    "SMTP_HOST": "",
}
# Where the API finds the other services: their names on the server's network.
API_CONNECTIONS = {
    "PORT": str(DAYTONA_PORTS[API]),
    "DB_HOST": DB,
    "DB_PORT": str(DAYTONA_PORTS[DB]),
    "DB_USERNAME": DB_USER,
    "DB_DATABASE": DB_NAME,
    "REDIS_HOST": REDIS,
    "REDIS_PORT": str(DAYTONA_PORTS[REDIS]),
    "OIDC_CLIENT_ID": OIDC_CLIENT,
    "OIDC_ISSUER_BASE_URL": DEX_URL,
    "OIDC_AUDIENCE": OIDC_CLIENT,
    "S3_ENDPOINT": MINIO_URL,
    "S3_STS_ENDPOINT": f"{MINIO_URL}/minio/v1/assume-role",
    "S3_REGION": S3_REGION,
    "S3_ACCESS_KEY": S3_USER,
    "S3_DEFAULT_BUCKET": S3_BUCKET,
    "S3_ACCOUNT_ID": "/",
    "S3_ROLE_NAME": "/",
    "PROXY_PROTOCOL": "http",
    **{
        f"{kind}_REGISTRY_{key}": value
        for kind in ("TRANSIENT", "INTERNAL")
        for key, value in (
            ("URL", REGISTRY_URL),
            ("ADMIN", REGISTRY_USER),
            ("PROJECT_ID", "daytona"),
        )
    },
}
# The API answers /api/health/ready only with the health-check key, after asking Postgres and
# Redis: a server that says healthy can take work.
API_HEALTH = (
    'curl -fsS -o /dev/null -H "Authorization: Bearer $HEALTH_CHECK_API_KEY" '
    f"http://127.0.0.1:{DAYTONA_PORTS[API]}/api/health/ready"
)


def api(x: ServerContext) -> Service:
    s, c = x.settings, x.credentials
    runner = {
        "DEFAULT_RUNNER_DOMAIN": f"{RUNNER}:{DAYTONA_PORTS[RUNNER]}",
        "DEFAULT_RUNNER_API_URL": RUNNER_URL,
        "DEFAULT_RUNNER_PROXY_URL": RUNNER_URL,
        # What the runner offers the scheduler: its own limits (whole CPUs, GB).
        "DEFAULT_RUNNER_CPU": str(max(1, int(float(s.runner_cpus)))),
        "DEFAULT_RUNNER_MEMORY": str(max(1, parse_size(s.runner_memory) // GIB)),
        "DEFAULT_RUNNER_DISK": str(s.disk_gib),
    }
    return Service(
        name=API,
        image=s.api_image,
        limits=LIMITS[API],
        health=healthcheck(API_HEALTH, interval="10s", start_period="2m0s", timeout="5s"),
        env=API_DEFAULTS | API_CONNECTIONS | runner | {"DEFAULT_SNAPSHOT": s.default_snapshot},
        computed_env=_api_secrets(c) | _api_public(x),
        ports={DAYTONA_PORTS[API]: s.api_port},
        after=(DB, REDIS, DEX, MINIO, REGISTRY, RUNNER),
    )


def _api_secrets(c: ServerCredentials) -> dict[str, pulumi.Output[str]]:
    return {
        "ADMIN_API_KEY": c.admin_api_key,
        "ENCRYPTION_KEY": c.encryption_key,
        "ENCRYPTION_SALT": c.encryption_salt,
        "DB_PASSWORD": c.db_password,
        "REDIS_PASSWORD": c.redis_password,
        "S3_SECRET_KEY": c.minio_password,
        "TRANSIENT_REGISTRY_PASSWORD": c.registry_password,
        "INTERNAL_REGISTRY_PASSWORD": c.registry_password,
        "PROXY_API_KEY": c.proxy_api_key,
        "DEFAULT_RUNNER_API_KEY": c.runner_token,
        "SSH_GATEWAY_API_KEY": c.ssh_gateway_api_key,
        "SSH_GATEWAY_PUBLIC_KEY": c.gateway_public_key,
        "HEALTH_CHECK_API_KEY": c.health_check_key,
    }


def _api_public(x: ServerContext) -> dict[str, pulumi.Output[str]]:
    """The addresses the API hands to users' machines: on the bind address, not localhost."""
    s = x.settings
    domain = x.proxy_domain()
    gateway = x.public(s.ssh_gateway_port).apply(lambda u: u.removeprefix("http://"))
    return {
        "PUBLIC_OIDC_DOMAIN": x.public(s.dex_port, "/dex"),
        "DASHBOARD_URL": x.public(s.api_port, "/dashboard"),
        "DASHBOARD_BASE_API_URL": x.public(s.api_port),
        "PROXY_DOMAIN": domain,
        "PROXY_TEMPLATE_URL": domain.apply(lambda d: f"http://{{{{PORT}}}}-{{{{sandboxId}}}}.{d}"),
        "SSH_GATEWAY_URL": gateway,
        "SSH_GATEWAY_COMMAND": gateway.apply(
            lambda g: f"ssh -p {g.rsplit(':', 1)[1]} {{{{TOKEN}}}}@{g.rsplit(':', 1)[0]}"
        ),
    }


def proxy(x: ServerContext) -> Service:
    s, c = x.settings, x.credentials
    return Service(
        name=PROXY,
        image=s.proxy_image,
        limits=LIMITS[PROXY],
        # The image's own health check.
        health=http_check(f"http://127.0.0.1:{DAYTONA_PORTS[PROXY]}/health"),
        env={
            "DAYTONA_API_URL": API_URL,
            "PROXY_PORT": str(DAYTONA_PORTS[PROXY]),
            "PROXY_PROTOCOL": "http",
            "OIDC_CLIENT_ID": OIDC_CLIENT,
            "OIDC_CLIENT_SECRET": "",
            "OIDC_DOMAIN": DEX_URL,
            "OIDC_AUDIENCE": OIDC_CLIENT,
            "REDIS_HOST": REDIS,
            "REDIS_PORT": str(DAYTONA_PORTS[REDIS]),
            "TOOLBOX_ONLY_MODE": "false",
            "PREVIEW_WARNING_ENABLED": "false",
        },
        computed_env={
            "PROXY_API_KEY": c.proxy_api_key,
            "REDIS_PASSWORD": c.redis_password,
            "OIDC_PUBLIC_DOMAIN": x.public(s.dex_port, "/dex"),
        },
        ports={DAYTONA_PORTS[PROXY]: s.proxy_port},
        after=(API,),
    )


def runner(x: ServerContext) -> Service:
    """A Docker engine of its own (the image is docker:dind), in which Daytona creates the
    sandboxes, privileged. The one privileged container of the fleet (docs/daytona.md)."""
    s, c = x.settings, x.credentials
    return Service(
        name=RUNNER,
        image=s.runner_image,
        limits=runner_limits(s),
        # The image's own health check.
        health=http_check(f"http://127.0.0.1:{DAYTONA_PORTS[RUNNER]}/", start_period="1m0s"),
        env={
            "ENVIRONMENT": "development",
            "API_PORT": str(DAYTONA_PORTS[RUNNER]),
            "LOG_FILE_PATH": "/home/daytona/runner/runner.log",
            # Its sandboxes share the runner's own limits (the compose file's reason: cgroups
            # cannot be split inside a Docker-in-Docker engine).
            "RESOURCE_LIMITS_DISABLED": "true",
            "AWS_ENDPOINT_URL": MINIO_URL,
            "AWS_REGION": S3_REGION,
            "AWS_ACCESS_KEY_ID": S3_USER,
            "AWS_DEFAULT_BUCKET": S3_BUCKET,
            "DAYTONA_API_URL": API_URL,
            "RUNNER_DOMAIN": RUNNER,
            "SSH_GATEWAY_ENABLE": "true",
            "INTER_SANDBOX_NETWORK_ENABLED": "false",
        },
        computed_env={
            "DAYTONA_RUNNER_TOKEN": c.runner_token,
            "AWS_SECRET_ACCESS_KEY": c.minio_password,
            "SSH_PUBLIC_KEY": c.gateway_public_key,
        },
        volumes={"runner-docker": "/var/lib/docker"},  # its engine's images and sandboxes
        after=(MINIO, REGISTRY),
        privileges=PRIVILEGED_ENGINE,
    )


def ssh_gateway(x: ServerContext) -> Service:
    s, c = x.settings, x.credentials
    port = DAYTONA_PORTS[SSH_GATEWAY]
    return Service(
        name=SSH_GATEWAY,
        image=s.ssh_gateway_image,
        limits=LIMITS[SSH_GATEWAY],
        # Its image has no health check and no HTTP: is anything listening on its port? (The
        # kernel's socket table, read with the image's busybox grep.)
        health=check(f"grep -qiE ':{port:04X} [0-9A-F]+:0000 0A' /proc/net/tcp /proc/net/tcp6"),
        env={"API_URL": API_URL, "SSH_GATEWAY_PORT": str(port)},
        computed_env={
            "API_KEY": c.ssh_gateway_api_key,
            "SSH_PRIVATE_KEY": c.gateway_private_key,
            "SSH_HOST_KEY": c.gateway_host_key,
        },
        ports={port: s.ssh_gateway_port},
        after=(API,),
    )
