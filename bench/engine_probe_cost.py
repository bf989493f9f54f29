"""What the sandboxes' health checks cost the engine, at N sandboxes: the long poll the fleet
uses now (every second, each probe blocking up to 50 s on a ready sandbox) against the probe it
used before (`sandbox-health` every 5 s), in one run; and how soon each says `healthy`.

    python -m bench.engine_probe_cost [--count 50] [--window 120]

Each variant: N headless sandboxes (no repo) recorded by the program and applied; once all are
healthy, the CPU time (user + system, /proc/<pid>/stat) of dockerd, containerd and every
containerd-shim over `--window` seconds of idling, as a share of one core. The "before" variant
is the same recorded fleet with each container's healthcheck replaced by the earlier one.
"Healthy after ready": for one more sandbox, the time from its own readiness (its
`sandbox-health` first succeeding, polled every 20 ms) to Docker reporting it healthy.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import docker

from bench.engine_common import PREFIX, bench_fleet, engine, health, program, until
from bench.engine_ready import exec_ok
from tests.support.docker_apply import CONTAINER
from tests.support.git_daemon import port_block, service_port
from tests.support.pulumi_harness import Run

ENGINE = ("dockerd", "containerd", "containerd-shim", "containerd-shim-runc-v2", "runc")
BEFORE = {"tests": ["CMD", "/usr/local/bin/sandbox-health"], "interval": "5s", "timeout": "3s",
          "startPeriod": "1m0s", "retries": 3}  # fmt: skip


def engine_cpu_seconds() -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        if name in ENGINE or name.startswith("containerd-shim"):
            fields = stat[stat.rindex(")") + 2 :].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def with_healthcheck(run: Run, check: dict[str, Any]) -> Run:
    """The recorded run with every sandbox container's healthcheck replaced."""
    changed = [
        dataclasses.replace(r, inputs={**r.inputs, "healthcheck": check})
        if r.type == CONTAINER and "sandbox-health" in str(r.inputs.get("healthcheck"))
        else r
        for r in run.resources
    ]
    return dataclasses.replace(run, resources=changed)


def healthy_after_ready(client: docker.DockerClient, name: str) -> float:
    ready: list[float] = []

    def poll() -> None:
        until(lambda: exec_ok(client, name, ["/usr/local/bin/sandbox-health"]), 120, 0.02)
        ready.append(time.monotonic())

    poller = threading.Thread(target=poll)
    poller.start()
    until(lambda: health(client, name) == "healthy", 180, 0.02)
    healthy = time.monotonic()
    poller.join(timeout=130)
    return healthy - ready[0]


def idle_cpu_share(client: docker.DockerClient, applier: Any, base: Run, fleet: Run,
                   names: list[str], window: float) -> float:  # fmt: skip
    """The engine's CPU, as a share of one core, while `fleet` idles (all healthy)."""
    applier.reconcile(base, fleet)
    until(lambda: all(health(client, n) == "healthy" for n in names), 900, 0.5)
    time.sleep(10)
    before = engine_cpu_seconds()
    time.sleep(window)
    share = (engine_cpu_seconds() - before) / window
    applier.reconcile(fleet, base)
    return share


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--window", type=float, default=120)
    args = parser.parse_args()
    client = engine()
    small = {"cpus": 0.25, "memory": "128Mi"}
    first = port_block(2 * args.count)
    entries = {
        f"probe-{i:02d}": {"task": "test", "data": "discard", "ssh_port": first + 2 * i,
                           "resources": small}
        for i in range(args.count)
    }  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp, bench_fleet(client) as applier:
        work, port = Path(tmp), {"supervisorPort": service_port()}
        base, now = program(work, {}, port), program(work, entries, port)
        names = [f"{PREFIX}{n}" for n in entries]
        applier.apply(base)
        idle = engine_cpu_seconds()
        time.sleep(args.window / 4)
        floor = (engine_cpu_seconds() - idle) / (args.window / 4)
        results = {}
        for label, fleet in (("long poll (now)", now), ("every 5 s (before)",
                             with_healthcheck(now, BEFORE))):  # fmt: skip
            results[label] = idle_cpu_share(client, applier, base, fleet, names, args.window)
        one = {"probe-late": {"task": "test", "data": "discard"}}
        late = {}
        for label, run in (("long poll (now)", program(work, one, port)),
                           ("every 5 s (before)", with_healthcheck(program(work, one, port),
                                                                    BEFORE))):  # fmt: skip
            applier.reconcile(base, run)
            late[label] = healthy_after_ready(client, f"{PREFIX}probe-late")
            applier.reconcile(run, base)
    print(f"\n{args.count} idle headless sandboxes: the engine's CPU (dockerd, containerd, shims)")
    print(f"  no sandboxes (the floor)            {100 * floor:6.2f} % of a core")
    for label, share in results.items():
        print(f"  {label:34s}  {100 * share:6.2f} % of a core")
    a, b = results["long poll (now)"], results["every 5 s (before)"]
    print(f"  ratio now/before                    {a / b:6.2f}x")
    print("one more sandbox: Docker says healthy this long after it is ready")
    for label, seconds in late.items():
        print(f"  {label:34s}  {seconds:6.3f} s")


if __name__ == "__main__":
    main()
