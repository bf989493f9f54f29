"""A private repository over https, cloned with a token given as a secret: the headless image's
workspace sync asks sandbox-git-credential, which reads the token when git asks for it. The
token never lands in the remote URL, .git/config, or a line the server logs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from docker.models.containers import Container

from tests.support import ensure_headless_image
from tests.support.git_daemon import bridge_gateway, wait_for
from tests.support.git_https import git_https

pytestmark = pytest.mark.docker

TOKEN = "ghp_private-repo-token-0123456789"


@pytest.fixture(scope="module")
def image(engine: docker.DockerClient) -> str:
    return ensure_headless_image(engine)


@pytest.fixture
def server(engine: docker.DockerClient, tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    with git_https(tmp_path / "git", bridge_gateway(engine), TOKEN) as (git, seen):
        yield git.url, seen


def sandbox(engine: docker.DockerClient, image: str, name: str, env: dict[str, str]) -> Container:
    # GIT_SSL_NO_VERIFY: the test server's certificate is self-signed; the token still goes
    # over TLS, as it would to a real forge.
    return engine.containers.run(
        image, name=name, detach=True, user="1000:1000", cap_drop=["ALL"],
        environment={"GIT_BRANCH": "feature-a", "GIT_SSL_NO_VERIFY": "true", **env},
    )  # fmt: skip


def status(box: Container) -> str:
    return str(box.exec_run(["cat", "/run/sandbox/status"]).output.decode().strip())


def test_the_token_clones_and_stays_out_of_url_config_and_logs(
    engine: docker.DockerClient, image: str, server: tuple[str, list[str]]
) -> None:
    url, seen = server
    env = {"GIT_REPO": url, "SANDBOX_GIT_TOKEN_VAR": "REPO_TOKEN", "REPO_TOKEN": TOKEN}
    box = sandbox(engine, image, "sfit-private-repo", env)
    try:
        wait_for(lambda: status(box) == "ready" or None, "the private clone", 60, every_s=0.5)
        config = box.exec_run(["cat", "/workspace/.git/config"]).output.decode()
        assert TOKEN not in config and url in config
        assert "helper = /usr/local/bin/sandbox-git-credential" in config
        # The agent's own fetch uses the same helper, read at use from its environment.
        fetch = box.exec_run(["git", "-C", "/workspace", "fetch", "origin"], environment=env)
        assert fetch.exit_code == 0, fetch.output
        assert not [line for line in seen if TOKEN in line], "the token reached a request line"
        other = box.exec_run(
            ["sh", "-c", "printf 'protocol=https\\nhost=evil.example\\n\\n' | "
             "/usr/local/bin/sandbox-git-credential get"],
            environment=env,
        )  # fmt: skip
        assert other.exit_code == 0 and other.output == b"", "the token went to another host"
    finally:
        box.remove(force=True)


def test_without_the_token_the_sandbox_waits_and_never_prompts(
    engine: docker.DockerClient, image: str, server: tuple[str, list[str]]
) -> None:
    url, _ = server
    env = {"GIT_REPO": url, "SANDBOX_GIT_TOKEN_VAR": "REPO_TOKEN", "REPO_TOKEN": "wrong"}
    box = sandbox(engine, image, "sfit-private-repo-denied", env)
    try:
        found = wait_for(
            lambda: ((s := status(box)).startswith("waiting") and s) or None, "a refused clone", 60
        )
        assert "cannot reach" in found
    finally:
        box.remove(force=True)
