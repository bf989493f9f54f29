"""What a sandbox's entrypoint and workspace sync read from its environment, on every plane."""

from __future__ import annotations

from collections.abc import Sequence

from ..contract import (
    GIT_BASE,
    GIT_BRANCH,
    GIT_REPO,
    SANDBOX_AUTHORIZED_KEYS,
    SANDBOX_GIT_TOKEN_VAR,
    SANDBOX_MODE,
    SANDBOX_NAME,
    SANDBOX_SHELL_ENV,
)
from ..spec import SandboxSpec


def sandbox_env(spec: SandboxSpec, authorized_keys: Sequence[str] | None) -> dict[str, str]:
    """Plain (non-secret) environment: the user's env, then what the image reads.

    `authorized_keys` go in as a variable only on the cloud planes, which have nowhere else to
    put them; a Docker sandbox reads the fleet's keys volume instead (None here), so adding a key
    restarts nothing. SANDBOX_SHELL_ENV names the entry's own variables, which the entrypoint
    hands to SSH sessions; it is left out when there are none, so entries without env or secrets
    keep the environment they had."""
    env = {
        **dict(spec.env),
        SANDBOX_NAME: spec.name,
        SANDBOX_MODE: spec.mode.value,
        GIT_REPO: spec.repo or "",
        GIT_BRANCH: spec.branch,
        GIT_BASE: spec.base,
    }
    if spec.repo_token is not None:  # the name only: the value is one of the entry's secrets
        env[SANDBOX_GIT_TOKEN_VAR] = spec.repo_token
    if authorized_keys is not None:
        env[SANDBOX_AUTHORIZED_KEYS] = "\n".join(authorized_keys)
    shell_names = sorted({*dict(spec.env), *spec.secrets})
    if shell_names:
        env[SANDBOX_SHELL_ENV] = " ".join(shell_names)
    return env
