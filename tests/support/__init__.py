"""Helpers shared by the test suites (no test collection here).

`ensure_model_server_image` builds images/model-server with the Docker SDK when the tag is
missing, so docker-marked tests never depend on someone having run `docker build` first.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from components.contract import IMAGE_BUILD_ARGS

if TYPE_CHECKING:
    import docker

# Kept light: importing any tests.support module runs this file, so the Docker SDK is only
# imported by the functions that use it.

# The llama.cpp source pin, shared by the image build and the tiny GGUF's tokenizer. Keep in
# step with `ARG LLAMA_CPP_PYTHON_VERSION` in images/model-server/Dockerfile (a test checks).
LLAMA_CPP_PYTHON_VERSION = "0.3.36"

REPO_ROOT = Path(__file__).resolve().parents[2]
MODEL_SERVER_IMAGE = "sandbox-fleet/model-server:latest"
HEADLESS_IMAGE = "sandbox-fleet/headless:latest"
MODEL_SERVER_CONTEXT = REPO_ROOT / "images" / "model-server"
VERSION_LABEL = "io.sandbox-fleet.llama-cpp-python.version"
BASE_IMAGE = "debian:bookworm-slim"
# Debian's place for locally added CAs (update-ca-certificates). Behind a TLS-inspecting
# egress proxy the image build must trust the same CAs the host does to reach PyPI.
LOCAL_CA_DIR = Path("/usr/local/share/ca-certificates")
# A cold build compiles llama.cpp: about 10 minutes on 2 cores.
BUILD_TIMEOUT_S = 3600


def local_extra_ca_certs(ca_dir: Path = LOCAL_CA_DIR) -> str:
    """PEM text of the host's locally added CAs, sorted for a stable build-cache key."""
    if not ca_dir.is_dir():
        return ""
    pems = [p.read_text().strip() for p in sorted(ca_dir.rglob("*.crt")) if p.is_file()]
    return "\n".join(pems)


def ensure_base_image(client: docker.DockerClient) -> None:
    """Create the local debian:bookworm-slim with scripts/make-base-image if it is missing."""
    import docker.errors

    try:
        client.images.get(BASE_IMAGE)
        return
    except docker.errors.ImageNotFound:
        pass
    script = REPO_ROOT / "scripts" / "make-base-image"
    if not script.is_file():
        raise RuntimeError(f"{BASE_IMAGE} is missing and {script} does not exist to create it")
    subprocess.run([str(script)], check=True)


def ensure_model_server_image(client: docker.DockerClient, tag: str = MODEL_SERVER_IMAGE) -> str:
    """Return the image id of `tag`, building images/model-server if absent or of another pin.

    An image whose llama-cpp-python label differs from the pin is stale: rebuild it (the
    builder cache makes that cheap when only the final stage changed).
    """
    import docker.errors

    try:
        image = client.images.get(tag)
        if image.labels.get(VERSION_LABEL) == LLAMA_CPP_PYTHON_VERSION:
            return str(image.id)
    except docker.errors.ImageNotFound:
        pass
    ensure_base_image(client)
    buildargs = dict(IMAGE_BUILD_ARGS["model-server"])
    if certs := local_extra_ca_certs():
        buildargs["EXTRA_CA_CERTS"] = certs
    image, _logs = client.images.build(
        path=str(MODEL_SERVER_CONTEXT),
        tag=tag,
        buildargs=buildargs,
        rm=True,
        forcerm=True,
        timeout=BUILD_TIMEOUT_S,
    )
    return str(image.id)


def ensure_headless_image(client: docker.DockerClient, tag: str = HEADLESS_IMAGE) -> str:
    return ensure_project_image(client, "headless", tag)


def ensure_project_image(client: docker.DockerClient, role: str, tag: str | None = None) -> str:
    """Return the image id of `tag` (the fleet's own tag for images/<role>), building it when
    it is missing or older than its files, so a test that runs a project image never depends on
    another test (or an earlier checkout) having built it."""
    from tests.support.docker_apply import stale_reason

    tag = tag or f"sandbox-fleet/{role}:latest"
    context = REPO_ROOT / "images" / role
    if not stale_reason(client, tag, context, "Dockerfile"):
        return str(client.images.get(tag).id)
    ensure_base_image(client)
    image, _logs = client.images.build(
        path=str(context),
        tag=tag,
        buildargs=IMAGE_BUILD_ARGS[role],
        rm=True,
        forcerm=True,
    )
    return str(image.id)
