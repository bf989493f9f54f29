"""What the engine charges for each Docker option of a headless sandbox, as ratios to a bare
container in one run.

    python -m bench.engine_options [--runs 9]

Every variant is bench/engine_ready's bare container (`debian:bookworm-slim` running
`sleep infinity`, ready when its first `docker exec true` exits 0, polled every 20 ms from the
create call) with one group of the Docker options the program records for one headless sandbox
of a repository (so with its four volume mounts), then with all of them: what no entrypoint,
sshd or checkout is part of. Variants alternate run by run; medians.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker

from bench.engine_common import (
    BASE_IMAGE,
    LABELS,
    PREFIX,
    bench_fleet,
    engine,
    exec_ok,
    median,
    program,
    until,
)
from tests.support.docker_apply import CONTAINER, VOLUME, container_config
from tests.support.git_daemon import service_port
from tests.support.pulumi_harness import Run

NAME = f"{PREFIX}bare-options"

# What each group keeps of the recorded container (a config and its host config): the rest
# is the bare container's.
Group = Callable[[dict[str, Any], dict[str, Any], dict[str, Any]], None]


def _network(config: dict[str, Any], host: dict[str, Any], box: dict[str, Any]) -> None:
    config["networking_config"] = box["networking_config"]


def _port(config: dict[str, Any], host: dict[str, Any], box: dict[str, Any]) -> None:
    config["ports"] = box["ports"]
    host["port_bindings"] = box["host_config"]["port_bindings"]


def _mounts(config: dict[str, Any], host: dict[str, Any], box: dict[str, Any]) -> None:
    host["mounts"] = box["host_config"]["mounts"]


def _confinement(config: dict[str, Any], host: dict[str, Any], box: dict[str, Any]) -> None:
    config["user"] = box["user"]
    kept = {"mounts", "port_bindings"}
    host.update({k: v for k, v in box["host_config"].items() if k not in kept})


GROUPS: dict[str, list[Group]] = {
    "ai-net (with an alias)": [_network],
    "published SSH port (bind address)": [_port],
    "four volume mounts": [_mounts],
    "user, capabilities, no-new-privileges, limits, restart, logs": [_confinement],
    "all of the sandbox's options": [_network, _port, _mounts, _confinement],
}


def recorded_box(client: docker.DockerClient, one: Run) -> dict[str, Any]:
    """The container config the program records for `box` in `one`, its workspace mount on a
    volume of the bench's own (made by the create, as the sandbox's is by its step)."""
    box = next(r for r in one.of_type(CONTAINER) if r.inputs.get("name") == f"{PREFIX}box")
    workspace = next(r.inputs["name"] for r in one.of_type(VOLUME) if r.parent == box.parent)
    config = container_config(box, BASE_IMAGE)
    for mount in config["host_config"]["mounts"]:
        if mount["Source"] == workspace:
            mount["Source"] = NAME
    (network,) = box.inputs["networksAdvanced"]
    endpoint = client.api.create_endpoint_config(aliases=["bare-options"])
    config["networking_config"] = client.api.create_networking_config({network["name"]: endpoint})
    return config


def ready_with(client: docker.DockerClient, box: dict[str, Any], groups: list[Group]) -> float:
    """Seconds from the create call of the bare container, with these groups of `box`'s
    options, until its first `docker exec true` exits 0."""
    config: dict[str, Any] = {"image": BASE_IMAGE, "command": ["sleep", "infinity"],
                              "name": NAME, "labels": LABELS}  # fmt: skip
    host: dict[str, Any] = {}
    for group in groups:
        group(config, host, box)
    start = time.monotonic()
    host_config = client.api.create_host_config(**host)
    created = client.api.create_container(**config, host_config=host_config)
    client.api.start(created["Id"])
    until(lambda: exec_ok(client, NAME, ["true"]), 60, every_s=0.02)
    took = time.monotonic() - start
    client.api.remove_container(created["Id"], force=True)
    if any(m["Source"] == NAME for m in host.get("mounts", [])):
        client.volumes.get(NAME).remove()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    client = engine()
    # A repository's sandbox: its memory and mirror volumes are mounted too. The program never
    # contacts the URL.
    entry = {"task": "audit", "data": "discard", "branch": "bench",
             "repo": "git://127.0.0.1:9/options.git"}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp, bench_fleet(client) as applier:
        work = Path(tmp)
        overrides = {"supervisorPort": service_port()}
        applier.apply(program(work, {}, overrides))  # ai-net, the keys volume
        box = recorded_box(client, program(work, {"box": entry}, overrides))
        for mount in box["host_config"]["mounts"]:  # the repository's, there before the box
            if mount["Source"] != NAME:
                client.volumes.create(mount["Source"], labels=LABELS)
        variants: dict[str, list[Group]] = {"bare": [], **GROUPS}
        times: dict[str, list[float]] = {label: [] for label in variants}
        for groups in variants.values():  # warm-up, not counted
            ready_with(client, box, groups)
        for _ in range(args.runs):
            for label, groups in variants.items():
                times[label].append(ready_with(client, box, groups))
    bare = median(times["bare"])
    print(f"bare container + one group of a headless sandbox's Docker options: medians of "
          f"{args.runs} runs (create -> first `docker exec true`)")  # fmt: skip
    for label in variants:
        took = median(times[label])
        print(f"  {label:62s} {took:6.3f} s  {took / bare:5.2f}x  {took - bare:+6.3f} s")


if __name__ == "__main__":
    main()
