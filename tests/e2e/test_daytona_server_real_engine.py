"""The fleet's own Daytona server (`daytonaServer: true`) on the real Pulumi engine and a real
Docker engine, with LOCAL STAND-IN IMAGES: Daytona's real images come only from a container
registry, which these machines cannot reach.

- The API's image is tests/support/fake_daytona.py packaged as an image
  (tests/support/daytona_server/api.Dockerfile): Daytona's REST API as its published clients
  model it, reading the environment the fleet gives Daytona's API image.
- Every other service (Postgres, Redis, Dex, MinIO, the registry, the runner, the proxy, the
  SSH gateway) is one small stand-in image (standin.Dockerfile) that passes the health check the
  fleet gives that service, and as the proxy forwards the toolbox to the API.

What runs for real: the engine, the Docker provider, the containers with their networks,
volumes, uploads, limits, health checks and `wait`, the order the services start in, the
derived credentials, and the Daytona plane creating a sandbox through the server's API and
starting its workspace sync through the proxy. What does not: Daytona's own code in its images.

On an engine that cannot start a privileged container at all (a machine that is itself a
container without every capability: `docker run --privileged` fails with "unable to apply
caps"), the runner's stand-in runs unprivileged, through a wrapper program that says so; the
program tests hold the runner privileged, and where the engine allows it so does this test.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest

from tests.support import local_extra_ca_certs
from tests.support.git_daemon import port_block
from tests.support.pulumi_cli import REPO_ROOT, Project

from .conftest import init_host_stack, remove_named

pytestmark = pytest.mark.docker

PREFIX = "sfdts-"
SUPPORT = REPO_ROOT / "tests" / "support"
API_IMAGE = f"{PREFIX}daytona-api:test"
STANDIN_IMAGE = f"{PREFIX}daytona-standin:test"
SERVICES = ("api", "proxy", "runner", "ssh-gateway", "db", "redis", "dex", "minio", "registry")
SPEC = """\
version: 1
sandboxes:
  scan:
    task: audit
    runtime: daytona
    repo: https://git.example.test/acme/app.git
    resources: {cpus: 1, memory: 1Gi}
