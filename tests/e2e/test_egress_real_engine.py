"""Egress allowlists made by the real Pulumi engine on a real Docker engine, tried from inside
the sandboxes against a stand-in internet (tests/support/internet.py: an HTTPS server on a
test network in 198.51.100.0/24, under several names).

`locked` may reach `allowed.test` and every name below it, and clones its repo from there
through its gateway during `up`. The test joins the gateway to the stand-in internet as soon as
`up` creates it: on a real host the gateway's way out is ai-net's route to the world. `open` has
`egress: any` and no proxy at all. As in every e2e test, the program runs without its pids-limit
commands (pulumi-command cannot be built here: docs/engine.md).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import docker
import pytest

from components.planes.docker.egress import egress_net, network_name
from tests.support.git_daemon import port_block
from tests.support.internet import ADDRESS, Internet, stand_in_internet
from tests.support.pulumi_cli import Project

from .conftest import init_host_stack, remove_named
from .test_sandboxes_real_engine import planned, ssh, ssh_keypair

pytestmark = pytest.mark.docker

PREFIX = "sfeeg-"
NAMES = ("allowed.test", "git.allowed.test", "denied.test")
AI_NET_NAMES = ["rebind.allowed.test", "open.test"]  # the same server, at a private address
SSH = port_block(4)  # below the ephemeral range, as in test_sandboxes_real_engine
LOCKED = (
    '  locked: {task: audit, repo: "https://git.allowed.test/app.git", egress: [%s], '
    f"ssh_port: {SSH + 2}}}\n"
)
SPEC = (
    "version: 1\ndefaults:\n  env: {GIT_SSL_NO_VERIFY: 'true'}\nsandboxes:\n"
    f"  open: {{task: audit, ssh_port: {SSH}}}\n" + LOCKED % 'allowed.test, "*.allowed.test"'
)
GATEWAY = f"{PREFIX}locked-egress"


@pytest.fixture
def fleet(
    project: Project, engine: docker.DockerClient, tmp_path: Path
) -> Iterator[tuple[Project, Path, Internet]]:
    remove_named(engine, PREFIX)
    key = ssh_keypair(tmp_path)
    with stand_in_internet(engine, PREFIX, tmp_path / "internet", NAMES) as internet:
        init_host_stack(
            project, PREFIX, SPEC, sshAuthorizedKeys=[key.with_suffix(".pub").read_text().strip()]
        )
        yield project, key, internet
        project.run("destroy", "--yes", "--exclude-protected", check=False)
    remove_named(engine, PREFIX)
    for n in engine.networks.list(names=[f"{PREFIX}egress-locked"]):
        n.remove()


def run_in(engine: docker.DockerClient, container: str, script: str) -> tuple[int, str]:
    """`script` in bash inside the sandbox as its user, with the container's own env."""
    code, out = engine.containers.get(container).exec_run(["bash", "-c", script], user="1000")
    return code, out.decode(errors="replace")


def fetch(url: str) -> str:
    """git's own HTTP client (the sandbox image has no curl): it honours https_proxy."""
    return f"timeout 20 git ls-remote -- {url} 2>&1"


def reach(target: str) -> str:
    """A plain TCP connection, bypassing any proxy."""
    host, port = target.rsplit(":", 1)
    return f"timeout 5 bash -c 'exec 3<>/dev/tcp/{host}/{port}' 2>&1 && echo CONNECTED"


def up_joining_the_internet(project: Project, engine: docker.DockerClient, net: Internet) -> None:
    joining = net.connect_when_created(engine, GATEWAY)
    project.run("up", "--yes")
    joining.join(timeout=10)
    engine.networks.get(f"{PREFIX}ai-net").connect(f"{PREFIX}internet-web", aliases=AI_NET_NAMES)


