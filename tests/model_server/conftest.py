"""Fixtures for the model-server tests: a cached tiny GGUF and a Docker client."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.support.tiny_gguf import write_tiny_llama_gguf


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed-0 tiny llama GGUF, written once per session."""
    return write_tiny_llama_gguf(tmp_path_factory.mktemp("tiny-gguf") / "model.gguf", seed=0)


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    """A client for a live engine; without one: fail under CI=true, skip otherwise."""
    try:
        client = docker.from_env()
        client.ping()
    except Exception as exc:
        reason = f"no reachable Docker engine ({type(exc).__name__}: {exc})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI=true requires one (run scripts/ensure-docker)")
        pytest.skip(f"{reason}; run scripts/ensure-docker, or set CI=true to fail instead")
    yield client
    client.close()
