"""Names the fleet keeps for itself, so no entry can take one: the names of its own services,
network and volumes, the names of the objects it derives from a sandbox's name, and the
environment names it sets or reads its own credentials under.

Docker has one namespace per kind of object. Containers: each sandbox's `NAME` and its tailnet
sidecar `NAME-tailscale`, the services `supervisor`, `model-server` and, on the headquarters of
a fleet on several hosts, `bus`. Volumes: each sandbox's `workspace-NAME` and the shared
`model-data`, `workspace`, `logs`, `bus-data` (a prefix, never a sandbox name). Modal volumes
are `NAME-workspace`, in Modal's volume namespace, where only workspaces live. So the one name a
sandbox can take from another is its sidecar's: sandboxes `dev` and `dev-tailscale` would both
claim the container `dev-tailscale`.
tests/program/test_derived_names.py holds this list against the names the program registers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..contract import (
    BUS,
    BUS_DATA,
    EGRESS_GATEWAY_SUFFIX,
    FLEET_CREDENTIALS,
    FLEET_KEYS,
    GIT_ENV,
    MODEL_SERVER,
    SANDBOX_ENV_PREFIX,
    SUPERVISOR,
    TAILNET_SIDECAR_SUFFIX,
    TAILNET_STATE_SUFFIX,
)

RESERVED_NAMES = frozenset(
    {
        MODEL_SERVER,
        SUPERVISOR,
        FLEET_KEYS,
        BUS,
        BUS_DATA,
        "ai-net",
        "model-data",
        "workspace",
        "logs",
        "fleet",
        "host",
        "daytona",
        "tailscale",
        "localhost",
        "default",
        "docker",
        "podman",
    }
)
# Suffix -> the object the fleet names NAME + suffix, in the namespace of sandbox containers.
DERIVED_SUFFIXES = {
    TAILNET_SIDECAR_SUFFIX: "tailnet sidecar container",
    EGRESS_GATEWAY_SUFFIX: "egress gateway container",
    TAILNET_STATE_SUFFIX: "tailnet state owner container",
}


@dataclass(frozen=True)
class NameClash:
    name: str  # the entry whose name is taken (renaming it is the fix)
    owner: str  # the entry the fleet derives that name from
    suffix: str

    def message(self) -> str:
        return (
            f"name '{self.name}' is taken: the fleet names the {DERIVED_SUFFIXES[self.suffix]} "
            f"of sandboxes.{self.owner} '{self.name}' (every sandbox's name + '{self.suffix}'); "
            "pick another name"
        )


def name_clashes(names: Iterable[str]) -> list[NameClash]:
    """Entries named like an object the fleet derives from another entry's name."""
    taken = set(names)
    return [
        NameClash(name, name.removesuffix(suffix), suffix)
        for name in sorted(taken)
        for suffix in DERIVED_SUFFIXES
        if name.endswith(suffix) and name.removesuffix(suffix) in taken
    ]


def fleet_env_problem(name: str) -> str | None:
    """Why `name` cannot be an entry's `env` or `secrets` name, or None. The fleet sets
    SANDBOX_* and GIT_REPO/BRANCH/BASE itself (planes/environment.py sandbox_env), so a
    user value would be silently overwritten; its own credentials must never be handed to a
    sandbox, whatever value the stack holds under that name."""
    if name in FLEET_CREDENTIALS:
        return (
            f"'{name}' is the fleet's own credential ({FLEET_CREDENTIALS[name]}) and never "
            "reaches a sandbox; give the sandbox its own value under another name"
        )
    if name.startswith(SANDBOX_ENV_PREFIX) or name in GIT_ENV:
        return (
            f"'{name}' is set by the fleet itself (reserved: {SANDBOX_ENV_PREFIX}*, "
            f"{', '.join(GIT_ENV)}; use the entry's `repo`, `branch` and `base`); "
            "pick another name"
        )
    return None
