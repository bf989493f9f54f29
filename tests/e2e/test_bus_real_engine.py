"""Headquarters' bus on the real Pulumi engine and a real Docker engine (docs/factories.md):
`pulumi up` of the headquarters stack of a fleet on two hosts builds images/bus (Debian's
redis-server) and starts it healthy; it answers only to its password, on ai-net (as headquarters'
supervisor reaches it) and on the bind address (as a member's does); what it holds survives a
restart of its container, on the kept volume.

Runs without pulumi-command (no preflight, no pids-limit commands: init_host_stack)."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator

import docker
import pytest

from components.contract import BUS_PORT
from components.services.bus import derive_password
from tests.support.git_daemon import service_port
from tests.support.pulumi_cli import Project

from .conftest import BUS_SECRET, TWO_HOSTS, init_host_stack, remove_named

pytestmark = pytest.mark.docker

PREFIX = "sfhosts-"
BUS = f"{PREFIX}bus"
SPEC = TWO_HOSTS + "sandboxes: {}\n"
PASSWORD = derive_password(BUS_SECRET)


@pytest.fixture
def headquarters(project: Project, engine: docker.DockerClient) -> Iterator[tuple[Project, int]]:
    remove_named(engine, PREFIX)
    port = service_port()
    init_host_stack(project, PREFIX, SPEC, hostName="hq", busPort=str(port))
    yield project, port
    project.run("destroy", "--yes", "--exclude-protected", check=False)
    remove_named(engine, PREFIX)


def cli(*args: str, password: str | None = None) -> str:
    """redis-cli in a throwaway container of the bus's own image, on ai-net, as headquarters'
    supervisor reaches the bus (by its name there)."""
    auth = ["-e", f"REDISCLI_AUTH={password}"] if password is not None else []
    run = subprocess.run(
        ["docker", "run", "--rm", "--network", f"{PREFIX}ai-net", *auth,
         "--entrypoint", "redis-cli", "sandbox-fleet/bus:latest",
         "--no-auth-warning", "-h", "bus", "-p", str(BUS_PORT), *args],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return run.stdout.strip()


def over_the_bind_address(port: int, *commands: str) -> list[str]:
    """Inline commands to the published port, one reply line each (bounded in time)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        replies = []
        reader = conn.makefile("rb")
        for command in commands:
            conn.sendall(command.encode() + b"\r\n")
            replies.append(reader.readline().decode().strip())
        return replies


def wait_healthy(engine: docker.DockerClient, name: str, seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    status = ""
    while time.monotonic() < deadline:
        status = str(
            engine.api.inspect_container(name)["State"].get("Health", {}).get("Status", "")
        )
        if status == "healthy":
            return status
        time.sleep(0.5)
    return status


def test_headquarters_brings_up_the_bus_healthy_and_it_takes_only_its_password(
    headquarters: tuple[Project, int], engine: docker.DockerClient
) -> None:
    project, port = headquarters
    project.run("up", "--yes")  # waits for the bus to be healthy (it is created with `wait`)
    inspect = engine.api.inspect_container(BUS)
    assert inspect["State"]["Health"]["Status"] == "healthy"
    bindings = inspect["HostConfig"]["PortBindings"]
    assert bindings == {f"{BUS_PORT}/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(port)}]}
    assert inspect["Config"]["User"] == "1000:1000" and not inspect["HostConfig"]["Privileged"]
    assert PASSWORD not in " ".join(inspect["Config"]["Cmd"] or [])
    # On ai-net, as headquarters' supervisor: the password works, no password and a wrong one
    # are refused.
    assert cli("ping", password=PASSWORD) == "PONG"
    assert "NOAUTH" in cli("ping")
    assert "NOAUTH" in cli("ping", password="not-the-password")  # its AUTH failed first
    # A write is on disk before the bus answers it (headquarters' 201 means "kept").
    assert cli("config", "get", "appendfsync", password=PASSWORD).split() == [
        "appendfsync", "always"]  # fmt: skip
    # On the bind address, as a member's supervisor.
    assert over_the_bind_address(port, "PING")[0].startswith("-NOAUTH")
    assert over_the_bind_address(port, "AUTH not-the-password")[0].startswith("-WRONGPASS")
    assert over_the_bind_address(port, f"AUTH {PASSWORD}", "PING") == ["+OK", "+PONG"]
    supervisor = engine.containers.get(f"{PREFIX}supervisor").attrs["Config"]["Env"]
    assert f"SUPERVISOR_BUS_URL=redis://bus:{BUS_PORT}/0" in supervisor
    assert "SUPERVISOR_ROLE=headquarters" in supervisor
    project.run("preview", "--expect-no-changes")


def test_what_the_bus_holds_survives_a_restart_and_a_destroy(
    headquarters: tuple[Project, int], engine: docker.DockerClient
) -> None:
    project, _ = headquarters
    project.run("up", "--yes")
    assert cli("xadd", "tasks:desk", "*", "task", "t-1", password=PASSWORD)
    subprocess.run(["docker", "restart", BUS], check=True, capture_output=True, timeout=120)
    assert wait_healthy(engine, BUS) == "healthy"
    assert cli("xlen", "tasks:desk", password=PASSWORD) == "1"
    # The volume is protected and kept: destroy leaves it, and the next up finds the stream.
    project.run("destroy", "--yes", "--exclude-protected")
    assert engine.volumes.get(f"{PREFIX}bus-data")
    project.run("up", "--yes")
    assert cli("xlen", "tasks:desk", password=PASSWORD) == "1"