def test_a_listed_sandbox_reaches_its_names_and_nothing_else(
    fleet: tuple[Project, Path, Internet], engine: docker.DockerClient
) -> None:
    project, key, internet = fleet
    up_joining_the_internet(project, engine, internet)
    locked = f"{PREFIX}locked"
    # `up` waited for it: the clone went through the gateway.
    code, log = run_in(engine, locked, "git -C /workspace log --format=%s -1")
    assert (code, log.strip()) == (0, "first"), log
    allowed = run_in(engine, locked, fetch("https://git.allowed.test/app.git"))
    assert allowed[0] == 0 and "refs/heads/main" in allowed[1], allowed
    refused = {
        "a name not on the list": "https://denied.test/app.git",
        "a literal address": f"https://{ADDRESS}/app.git",
        "a listed name that resolves into the fleet": "https://rebind.allowed.test/app.git",
        "a port other than 443": "https://allowed.test:8443/app.git",
    }
    for why, url in refused.items():
        code, said = run_in(engine, locked, fetch(url))
        assert code != 0 and "403" in said, (why, said)
    # Every route stays in its own /29 (Docker's default route names the bridge's address,
    # which nobody holds): nothing leads to the internet, the host, metadata or ai-net.
    subnet = egress_net(network_name(PREFIX, "locked")).subnet
    for route in run_in(engine, locked, "tail -n +2 /proc/net/route")[1].splitlines():
        via = ipaddress.IPv4Address(bytes.fromhex(route.split()[2])[::-1])
        assert via == ipaddress.IPv4Address(0) or via in subnet, route
    with listener_on_ai_net(engine) as target:
        assert "CONNECTED" in run_in(engine, f"{PREFIX}open", reach(target))[1], "the control"
        for where in (target, f"{ADDRESS}:443"):
            said = run_in(engine, locked, reach(where))[1]
            assert "CONNECTED" not in said, (where, said)
    health = run_in(engine, locked, SUPERVISOR_HEALTH)[1]
    assert health.startswith("HTTP/1.") and " 200 " in health.split("\n")[0], health
    # The supervisor reaches it by its name on ai-net (the gateway carries the port) with the
    # fleet's key, and finds the host key it pins: the sandbox's own, not the gateway's.
    code, said = engine.containers.get(f"{PREFIX}supervisor").exec_run(
        ["sh", "-c", "ssh -F /dev/null -i /tmp/supervisor-ssh-*/id_ed25519 -o BatchMode=yes "
         "-o StrictHostKeyChecking=yes -o UserKnownHostsFile=/etc/ssh/fleet-keys/known_hosts "
         "-o HostKeyAlias=locked -p 2222 dev@locked cat /etc/hostname"], user="1000",
    )  # fmt: skip
    assert (code, said.decode().strip()) == (0, "locked"), said
    # Its published SSH port is the gateway's; a login shell has the proxy too.
    url = project.outputs()["sandboxes"]["locked"]["ssh"]
    done = ssh(key, url, "git ls-remote https://git.allowed.test/app.git main")
    assert done.returncode == 0 and "refs/heads/main" in done.stdout, done


def test_an_open_sandbox_goes_direct_and_drift_checks_stay_clean(
    fleet: tuple[Project, Path, Internet], engine: docker.DockerClient, tmp_path: Path
) -> None:
    project, _key, internet = fleet
    up_joining_the_internet(project, engine, internet)
    env = run_in(engine, f"{PREFIX}open", "env | grep -ci proxy || true")[1]
    assert env.strip() == "0", "an `egress: any` sandbox has no proxy"
    direct = run_in(engine, f"{PREFIX}open", fetch("https://open.test/app.git"))
    assert direct[0] == 0 and "refs/heads/main" in direct[1], direct
    web = engine.containers.get(f"{PREFIX}internet-web")
    engine.networks.get(internet.network).disconnect(GATEWAY)  # what the test added
    engine.networks.get(f"{PREFIX}ai-net").disconnect(web)
    project.run("preview", "--expect-no-changes")
    project.run("refresh", "--preview-only", "--expect-no-changes")
    project.clone(tmp_path / "checkout-b").run("preview", "--expect-no-changes")


def test_changing_the_list_replaces_only_the_gateway(
    fleet: tuple[Project, Path, Internet], engine: docker.DockerClient
) -> None:
    project, _key, internet = fleet
    up_joining_the_internet(project, engine, internet)
    before = {n: engine.containers.get(n).attrs for n in (f"{PREFIX}locked", GATEWAY)}
    (project.directory / "sandboxes.yaml").write_text(
        SPEC.replace('allowed.test, "*.allowed.test"', '"*.allowed.test", denied.test')
    )
    assert planned(project) == {"fleet-locked-egress-container": ["replace"]}
    joining = internet.connect_when_created(engine, GATEWAY)
    project.run("up", "--yes")
    joining.join(timeout=10)
    sandbox = engine.containers.get(f"{PREFIX}locked").attrs
    assert sandbox["Id"] == before[f"{PREFIX}locked"]["Id"]
    assert sandbox["State"]["StartedAt"] == before[f"{PREFIX}locked"]["State"]["StartedAt"]
    assert engine.containers.get(GATEWAY).id != before[GATEWAY]["Id"]
    now_allowed = run_in(engine, f"{PREFIX}locked", fetch("https://denied.test/app.git"))
    assert now_allowed[0] == 0, now_allowed
    now_refused = run_in(engine, f"{PREFIX}locked", fetch("https://allowed.test/app.git"))
    assert now_refused[0] != 0 and "403" in now_refused[1], now_refused


SUPERVISOR_HEALTH = (
    "exec 3<>/dev/tcp/supervisor/8000 && printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3 "
    "&& timeout 5 head -c 200 <&3"
)


@contextmanager
def listener_on_ai_net(engine: docker.DockerClient) -> Iterator[str]:
    """A TCP listener on the host at ai-net's bridge address: what a host service on 0.0.0.0
    would answer there. Yields `address:port`."""
    network = engine.networks.get(f"{PREFIX}ai-net")
    address = network.attrs["IPAM"]["Config"][0]["Gateway"]
    with socket.create_server((address, 0)) as server:
        server.settimeout(10)
        yield f"{address}:{server.getsockname()[1]}"
