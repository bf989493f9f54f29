"""What the Python code and the images agree on: ports inside the containers, environment
variable names, names on ai-net and paths. One place, so a port or a name cannot change on one
side only: the images get the values as build arguments (IMAGE_BUILD_ARGS), and
tests/test_contract.py fails when one of them is written anywhere else in components/ or images/.
"""

from __future__ import annotations

from typing import Final

# Ports inside the containers.
SSH_PORT = 2222  # sshd in every sandbox (images/headless/sshd_config)
NOVNC_PORT = 6080  # websockify serving noVNC in visual sandboxes (images/desktop)
VNC_PORT = 5900  # x11vnc behind websockify, loopback only (images/desktop)
DEVTOOLS_PORT = 9222  # Chromium's DevTools in a desktop, loopback only (the supervisor: ssh -L)
SUPERVISOR_PORT = 8000  # the supervisor's task API (images/supervisor)
MODEL_SERVER_PORT = 8080  # llama-server's OpenAI-compatible API (images/model-server)
EGRESS_PROXY_PORT = 3128  # squid in a sandbox's egress gateway (images/egress)
BUS_PORT = 6379  # redis-server, the bus of a fleet on several hosts (images/bus)

# The shared services: each one's name on ai-net, its folder under images/, its role label.
MODEL_SERVER: Final = "model-server"
SUPERVISOR: Final = "supervisor"
FLEET_KEYS: Final = "ssh-keys"  # the keys volume and the one-shot container that writes it
BUS: Final = "bus"  # headquarters' Redis (several hosts only)
BUS_DATA: Final = "bus-data"  # its kept volume
SUPERVISOR_HEALTH_BUS = "bus"  # the supervisor's /health field with its bus's state

# What the fleet names a sandbox's tailnet sidecar container: the sandbox's name + this.
TAILNET_SIDECAR_SUFFIX: Final = "-tailscale"
# The one-shot container that gives a sidecar's state volume its owner (planes/docker).
TAILNET_STATE_SUFFIX: Final = "-tailscale-state"

# A sandbox with an `egress:` list: its gateway container is the sandbox's name + this, and the
# names the sandbox's /etc/hosts gives the gateway's address (docs/egress.md).
EGRESS_GATEWAY_SUFFIX: Final = "-egress"
EGRESS_PROXY_HOST: Final = "egress-proxy"
# What such a sandbox's programs read to find the gateway: both spellings, as curl reads only
# the lower-case http_proxy and other tools only the upper-case one.
PROXY_ENV = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")
# Environment of the egress gateway (images/egress/egress-gateway).
EGRESS_SELF = "EGRESS_SELF"
EGRESS_SANDBOX = "EGRESS_SANDBOX"
EGRESS_NAMES = "EGRESS_NAMES"
EGRESS_WILDCARDS = "EGRESS_WILDCARDS"
EGRESS_PUBLISH = "EGRESS_PUBLISH"
EGRESS_SERVICES = "EGRESS_SERVICES"
EGRESS_DENY = "EGRESS_DENY"

# Environment the fleet sets in sandboxes (images/headless/sandbox-entrypoint, sandbox-sync).
SANDBOX_ENV_PREFIX = "SANDBOX_"
SANDBOX_AUTHORIZED_KEYS = "SANDBOX_AUTHORIZED_KEYS"  # cloud planes; Docker: FLEET_KEYS_PATH
# A Docker sandbox's SSH host key, derived by the fleet (the supervisor pins it): secret env,
# which the entrypoint writes for sshd and then drops. Not an upload: Docker copies a file into
# a created container by mounting its filesystem and every volume, 0.1-0.2 s before its start.
SANDBOX_HOST_KEY = "SANDBOX_HOST_KEY"
SANDBOX_SHELL_ENV = "SANDBOX_SHELL_ENV"  # names of the entry's env and secrets, for SSH shells
SANDBOX_GIT_TOKEN_VAR = "SANDBOX_GIT_TOKEN_VAR"  # which secret git's credential helper reads
SANDBOX_VNC_PASSWORD = "SANDBOX_VNC_PASSWORD"  # the desktop's VNC password (visual sandboxes)
SANDBOX_KNOWN_HOSTS = "SANDBOX_KNOWN_HOSTS"  # the keys writer's: every sandbox's host key
SANDBOX_NAME = "SANDBOX_NAME"
SANDBOX_MODE = "SANDBOX_MODE"
GIT_REPO = "GIT_REPO"
GIT_BRANCH = "GIT_BRANCH"
GIT_BASE = "GIT_BASE"
GIT_ENV = (GIT_REPO, GIT_BRANCH, GIT_BASE)
GIT_ENV_PREFIX = "GIT_"  # what the workspace sync passes on (git reads GIT_* itself too)

