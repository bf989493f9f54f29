"""The `sandbox-fleet.config-hash` label: one short hash of a container's replace-relevant inputs.

pulumi-docker never reads `env` or `labels` back, so `pulumi refresh` cannot see a container that
was recreated by hand with other settings. The fleet therefore stamps every container with a hash
of what it asked for, computed from values the Docker engine *does* report in `docker inspect`
(image id, env, port bindings, mounts). `scripts/check-config-hash` recomputes the hash from the
live container and flags any container whose hash no longer matches its label.

Label contract (set by the Sandbox component, read by the checker):

- `sandbox-fleet.config-hash`: `config_hash(...)` of the inputs below.
- `sandbox-fleet.env-names`: comma-separated names of the env vars the fleet sets (plain and
  secret). The engine merges the image's own ENV into `Config.Env`; this list says which entries
  are ours.
- `sandbox-fleet.secret-env`: comma-separated names of the env vars whose values are secret.
  Only their names enter the hash, so the label never depends on (or leaks) a secret value.

Pure: no Docker, no Pulumi. `hash_labels()` is what the component calls; `inputs_from_inspect()`
is what the checker calls on one `docker inspect` object.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

LABEL_FLEET = "sandbox-fleet.fleet"
LABEL_SANDBOX = "sandbox-fleet.sandbox"
LABEL_HASH = "sandbox-fleet.config-hash"
LABEL_ENV_NAMES = "sandbox-fleet.env-names"
LABEL_SECRET_ENV = "sandbox-fleet.secret-env"
# A container that runs once and exits (planes/docker/one_shot.py): exited 0 is its healthy state.
LABEL_ONE_SHOT = "sandbox-fleet.one-shot"

SECRET_PLACEHOLDER = "<secret>"  # what a secret's value is replaced with before hashing
HASH_LENGTH = 16
DEFAULT_HOST_IP = "0.0.0.0"  # what the engine means by an empty HostIp


def config_hash(
    image: str,
    env: Mapping[str, str],
    ports: Sequence[tuple[str, int, int]],
    mounts: Sequence[tuple[str, str]],
    *,
    secret_names: Iterable[str] = (),
) -> str:
    """sha256 (first 16 hex chars) of the canonical JSON of the sorted inputs.

    `image` is the image id (`sha256:...`, what `docker inspect` shows as `.Image`); `env` holds
    plain values; `ports` are (host ip, host port, container port) tcp bindings; `mounts` are
    (source volume or host path, target). Names in `secret_names` are hashed by name only:
    their values (in `env` or not) are replaced by a placeholder. Order never matters.
    """
    secrets = set(secret_names)
    merged = {name: value for name, value in env.items() if name not in secrets}
    merged.update(dict.fromkeys(secrets, SECRET_PLACEHOLDER))
    document = {
        "image": image,
        "env": sorted([name, value] for name, value in merged.items()),
        "ports": sorted(
            [ip or DEFAULT_HOST_IP, int(host), int(container)] for ip, host, container in ports
        ),
        "mounts": sorted([source, target] for source, target in mounts),
    }
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:HASH_LENGTH]


def hash_labels(
    image: str,
    env: Mapping[str, str],
    ports: Sequence[tuple[str, int, int]],
    mounts: Sequence[tuple[str, str]],
    *,
    secret_names: Iterable[str] = (),
) -> dict[str, str]:
    """The three labels a container carries so the checker can verify it later."""
    secrets = sorted(set(secret_names))
    return {
        LABEL_HASH: config_hash(image, env, ports, mounts, secret_names=secrets),
        LABEL_ENV_NAMES: ",".join(sorted(set(env) | set(secrets))),
        LABEL_SECRET_ENV: ",".join(secrets),
    }


@dataclass(frozen=True)
class HashInputs:
    """What `config_hash` needs, as read back from one live container."""

    image: str
    env: dict[str, str]
    ports: tuple[tuple[str, int, int], ...]
    mounts: tuple[tuple[str, str], ...]
    secret_names: tuple[str, ...]
    unexpected_env: tuple[str, ...]  # set on the container but neither ours nor the image's

    def hash(self) -> str:
        return config_hash(
            self.image, self.env, self.ports, self.mounts, secret_names=self.secret_names
        )


def _names(label: str | None) -> tuple[str, ...]:
    return tuple(sorted(n for n in (label or "").split(",") if n))


def _env_pairs(entries: Sequence[str] | None) -> dict[str, str]:
    pairs = {}
    for entry in entries or ():
        name, _, value = entry.partition("=")
        pairs[name] = value
    return pairs


def inputs_from_inspect(
    container: Mapping[str, Any], image_env: Sequence[str] | None = None
) -> HashInputs:
    """Read the hash inputs from one `docker inspect` object (the engine's JSON shape).

    `image_env` is the image's own `Config.Env` (from `docker image inspect`), used only to tell
    an env var added out of band from one the image sets itself.
    """
    config = container.get("Config") or {}
    host = container.get("HostConfig") or {}
    labels = config.get("Labels") or {}
    ours = _names(labels.get(LABEL_ENV_NAMES))
    live_env = _env_pairs(config.get("Env"))
    image_names = set(_env_pairs(image_env))
    env = {name: live_env[name] for name in ours if name in live_env}
    unexpected = () if image_env is None else tuple(sorted(set(live_env) - set(ours) - image_names))
    return HashInputs(
        image=str(container.get("Image", "")),
        env=env,
        ports=_ports(host.get("PortBindings") or {}),
        mounts=_mounts(host),
        secret_names=_names(labels.get(LABEL_SECRET_ENV)),
        unexpected_env=unexpected,
    )


def _ports(bindings: Mapping[str, Any]) -> tuple[tuple[str, int, int], ...]:
    found = []
    for key, hosts in bindings.items():
        container_port, _, _protocol = key.partition("/")
        for binding in hosts or ():
            host_port = binding.get("HostPort") or "0"
            found.append(
                (binding.get("HostIp") or DEFAULT_HOST_IP, int(host_port), int(container_port))
            )
    return tuple(sorted(found))


def _mounts(host: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """Volume and bind mounts as configured (HostConfig.Mounts and HostConfig.Binds)."""
    found = [
        (m.get("Source", ""), m.get("Target", ""))
        for m in host.get("Mounts") or ()
        if m.get("Type", "volume") in ("volume", "bind")
    ]
    for bind in host.get("Binds") or ():
        source, _, rest = bind.partition(":")
        found.append((source, rest.split(":")[0]))
    return tuple(sorted(found))
