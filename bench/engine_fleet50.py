"""50 headless sandboxes of one repository at once, on the real `pulumi up`: time until all are
healthy as Docker reports it, and their total memory.

    python -m bench.engine_fleet50 [--count 50] [--settle 30] [--direct]

A spec of N headless entries (`cpus: 0.25`, `memory: 256Mi`, pinned `ssh_port`s in a free block
of 127.0.0.1 ports below the kernel's ephemeral range, each cloning one repository from a local
`git daemon`, so with its mirror) goes from none to all N in one `pulumi up` on the real engine
(bench/engine_common: engine_project), which creates them in parallel.
- "all healthy": from the start of `up` until Docker has reported each of the N `healthy`
  (its `health_status` events);
- `--direct`: the same spec recorded by the program (under mocks) and applied through the Docker
  API by tests/support/docker_apply, one resource after another (the method of the figures
  before the real engine; the host's Readiness waits once, at the end), instead of `up`;
- "`up` returned": `up` waits for the sandboxes' readiness itself (readyTimeoutSeconds);
- CPU: the whole machine's busy time (/proc/stat) from the start until both of the above, and
  its share of all cores over that time (near 100 %: the machine, not the orchestration, is
  the limit);
- memory after `--settle` seconds idle: the sum of `docker stats` MEM USAGE of the N sandboxes
  (the keeper and the long-polling health probes included: each sandbox holds one probe's bash
  most of the time), and the growth of the whole machine's used memory (MemTotal -
  MemAvailable), which also counts one containerd shim per container and the engine's own
  bookkeeping.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import docker
import yaml

from bench.engine_common import (
    bench_fleet,
    busy_core_seconds,
    engine,
    engine_project,
    host_used_mib,
    memory,
    program,
    until,
)
from tests.support.docker_apply import destroy_all
from tests.support.git_daemon import bridge_gateway, git_daemon, port_block, service_port

Apply = Callable[[dict[str, Any]], None]

PREFIX = "sfbench-f-"


def healthy_events(client: docker.DockerClient, names: set[str], seen: dict[str, float]) -> None:
    """Fill `seen` with when Docker first reported each of `names` healthy (until all are)."""
    stream = client.events(decode=True, filters={"type": "container"})
    for event in stream:
        name = event.get("Actor", {}).get("Attributes", {}).get("name", "")
        if event["Action"] == "health_status: healthy" and name in names:
            seen.setdefault(name, event["timeNano"] / 1e9)
            if len(seen) == len(names):
                stream.close()
                return


@contextmanager
def applying(client: docker.DockerClient, work: Path, direct: bool) -> Iterator[Apply]:
    """What puts a spec of entries on the engine: `pulumi up`, or (`direct`) the program's
    recorded resources applied through the Docker API. The shared pieces are up first."""
    if direct:
        with bench_fleet(client) as applier:
            overrides = {"namePrefix": PREFIX, "supervisorPort": service_port()}
            base = program(work, {}, overrides)
            applier.apply(base)  # network, shared volumes, supervisor: not part of the timing
            yield lambda entries: applier.reconcile(base, program(work, entries, overrides))
        return
    destroy_all(client, PREFIX)
    project = engine_project(work, PREFIX)

    def up(entries: dict[str, Any]) -> None:
        spec = yaml.safe_dump({"version": 1, "sandboxes": entries})
        (project.directory / "sandboxes.yaml").write_text(spec)
        project.run("up", "--yes")

    try:
        yield up
    finally:
        project.run("destroy", "--yes", "--exclude-protected", check=False)
        destroy_all(client, PREFIX)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--settle", type=float, default=30)
    parser.add_argument("--direct", action="store_true", help="through the Docker API, not `up`")
    args = parser.parse_args()
    client = engine()
    first = port_block(2 * args.count)  # each headless block: SSH, then the noVNC slot
    names = {f"{PREFIX}box-{i:02d}" for i in range(args.count)}
    with tempfile.TemporaryDirectory(prefix="sfbench-") as tmp:
        work = Path(tmp)
        with (
            applying(client, work, args.direct) as apply,
            git_daemon(work / "git", bridge_gateway(client)) as git,
        ):
            entries = {
                f"box-{i:02d}": {"task": "test", "repo": git.url, "ssh_port": first + 2 * i,
                                 "resources": {"cpus": 0.25, "memory": "256Mi"}}
                for i in range(args.count)
            }  # fmt: skip
            seen: dict[str, float] = {}
            watcher = threading.Thread(
                target=healthy_events, args=(client, names, seen), daemon=True
            )
            watcher.start()
            used_before = host_used_mib()
            busy_before = busy_core_seconds()
            start = time.time()
            apply(entries)
            returned = time.time() - start
            until(lambda: len(seen) == len(names), 600, 0.5)
            healthy = max(seen.values()) - start
            busy = busy_core_seconds() - busy_before
            time.sleep(args.settle)
            total = sum(memory(client, n).shown for n in names)
            growth = host_used_mib() - used_before
    n = args.count
    how = "applied through the Docker API" if args.direct else "one `pulumi up` (real engine)"
    print(f"{n} headless sandboxes of one repository, {how}")
    print(f"  all healthy (Docker's status)            {healthy:7.1f} s")
    print(f"  applied / `up` returned                  {returned:7.1f} s")
    cores = os.cpu_count() or 1
    print(f"  machine CPU busy until then              {busy:7.1f} core-s ({busy / n:.2f} each; "
          f"{busy / (max(healthy, returned) * cores):.0%} of {cores} cores)")  # fmt: skip
    print(f"  memory after {args.settle:.0f} s idle: docker stats sum {total:7.1f} MiB "
          f"({total / n:.1f} MiB each)")  # fmt: skip
    print(
        f"  machine used-memory growth               {growth:7.1f} MiB ({growth / n:.1f} MiB each)"
    )


if __name__ == "__main__":
    main()
