"""What the sandboxes' health checks cost the engine, at N sandboxes: the long poll the fleet
uses now (every 250 ms, each probe blocking up to 50 s on a ready sandbox) against the probe it
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import docker.errors

from bench.engine_common import PREFIX, bench_fleet, engine, exec_ok, health, program, until
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


def healthy_after_ready(client: docker.DockerClient, applier: Any, base: Run, run: Run,
                        name: str) -> float:  # fmt: skip
    """Seconds from `name` being ready (its `sandbox-health` first succeeding) to Docker saying
    it is healthy, both polled every 20 ms from before it is created."""
    seen: dict[str, float] = {}

    def poll(what: str, check: Callable[[], bool]) -> None:
        def safely() -> bool:
            try:
                return check()
            except docker.errors.NotFound:  # not created yet
                return False

        until(safely, 180, 0.02)
        seen[what] = time.monotonic()

    pollers = [
        threading.Thread(target=poll, args=("ready", lambda: exec_ok(
            client, name, ["/usr/local/bin/sandbox-health"]))),
        threading.Thread(target=poll, args=("healthy", lambda: health(client, name) == "healthy")),
    ]  # fmt: skip
    for poller in pollers:
        poller.start()
    applier.reconcile(base, run)
    for poller in pollers:
        poller.join(timeout=190)
    applier.reconcile(run, base)
    return seen["healthy"] - seen["ready"]


def probes_started(client: docker.DockerClient, names: list[str], since: float,
                   until_s: float) -> int:  # fmt: skip
    """How many health probes the engine started in `names` between the two times: a count
    that other work on the machine cannot blur, unlike CPU time."""
    ours = set(names)
    events = client.events(since=since, until=until_s, decode=True,
                           filters={"type": "container", "event": "exec_create"})  # fmt: skip
    return sum(
        1 for e in events
        if e["Actor"]["Attributes"].get("name") in ours and "sandbox-health" in e["Action"]
    )  # fmt: skip


def idle_cost(client: docker.DockerClient, applier: Any, base: Run, fleet: Run,
              names: list[str], window: float) -> tuple[float, float]:  # fmt: skip
    """The engine's CPU (a share of one core) and the probes started per minute while `fleet`
    idles (all healthy)."""
    applier.reconcile(base, fleet)
    until(lambda: all(health(client, n) == "healthy" for n in names), 900, 0.5)
    time.sleep(10)
    before, start = engine_cpu_seconds(), time.time()
    time.sleep(window)
    share = (engine_cpu_seconds() - before) / window
    per_minute = probes_started(client, names, start, time.time()) * 60 / window
    applier.reconcile(fleet, base)
    return share, per_minute


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
            results[label] = idle_cost(client, applier, base, fleet, names, args.window)
        one = {"probe-late": {"task": "test", "data": "discard"}}
        late = {}
        for label, run in (("long poll (now)", program(work, one, port)),
                           ("every 5 s (before)", with_healthcheck(program(work, one, port),
                                                                    BEFORE))):  # fmt: skip
            late[label] = healthy_after_ready(client, applier, base, run, f"{PREFIX}probe-late")
    print(f"\n{args.count} idle headless sandboxes: the engine's CPU (dockerd, containerd, shims)")
    print(f"  no sandboxes (the floor)            {100 * floor:6.2f} % of a core")
    for label, (share, per_minute) in results.items():
        print(f"  {label:34s}  {100 * share:6.2f} % of a core, {per_minute:7.1f} probes a minute")
    (a, pa), (b, pb) = results["long poll (now)"], results["every 5 s (before)"]
    print(f"  ratio now/before                    {a / b:6.2f}x CPU, {pa / pb:.2f}x probes")
    print("one more sandbox: Docker says healthy this long after it is ready")
    for label, seconds in late.items():
        print(f"  {label:34s}  {seconds:6.3f} s")


if __name__ == "__main__":
    main()