"""


def _pinned(package: str) -> str:
    """The version requirements.txt pins: the fake image runs the clients the fleet runs."""
    for line in (REPO_ROOT / "requirements.txt").read_text().splitlines():
        if line.startswith(f"{package}=="):
            return line.split("==", 1)[1].strip()
    raise AssertionError(f"{package} is not pinned in requirements.txt")


@pytest.fixture(scope="module")
def stand_ins(engine: docker.DockerClient) -> None:
    """Both images, built from the local base image (docker's layer cache makes reruns quick)."""
    engine.images.build(
        path=str(SUPPORT),
        dockerfile="daytona_server/api.Dockerfile",
        tag=API_IMAGE,
        buildargs={
            "DAYTONA_API_CLIENT": _pinned("daytona-api-client"),
            "DAYTONA_TOOLBOX_API_CLIENT": _pinned("daytona-toolbox-api-client"),
            "EXTRA_CA_CERTS": local_extra_ca_certs(),
        },
        rm=True,
    )
    engine.images.build(
        path=str(SUPPORT / "daytona_server"), dockerfile="standin.Dockerfile", tag=STANDIN_IMAGE,
        rm=True,
    )  # fmt: skip


def images() -> dict[str, str]:
    settings = {
        f"daytonaServer{''.join(p.title() for p in s.split('-'))}Image": STANDIN_IMAGE
        for s in SERVICES
    }
    return settings | {"daytonaServerApiImage": API_IMAGE}


UNPRIVILEGED_RUNNER = '''"""The program minus the runner's privilege: this engine starts no
privileged container (tests/e2e/test_daytona_server_real_engine.py). Everything else is the
program as it is."""
import runpy
import sys

sys.path.insert(0, ".")
import components.services.daytona_server.daytona as daytona  # noqa: E402
from components.host.containers import Privileges  # noqa: E402

daytona.PRIVILEGED_ENGINE = Privileges("0:0")
runpy.run_path("main_without_pids.py", run_name="__main__")
'''


@pytest.fixture(scope="module")
def privileged_allowed(engine: docker.DockerClient) -> bool:
    probe = engine.containers.create("debian:bookworm-slim", ["true"], privileged=True)
    try:
        probe.start()
    except docker.errors.APIError as refused:
        if "unable to apply caps" not in str(refused):
            raise
        return False
    finally:
        probe.remove(force=True)  # created even when its start is refused
    return True


def without_runner_privilege(project: Project) -> None:
    (project.directory / "main_unprivileged_runner.py").write_text(UNPRIVILEGED_RUNNER)
    project_file = project.directory / "Pulumi.yaml"
    text = project_file.read_text()
    project_file.write_text(
        text.replace("main: main_without_pids.py", "main: main_unprivileged_runner.py")
    )


@pytest.fixture
def server(
    project: Project, engine: docker.DockerClient, stand_ins: None, privileged_allowed: bool
) -> Iterator[tuple[Project, int]]:
    remove_named(engine, PREFIX)
    ports = port_block(4)
    init_host_stack(
        project, PREFIX, SPEC,
        daytonaServer="true",
        daytonaServerApiPort=str(ports),
        daytonaServerProxyPort=str(ports + 1),
        daytonaServerSshGatewayPort=str(ports + 2),
        daytonaServerDexPort=str(ports + 3),
        daytonaServerWaitSeconds="300",
        daytonaTimeoutSeconds="120",
        **images(),
    )  # fmt: skip
    project.run("config", "set", "--secret", "daytonaServerSecret", "e2e-daytona-server-secret")
    if not privileged_allowed:
        without_runner_privilege(project)
    yield project, ports
    project.run("destroy", "--yes", "--exclude-protected", check=False)
    remove_named(engine, PREFIX)
    for network in engine.networks.list(names=[f"{PREFIX}daytona-net"]):
        network.remove()


def _get(url: str, key: str) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def test_up_runs_the_server_healthy_and_the_plane_creates_its_sandbox_through_it(
    server: tuple[Project, int],
    engine: docker.DockerClient,
    tmp_path: Path,
    privileged_allowed: bool,
) -> None:
    project, api_port = server
    project.run("up", "--yes")
    for service in SERVICES:
        c = engine.containers.get(f"{PREFIX}daytona-{service}")
        assert c.attrs["State"]["Health"]["Status"] == "healthy", service
        privileged = service == "runner" and privileged_allowed
        assert c.attrs["HostConfig"]["Privileged"] is privileged, service
        nets = c.attrs["NetworkSettings"]["Networks"]
        assert list(nets) == [f"{PREFIX}daytona-net"], f"{service}: only the server's network"
        assert service in nets[f"{PREFIX}daytona-net"]["Aliases"], service
    outputs = project.outputs()
    own = outputs["daytonaServer"]
    assert own["apiUrl"] == f"http://127.0.0.1:{api_port}/api"
    key = own["adminApiKey"]
    assert key.startswith("dtn_")

    sandbox = outputs["sandboxes"]["scan"]
    assert sandbox["runtime"] == "daytona" and sandbox["state"] == "started", sandbox
    record = _get(f"{own['apiUrl']}/sandbox/{sandbox['sandboxId']}", key)
    assert record["labels"]["sandbox-fleet.sandbox"] == "scan"
    # The workspace sync went to the toolbox through the proxy's published port, and the proxy
    # reached the API by its name on the server's network.
    [executed] = _get(f"{own['apiUrl']}/_fake/executed", key)
    assert executed["sandboxId"] == sandbox["sandboxId"]
    assert executed["envs"]["GIT_REPO"] == "https://git.example.test/acme/app.git"

    # Derived credentials, uploads and health checks read back as written: no false drift.
    project.run("preview", "--expect-no-changes")
    project.clone(tmp_path / "checkout-b").run("preview", "--expect-no-changes")


def test_destroy_keeps_the_servers_data_volumes(
    server: tuple[Project, int], engine: docker.DockerClient
) -> None:
    project, _ = server
    project.run("up", "--yes")
    project.run("destroy", "--yes", "--exclude-protected")
    kept = {v.name for v in engine.volumes.list(filters={"name": f"{PREFIX}daytona-"})}
    expected = {f"{PREFIX}daytona-{v}" for v in ("db", "minio", "registry", "dex", "runner-docker")}
    assert kept == expected
    assert not engine.containers.list(all=True, filters={"name": f"{PREFIX}daytona-"})
    state = json.dumps(project.resources())
    for volume in ("db", "minio", "registry"):
        assert f"daytona-server-{volume}" in state, f"{volume}: protected, still in the stack"


def test_preview_of_a_stack_with_the_real_images_succeeds(project: Project) -> None:
    """The release's own image references (not pulled: a preview pulls nothing)."""
    init_host_stack(project, PREFIX, SPEC, daytonaServer="true")
    project.run("config", "set", "--secret", "daytonaServerSecret", "e2e-daytona-server-secret")
    done = project.run("preview")
    assert "fleet-daytona-server-api-container" in done.stdout, done.stdout
    assert "fleet-daytona-scan" in done.stdout, done.stdout
