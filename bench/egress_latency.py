"""What a sandbox's egress gateway costs: time to the first byte of an HTTPS answer, direct
against through the gateway, as a ratio measured in one run.

    python -m bench.egress_latency [--requests 41]

Every request opens a new connection: TCP connect, (CONNECT through squid,) TLS handshake,
`GET /`, first byte of the answer. The two kinds alternate, so load on the machine hits both
alike. The server is the stand-in internet of the egress tests (tests/support/internet.py); the
gateway is images/egress with the env the program gives it (components/planes/docker/egress.py)
for an entry `egress: [allowed.test]`, on an internal network whose bridge has no host address,
exactly as the fleet makes them. The client is one container on that network (where the
sandbox would be) and on the stand-in internet (to compare the direct path); it runs the
supervisor image's Python. Everything is named `sfbench-egress-*` and removed at the end.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import docker
import docker.errors

from bench.engine_common import engine, median
from components.contract import EGRESS_PROXY_PORT
from components.planes.docker.egress import egress_net, gateway_env, network_name
from components.spec import load_spec_text
from tests.support import ensure_project_image
from tests.support.docker_apply import wait_healthy
from tests.support.internet import ADDRESS, stand_in_internet

PREFIX = "sfbench-egress-"
NAME = "allowed.test"
CLIENT = """
import json, socket, ssl, sys, time
address, proxy, port, runs, name = *sys.argv[1:3], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
context = ssl._create_unverified_context()
host = name.encode()
request = b"GET / HTTP/1.1\\r\\nHost: %s\\r\\nConnection: close\\r\\n\\r\\n" % host
connect = b"CONNECT %s:443 HTTP/1.1\\r\\nHost: %s:443\\r\\n\\r\\n" % (host, host)

def first_byte(via_proxy):
    start = time.perf_counter()
    if via_proxy:
        raw = socket.create_connection((proxy, port), timeout=10)
        raw.sendall(connect)
        answer = b""
        while b"\\r\\n\\r\\n" not in answer:
            answer += raw.recv(4096)
        assert answer.split()[1] == b"200", answer
    else:
        raw = socket.create_connection((address, 443), timeout=10)
    tls = context.wrap_socket(raw, server_hostname=name)
    tls.sendall(request)
    assert tls.recv(1)
    elapsed = time.perf_counter() - start
    tls.close()
    return elapsed

first_byte(False), first_byte(True)  # warm both paths once
found = {"direct": [], "gateway": []}
for _ in range(runs):
    found["direct"].append(first_byte(False))
    found["gateway"].append(first_byte(True))
print(json.dumps(found))
"""


def measure(client: docker.DockerClient, requests: int, workdir: Path) -> dict[str, list[float]]:
    (spec,) = load_spec_text(
        f"version: 1\nsandboxes:\n  bench: {{task: audit, egress: [{NAME}]}}\n"
    ).sandboxes
    net = egress_net(network_name(PREFIX, spec.name))
    gateway_image = ensure_project_image(client, "egress")
    python_image = ensure_project_image(client, "supervisor")
    hardened = {"user": "1000:1000", "cap_drop": ["ALL"], "security_opt": ["no-new-privileges"]}
    made: list[docker.models.resource.Model] = []
    with stand_in_internet(client, PREFIX, workdir / "internet", (NAME,)) as internet:
        try:
            ai_net = client.networks.create(f"{PREFIX}ai-net")
            ipam = docker.types.IPAMConfig(
                pool_configs=[docker.types.IPAMPool(subnet=str(net.subnet), gateway=net.bridge)]
            )
            egress = client.networks.create(
                network_name(PREFIX, spec.name), internal=True, ipam=ipam,
                options={"com.docker.network.bridge.inhibit_ipv4": "true"},
            )  # fmt: skip
            made += [ai_net, egress]
            env = gateway_env(spec, net, [], ("127.0.0.1",))
            gateway = client.containers.create(
                gateway_image, name=f"{PREFIX}gateway", network=ai_net.name, environment=env,
                sysctls={"net.ipv4.ip_unprivileged_port_start": "0"}, mem_limit="128m",
                **hardened,
            )  # fmt: skip
            made.append(gateway)
            egress.connect(gateway, ipv4_address=net.gateway)
            gateway.start()
            internet.connect(client, gateway.id or "")
            wait_healthy(gateway, 60, gateway.name or "the gateway")
            probe = client.containers.create(
                python_image, ["python3", "-c", CLIENT, ADDRESS, net.gateway,
                               str(EGRESS_PROXY_PORT), str(requests), NAME],
                name=f"{PREFIX}client", entrypoint=[], network=egress.name, **hardened,
            )  # fmt: skip
            made.append(probe)
            egress.disconnect(probe)
            egress.connect(probe, ipv4_address=net.sandbox)
            internet.connect(client, probe.id or "")
            probe.start()
            if probe.wait(timeout=600)["StatusCode"] != 0:
                raise SystemExit(probe.logs().decode()[-3000:])
            found: dict[str, list[float]] = json.loads(probe.logs(stderr=False).decode())
            return found
        finally:
            for thing in reversed(made):
                if isinstance(thing, docker.models.containers.Container):
                    thing.remove(force=True)
                else:
                    thing.remove()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=41, help="requests of each kind")
    args = parser.parse_args()
    client = engine()
    with tempfile.TemporaryDirectory() as tmp:
        found = measure(client, args.requests, Path(tmp))
    direct, gateway = median(found["direct"]) * 1000, median(found["gateway"]) * 1000
    print(f"HTTPS first byte, new connection each time, median of {args.requests} of each:")
    print(f"  direct           {direct:7.2f} ms")
    print(f"  through gateway  {gateway:7.2f} ms")
    print(f"  ratio            {gateway / direct:7.2f}x  (+{gateway - direct:.2f} ms)")


if __name__ == "__main__":
    main()
