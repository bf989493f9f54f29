"""Two hosts on one Docker engine: the supervisor image (images/supervisor) as headquarters `hq`
and as member `desk`, each on its own network, and the fleet's bus (images/bus: Debian's
redis-server, run as components/services/bus.py runs it: uid 1000, no capabilities, the derived
hex password, AOF on a volume) on both, as headquarters' bus reached over the tailnet. A task
posted to headquarters runs where its sandbox lives and shows at headquarters; a member that was
stopped takes its backlog; `docker restart` of the bus loses nothing; a wrong password is a
clear error in the member's health. Everything is named `sfbus-*` and removed at the end."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import docker
import pytest

from components.contract import BUS, BUS_DATA_PATH, BUS_MAXMEMORY, BUS_PASSWORD, BUS_PORT
from components.services.bus import derive_password
from tests.support import ensure_project_image

pytestmark = pytest.mark.docker

PREFIX = "sfbus-"
SUPERVISOR_IMAGE = f"{PREFIX}supervisor:latest"  # this branch's image, not the shared tag
BUS_IMAGE = f"{PREFIX}bus:latest"
PASSWORD = derive_password("bus-secret-for-the-test")  # hex, as the fleet gives it
TOKEN = "api-token-for-the-test"
FLEET = {"hq-box": "hq", "desk-box": "desk"}
CAPABILITIES = {"hq": "headless,model", "desk": "headless,visual"}
ROLES = {"hq": "headquarters", "desk": "member"}
LIMITS: dict[str, Any] = {"mem_limit": "256m", "nano_cpus": 1_000_000_000, "pids_limit": 256}
WAIT_S = 120.0  # a bound on waiting, never an assertion on speed


def _remove_ours(client: docker.DockerClient) -> None:
    for container in client.containers.list(all=True, filters={"name": PREFIX}):
        if container.name.startswith(PREFIX):
            container.remove(force=True)
    for network in client.networks.list(names=[f"{PREFIX}hq-net", f"{PREFIX}desk-net"]):
        network.remove()
    for volume in client.volumes.list(filters={"name": PREFIX}):
        if volume.name.startswith(PREFIX):
            volume.remove(force=True)


@pytest.fixture(scope="module")
def images(engine: docker.DockerClient) -> None:
    ensure_project_image(engine, "supervisor", SUPERVISOR_IMAGE)
    ensure_project_image(engine, BUS, BUS_IMAGE)


class TwoHosts:
    def __init__(self, client: docker.DockerClient) -> None:
        self.client = client
        self.nets = {h: client.networks.create(f"{PREFIX}{h}-net") for h in ("hq", "desk")}
        # As components/services/bus.py runs it: the image's user, no capabilities, the
        # password in its environment, writes refused at three quarters of its memory.
        self.bus = client.containers.run(
            BUS_IMAGE, name=f"{PREFIX}{BUS}", hostname=BUS, detach=True,
            environment={BUS_PASSWORD: PASSWORD, BUS_MAXMEMORY: str(192 * 2**20)},  # of 256m
            user="1000:1000", cap_drop=["ALL"], security_opt=["no-new-privileges:true"],
            network=self.nets["hq"].name,
            volumes={f"{PREFIX}{BUS}-data": {"bind": BUS_DATA_PATH}}, **LIMITS,
        )  # fmt: skip
        self.nets["desk"].connect(self.bus)
        self.apis: dict[str, str] = {}

    def supervisor(self, host: str, password: str = PASSWORD) -> str:
        """Start the host's supervisor; its API's URL on this machine's loopback."""
        env = {
            "SUPERVISOR_RUNTIME": "stub", "SUPERVISOR_API_TOKEN": TOKEN,
            "SUPERVISOR_ROLE": ROLES[host], "SUPERVISOR_HOST_NAME": host,
            "SUPERVISOR_HOST_CAPABILITIES": CAPABILITIES[host],
            "SUPERVISOR_FLEET_SANDBOXES": json.dumps(FLEET),
            "SUPERVISOR_BUS_URL": f"redis://{PREFIX}{BUS}:{BUS_PORT}/0",
            "SUPERVISOR_BUS_PASSWORD": password,
        }  # fmt: skip
        container = self.client.containers.run(
            SUPERVISOR_IMAGE, name=f"{PREFIX}{host}", detach=True, environment=env,
            network=self.nets[host].name, ports={"8000/tcp": ("127.0.0.1", None)}, **LIMITS,
        )  # fmt: skip
        return self.url(host, container)

    def url(self, host: str, container: Any = None) -> str:
        container = container or self.client.containers.get(f"{PREFIX}{host}")
        deadline = time.monotonic() + WAIT_S
        while not (ports := container.attrs["NetworkSettings"]["Ports"].get("8000/tcp")):
            assert time.monotonic() < deadline, f"{host}: no published port"
            time.sleep(0.2)
            container.reload()
        self.apis[host] = f"http://127.0.0.1:{ports[0]['HostPort']}"
        return self.apis[host]

    def member_stopped(self) -> str:
        """Both hosts started, then the member stopped: headquarters' URL."""
        hq = self.supervisor("hq")
        self.supervisor("desk")
        healthy(hq)
        self.container("desk").stop(timeout=10)
        return hq

    def container(self, host: str) -> Any:
        return self.client.containers.get(f"{PREFIX}{host}")