# Environment of the supervisor (images/supervisor/supervisor/config.py).
MODEL_URL = "MODEL_URL"
MODEL_MAX_TOKENS = "MODEL_MAX_TOKENS"
MODEL_API_KEY = "MODEL_API_KEY"  # the model server's key, for the supervisor's requests
SUPERVISOR_RUNTIME = "SUPERVISOR_RUNTIME"
SUPERVISOR_CLI_COMMAND = "SUPERVISOR_CLI_COMMAND"
SUPERVISOR_API_TOKEN = "SUPERVISOR_API_TOKEN"  # the task API's bearer token
SUPERVISOR_SSH_KEY = "SUPERVISOR_SSH_KEY"  # the fleet's client key into every Docker sandbox
SUPERVISOR_WORKERS = "SUPERVISOR_WORKERS"  # tasks of different sandboxes at once
SUPERVISOR_MAX_STEPS = "SUPERVISOR_MAX_STEPS"  # each task's budgets
SUPERVISOR_MAX_TOKENS = "SUPERVISOR_MAX_TOKENS"
SUPERVISOR_MAX_SECONDS = "SUPERVISOR_MAX_SECONDS"
SUPERVISOR_GIT_AUTHOR_SUFFIX = "SUPERVISOR_GIT_AUTHOR_SUFFIX"
# Which host of the fleet the supervisor runs on (docs/factories.md): its name and capabilities
# (comma-separated, sorted), its role, and the bus of a fleet on several hosts.
SUPERVISOR_HOST_NAME = "SUPERVISOR_HOST_NAME"
SUPERVISOR_HOST_CAPABILITIES = "SUPERVISOR_HOST_CAPABILITIES"
SUPERVISOR_ROLE = "SUPERVISOR_ROLE"  # single | headquarters | member (spec/hosts.py: Role)
# Every sandbox of the whole spec -> the host it lives on: a JSON object, sorted keys, compact.
# Set for headquarters and members only (a single host's sandboxes are all its own).
SUPERVISOR_FLEET_SANDBOXES = "SUPERVISOR_FLEET_SANDBOXES"
SUPERVISOR_BUS_URL = "SUPERVISOR_BUS_URL"  # redis://ADDRESS:PORT/0; empty for a single host
SUPERVISOR_BUS_PASSWORD = "SUPERVISOR_BUS_PASSWORD"  # the bus's password; absent when single

# Environment of the bus (images/bus/bus-server): its password, and the memory it may fill
# before it refuses writes (it never evicts a task).
BUS_PASSWORD = "BUS_PASSWORD"
BUS_MAXMEMORY = "BUS_MAXMEMORY"

# Environment of the model server: llama-server reads its API key from it.
LLAMA_API_KEY = "LLAMA_API_KEY"

# The cloud planes' keys: stack secrets in the same `sandbox-fleet:` namespace as the secrets
# sandboxes.yaml names. And the tailnet sidecar's key (tailscaled reads both spellings).
DAYTONA_API_KEY: Final = "DAYTONA_API_KEY"
MODAL_TOKEN_ID: Final = "MODAL_TOKEN_ID"
MODAL_TOKEN_SECRET: Final = "MODAL_TOKEN_SECRET"
TS_AUTHKEY: Final = "TS_AUTHKEY"

