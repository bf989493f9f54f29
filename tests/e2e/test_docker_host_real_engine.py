"""The real __main__.py on the real Pulumi engine and a real Docker engine: the host's shared
pieces (ai-net, the model-data, logs and workspace volumes, the supervisor image and container).

Every container's pids limit and the preflight need pulumi-command, which the Go module proxy
here refuses (engine-versions.txt); so this stack runs without both (init_host_stack), has no
entries, and the tests check what the engine does with the pieces that every fleet has: no
false drift (also from a second checkout), out-of-band changes seen and repaired, data kept
through `destroy`.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.integration.fleet import http_json
from tests.support.git_daemon import wait_for
from tests.support.pulumi_cli import Project

from .conftest import TASK_API_TOKEN, init_host_stack, remove_named

pytestmark = pytest.mark.docker

PREFIX = "sfe2e-"
SUPERVISOR = f"{PREFIX}supervisor"


@pytest.fixture
def host(project: Project, engine: docker.DockerClient) -> Iterator[Project]:
    remove_named(engine, PREFIX)
    init_host_stack(project, PREFIX, "version: 1\nsandboxes: {}\n")
    yield project
    project.run("destroy", "--yes", "--exclude-protected", check=False)
    remove_named(engine, PREFIX)


def test_up_then_no_drift_from_either_checkout(
    host: Project, engine: docker.DockerClient, tmp_path: Path
) -> None:
    host.run("up", "--yes")
    supervisor = engine.containers.get(SUPERVISOR)
    assert supervisor.status == "running"
    assert host.outputs()["supervisor"], "the task API URL is an output"
    host.run("preview", "--expect-no-changes")
    host.run("refresh", "--preview-only", "--expect-no-changes")
    elsewhere = host.clone(tmp_path / "checkout-b")
    elsewhere.run("preview", "--expect-no-changes")


@pytest.mark.parametrize("change", ["docker stop", "docker rm -f"])
def test_an_out_of_band_change_is_reported_and_repaired(
    host: Project, engine: docker.DockerClient, change: str
) -> None:
    host.run("up", "--yes")
    subprocess.run([*change.split(), SUPERVISOR], check=True, capture_output=True)
    drift = host.run("refresh", "--preview-only", "--expect-no-changes", check=False)
    assert drift.returncode != 0, f"{change}: the drift check saw nothing"
    assert "supervisor" in drift.stdout, drift.stdout
    host.run("up", "--refresh", "--yes")
    assert engine.containers.get(SUPERVISOR).status == "running"
    host.run("preview", "--expect-no-changes")


def test_destroy_keeps_the_data_volumes_and_the_next_up_reattaches_them(
    host: Project, engine: docker.DockerClient
) -> None:
    host.run("up", "--yes")
    engine.containers.run(
        "debian:bookworm-slim",
        ["sh", "-c", "echo kept > /w/note"],
        volumes={f"{PREFIX}workspace": {"bind": "/w", "mode": "rw"}},
        remove=True,
    )
    # model-data is protected: a plain destroy refuses, which is the point of protecting it.
    refused = host.run("destroy", "--yes", check=False)
    assert refused.returncode != 0 and "protected" in refused.stdout, refused.stdout
    assert engine.containers.get(SUPERVISOR).status == "running", "a refused destroy does nothing"
    host.run("destroy", "--yes", "--exclude-protected")
    assert not engine.containers.list(all=True, filters={"name": SUPERVISOR})
    kept = {v.name for v in engine.volumes.list(filters={"name": PREFIX})}
    assert {f"{PREFIX}model-data", f"{PREFIX}workspace"} <= kept, kept
    host.run("up", "--yes")
    note = engine.containers.run(
        "debian:bookworm-slim",
        ["cat", "/w/note"],
        volumes={f"{PREFIX}workspace": {"bind": "/w", "mode": "ro"}},
        remove=True,
    )
    assert note.decode().strip() == "kept"


def test_the_engine_is_asked_only_with_the_explicit_host(host: Project) -> None:
    """The provider never falls back to $DOCKER_HOST: a bogus one changes nothing."""
    host.run("up", "--yes")
    host.extra_env["DOCKER_HOST"] = "tcp://127.0.0.1:9"
    host.run("preview", "--expect-no-changes")
    del host.extra_env["DOCKER_HOST"]
    assert os.environ.get("DOCKER_HOST") != "tcp://127.0.0.1:9"


def test_a_container_recreated_by_hand_is_drift_and_must_be_removed_before_up_repairs_it(
    host: Project, engine: docker.DockerClient
) -> None:
    """Recreated out of band with an edited label: pulumi-docker never reads labels back, so the
    edit itself is invisible; what the engine sees is that its container is gone (a new id).
    The hand-made one holds the name, so `up --refresh` fails naming it (Docker's "Conflict"),
    and works once it is removed (docs/drift.md)."""
    host.run("up", "--yes")
    old = engine.api.inspect_container(SUPERVISOR)
    labels = {**old["Config"]["Labels"], "sandbox-fleet.role": "edited-by-hand"}
    engine.api.remove_container(SUPERVISOR, force=True)
    impostor = engine.api.create_container(
        old["Image"],
        name=SUPERVISOR,
        labels=labels,
        host_config=engine.api.create_host_config(network_mode="none"),
    )
    engine.api.start(impostor["Id"])
    drift = host.run("refresh", "--preview-only", "--expect-no-changes", check=False)
    assert drift.returncode != 0 and "supervisor" in drift.stdout, drift.stdout
    blocked = host.run("up", "--refresh", "--yes", check=False)
    assert blocked.returncode != 0
    assert f'The container name "/{SUPERVISOR}" is already in use' in blocked.stdout
    engine.api.remove_container(impostor["Id"], force=True)
    host.run("up", "--refresh", "--yes")
    now = engine.api.inspect_container(SUPERVISOR)
    assert now["Config"]["Labels"]["sandbox-fleet.role"] != "edited-by-hand"
    host.run("preview", "--expect-no-changes")


def test_the_task_api_takes_work_only_with_the_stack_token(host: Project) -> None:
    """The token is the stack's secret (scripts/up makes one): the state and the plain outputs
    never show it, and the supervisor answers 401 to anyone without it."""
    host.run("up", "--yes")
    plain = json.loads(host.run("stack", "output", "supervisor", "--json").stdout)
    assert plain["apiToken"] == "[secret]", plain
    assert TASK_API_TOKEN not in host.run("stack", "export").stdout
    api = host.outputs()["supervisor"]
    assert api["apiToken"] == TASK_API_TOKEN
    url = api["apiUrl"]
    wait_for(lambda: http_json(f"{url}/health")[0] == 200 or None, "the task API answers", 60)
    task = {"sender": "e2e", "sandbox": "nobody", "prompt": "hello"}
    assert http_json(f"{url}/tasks", task)[0] == 401
    assert http_json(f"{url}/tasks", task, token="guessed")[0] == 401
    status, created = http_json(f"{url}/tasks", task, token=TASK_API_TOKEN)
    assert status == 201, created
    assert http_json(f"{url}/tasks/{created['id']}")[0] == 401, "reading needs it too"