@pytest.fixture
def hosts(engine: docker.DockerClient, images: None) -> Iterator[TwoHosts]:
    _remove_ours(engine)
    try:
        yield TwoHosts(engine)
    finally:
        _remove_ours(engine)


def call(url: str, method: str = "GET", body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    request = urllib.request.Request(url, data, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=15) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def wait(what: str, check: Any) -> Any:
    deadline = time.monotonic() + WAIT_S
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except OSError as exc:  # the container's port is not answering yet
            last = exc
        else:
            if last:
                return last
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


def healthy(url: str) -> dict[str, Any]:
    def answer() -> dict[str, Any] | None:
        status, health = call(f"{url}/health")
        return health if status == 200 else None

    found: dict[str, Any] = wait(f"{url}/health", answer)
    return found


def post(hq: str, sandbox: str, prompt: str) -> int:
    status, task = call(f"{hq}/tasks", "POST", {"sender": "t", "sandbox": sandbox,
                                                "prompt": prompt})  # fmt: skip
    assert status == 201, task
    return int(task["id"])


def done(hq: str, task_id: int) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        task = call(f"{hq}/tasks/{task_id}")[1]
        return task if task["status"] == "done" else None

    found: dict[str, Any] = wait(f"task {task_id} done", finished)
    return found


def test_a_task_posted_to_headquarters_runs_on_the_other_host_and_shows_at_headquarters(
    hosts: TwoHosts,
) -> None:
    hq = hosts.supervisor("hq")
    desk = hosts.supervisor("desk")
    health = healthy(desk)
    assert (health["host"], health["role"], health["capabilities"]) == (
        "desk", "member", ["headless", "visual"]
    )  # fmt: skip
    assert health["bus"]["state"] == "connected"
    healthy(hq)
    task_id = post(hq, "desk-box", "on the desk")
    task = done(hq, task_id)
    assert (task["host"], task["result"][:28]) == ("desk", "stub: sandbox=desk-box sende")
    ran = call(f"{desk}/tasks")[1]["tasks"]
    assert [(t["sandbox"], t["prompt"], t["status"]) for t in ran] == [
        ("desk-box", "on the desk", "done")
    ]  # fmt: skip
    status, payload = call(f"{hq}/tasks", "POST", {"sender": "t", "sandbox": "nope",
                                                   "prompt": "p"})  # fmt: skip
    assert (status, payload["error"]) == (
        404, "sandbox 'nope' is not in the fleet; known sandboxes: desk-box, hq-box"
    )  # fmt: skip


def test_a_host_stopped_while_tasks_were_posted_runs_them_when_started(hosts: TwoHosts) -> None:
    hq = hosts.member_stopped()
    ids = [post(hq, "desk-box", f"backlog {n}") for n in range(3)]
    assert {call(f"{hq}/tasks/{i}")[1]["status"] for i in ids} == {"queued"}
    hosts.container("desk").start()
    desk = hosts.url("desk")
    healthy(desk)
    assert [done(hq, i)["prompt"] for i in ids] == ["backlog 0", "backlog 1", "backlog 2"]
    assert len(call(f"{desk}/tasks")[1]["tasks"]) == 3


def test_docker_restart_of_the_bus_loses_no_task(hosts: TwoHosts) -> None:
    hq = hosts.member_stopped()
    before = [post(hq, "desk-box", f"before {n}") for n in range(2)]
    # Each of them was on disk when headquarters answered 201, not only in Redis' memory.
    code, said = hosts.bus.exec_run(
        ["redis-cli", "--no-auth-warning", "-p", str(BUS_PORT), "config", "get", "appendfsync"],
        environment={"REDISCLI_AUTH": PASSWORD},
    )
    assert (code, said.split()) == (0, [b"appendfsync", b"always"]), said
    hosts.bus.restart(timeout=10)
    hosts.container("desk").start()
    hosts.url("desk")
    assert [done(hq, i)["prompt"] for i in before] == ["before 0", "before 1"]
    hosts.bus.restart(timeout=10)  # both running: they reconnect

    def accepted() -> int | None:  # 503 (not accepted: the bus is away) until it is back
        status, task = call(f"{hq}/tasks", "POST", {"sender": "t", "sandbox": "desk-box",
                                                    "prompt": "after"})  # fmt: skip
        assert status in (201, 503), task
        return int(task["id"]) if status == 201 else None

    after = wait("headquarters to accept a task again", accepted)
    assert done(hq, after)["host"] == "desk"


def test_a_wrong_bus_password_is_refused_with_a_clear_error_in_health(hosts: TwoHosts) -> None:
    desk = hosts.supervisor("desk", password="not-the-password")

    def refused() -> tuple[int, Any] | None:
        status, health = call(f"{desk}/health")
        return (status, health) if health["bus"]["state"] == "refused" else None

    status, health = wait("the refusal in /health", refused)
    assert status == 503 and health["status"] == "unhealthy"
    assert "the bus refused our password (WRONGPASS" in health["reason"]
    assert "SUPERVISOR_BUS_PASSWORD must be the bus's password" in health["reason"]
    time.sleep(2)  # several more tries of the pulling loop
    logs = hosts.container("desk").logs().decode()
    assert logs.count('"event": "bus_refused"') == 1, logs[-3000:]
    assert "Traceback" not in logs and "not-the-password" not in logs
