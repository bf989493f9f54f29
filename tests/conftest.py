"""Fixtures shared by every suite that needs a real Docker engine."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import docker
import pytest

from tests.support import REPO_ROOT

SETUP_TIMEOUT_S = 900  # installing docker.io and debootstrapping the base image, cold


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[docker.DockerClient]:
    """A live engine with debian:bookworm-slim. Without one: fail under CI=true (CI must not
    look green without the real-engine tests), skip with the reason otherwise."""
    try:
        for script in ("ensure-docker", "make-base-image"):
            subprocess.run(
                [str(REPO_ROOT / "scripts" / script)],
                check=True, capture_output=True, text=True, timeout=SETUP_TIMEOUT_S,
            )  # fmt: skip
        client = docker.from_env(timeout=300)
        client.ping()
    except (OSError, subprocess.SubprocessError, docker.errors.DockerException) as exc:
        detail = getattr(exc, "stderr", None) or exc
        reason = f"no usable Docker engine ({type(exc).__name__}: {detail})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI=true requires one")
        pytest.skip(f"{reason}; run scripts/ensure-docker, or set CI=true to fail instead")
    yield client
    client.close()