# The fleet's own credentials, by the names it reads them under: no sandbox may name one in
# `secrets:` or `env:` (components/spec/reserved.py), whatever value the stack holds for it.
FLEET_CREDENTIALS: Final[dict[str, str]] = {
    SUPERVISOR_API_TOKEN: "the supervisor's task API token",
    MODEL_API_KEY: "the model server's API key, as the supervisor sends it",
    LLAMA_API_KEY: "the model server's API key",
    DAYTONA_API_KEY: "the Daytona plane's API key",
    MODAL_TOKEN_ID: "the Modal plane's token id",
    MODAL_TOKEN_SECRET: "the Modal plane's token secret",
    TS_AUTHKEY: "a tailnet sidecar's auth key",
    "TS_AUTH_KEY": "a tailnet sidecar's auth key",
    # What the Tailscale provider reads when its config keys are unset (its schema says so).
    "TAILSCALE_API_KEY": "the Tailscale API key",
    "TAILSCALE_OAUTH_CLIENT_ID": "the Tailscale OAuth client id",
    "TAILSCALE_OAUTH_CLIENT_SECRET": "the Tailscale OAuth client secret",
    "TAILSCALE_IDENTITY_TOKEN": "the Tailscale workload identity token",
    SUPERVISOR_BUS_PASSWORD: "the bus's password, as the supervisor sends it",
    BUS_PASSWORD: "the bus's password",
}

# Daytona's own services (the self-hosted server, components/services/daytona_server): the
# port each listens on inside its container, as Daytona's v0.190.0 compose file has them.
DAYTONA_PORTS: Final[dict[str, int]] = {
    "api": 3000,
    "proxy": 4000,
    "runner": 3003,
    "ssh-gateway": 2222,
    "dex": 5556,
    "db": 5432,
    "redis": 6379,
    "minio": 9000,
    "registry": 6000,
}

# Paths inside the containers.
WORKSPACE_PATH = "/workspace"  # a sandbox's workspace volume
MEMORY_PATH = "/memory"  # its repository's memory volume, shared by the sandboxes of that repo
MIRROR_PATH = "/mirror"  # its repository's mirror (a bare clone), read-only: git's alternate
MODELS_PATH = "/models"  # the model-data volume in the model server
LOGS_PATH = "/logs"  # the logs volume in the supervisor
BUS_DATA_PATH = "/var/lib/bus"  # the bus's append-only file, on its kept volume
# The fleet's SSH public keys, a volume every Docker sandbox mounts read-only: a key added or
# removed is one file rewritten, never a sandbox restarted.
FLEET_KEYS_PATH = "/etc/ssh/fleet-keys"

# What each image under images/ is built with: its Dockerfile declares these ARGs, refuses to
# build without them, and hands them to its scripts as environment (SANDBOX_SSH_PORT, ...).
IMAGE_BUILD_ARGS: Final[dict[str, dict[str, str]]] = {
    "headless": {
        "SSH_PORT": str(SSH_PORT),
        "WORKSPACE_PATH": WORKSPACE_PATH,
        "FLEET_KEYS_PATH": FLEET_KEYS_PATH,
        "MEMORY_PATH": MEMORY_PATH,
        "MIRROR_PATH": MIRROR_PATH,
    },
    "desktop": {
        "NOVNC_PORT": str(NOVNC_PORT),
        "VNC_PORT": str(VNC_PORT),
        "DEVTOOLS_PORT": str(DEVTOOLS_PORT),
    },
    SUPERVISOR: {
        "SUPERVISOR_PORT": str(SUPERVISOR_PORT),
        "LOGS_PATH": LOGS_PATH,
        "SSH_PORT": str(SSH_PORT),
        "WORKSPACE_PATH": WORKSPACE_PATH,
        "FLEET_KEYS_PATH": FLEET_KEYS_PATH,
        "DEVTOOLS_PORT": str(DEVTOOLS_PORT),
        "MEMORY_PATH": MEMORY_PATH,
    },
    MODEL_SERVER: {"MODEL_SERVER_PORT": str(MODEL_SERVER_PORT), "MODELS_PATH": MODELS_PATH},
    "egress": {"PROXY_PORT": str(EGRESS_PROXY_PORT)},
    BUS: {"BUS_PORT": str(BUS_PORT), "BUS_DATA_PATH": BUS_DATA_PATH},
}
