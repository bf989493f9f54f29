"""The real `pulumi` CLI, language host and plugins, built by scripts/install-pulumi.

Under CI=true a missing engine fails the run; elsewhere it skips with install-pulumi's words.
"""

from __future__ import annotations

import os
from pathlib import Path

import docker
import pytest

from tests.support.pulumi_cli import EngineMissing, Project, copy_project, install_engine


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def engine_bin() -> Path:
    try:
        return install_engine()
    except EngineMissing as missing:
        if under_ci():
            pytest.fail(f"scripts/install-pulumi failed (CI=true: never skipped):\n{missing}")
        pytest.skip(f"scripts/install-pulumi failed:\n{missing}")


@pytest.fixture
def project(engine_bin: Path, tmp_path: Path) -> Project:
    """A copy of the checkout in its own directory, on a fresh local backend."""
    directory = copy_project(tmp_path / "checkout-a")
    return Project(directory, engine_bin, tmp_path / "state")


@pytest.fixture(scope="session")
def engine(docker_engine: docker.DockerClient) -> docker.DockerClient:
    return docker_engine
