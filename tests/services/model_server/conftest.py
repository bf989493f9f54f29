"""Fixtures for the model-server tests: a cached tiny GGUF and a Docker client."""

from __future__ import annotations

from pathlib import Path

import docker
import pytest

from tests.support.tiny_gguf import write_tiny_llama_gguf


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed-0 tiny llama GGUF, written once per session."""
    return write_tiny_llama_gguf(tmp_path_factory.mktemp("tiny-gguf") / "model.gguf", seed=0)


@pytest.fixture(scope="session")
def docker_client(docker_engine: docker.DockerClient) -> docker.DockerClient:
    return docker_engine
