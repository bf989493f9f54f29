"""50 headless sandboxes at once: time until all are healthy, and their total memory.

    python -m bench.engine_fleet50 [--count 50] [--settle 30]

A spec of N headless entries (pinned `ssh_port`s in a free block of 127.0.0.1 ports, each
cloning a one-commit repo from a local `git daemon`) is recorded by the program and applied in
one go. The applier creates containers one after another (volume, create, start,
pids-limit command each), so "applied" is a sequential create time; Pulumi would run up to its
`--parallel` limit at once. "All healthy" is the time until Docker reports every container
`healthy` (its probe runs every 5 s, so this is rounded up to the probe schedule).
Memory after `--settle` seconds idle: the sum of `docker stats` MEM USAGE of the N sandboxes,
and the growth of the whole machine's used memory (MemTotal - MemAvailable), which also counts
one containerd shim per container and the engine's own bookkeeping.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.engine_common import (
    PREFIX,
    bench_fleet,
    engine,
    health,
    host_used_mib,
    memory,
    program,
    until,
)
from tests.support.git_daemon import bridge_gateway, git_daemon, port_block, service_port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--settle", type=float, default=30)
    args = parser.parse_args()
    client = engine()
    first = port_block(2 * args.count)  # each headless block: SSH, then the noVNC slot
    with tempfile.TemporaryDirectory() as tmp, bench_fleet(client) as applier:
        work = Path(tmp)
        with git_daemon(work / "git", bridge_gateway(client)) as git:
            entries = {
                f"box-{i:02d}": {
                    "task": "test",
                    "repo": git.url,
                    "ssh_port": first + 2 * i,
                    "resources": {"cpus": 0.25, "memory": "256Mi"},
                }
                for i in range(args.count)
            }
            overrides = {"supervisorPort": service_port()}  # the same in both: nothing else moves
            base = program(work, {}, overrides)
            run = program(work, entries, overrides)
            applier.apply(base)  # network, shared volumes, supervisor: not part of the timing
            names = [f"{PREFIX}{n}" for n in entries]
            used_before = host_used_mib()
            start = time.monotonic()
            applier.reconcile(base, run)
            applied = time.monotonic() - start
            until(lambda: all(health(client, n) == "healthy" for n in names), 600, every_s=0.5)
            healthy = time.monotonic() - start
            time.sleep(args.settle)
            total = sum(memory(client, n).shown for n in names)
            growth = host_used_mib() - used_before
    n = args.count
    print(f"{n} headless sandboxes, each cloning from a local git daemon")
    print(f"  applied (sequential create+start of {n})  {applied:7.1f} s")
    print(f"  all healthy (Docker status)              {healthy:7.1f} s")
    print(f"  memory after {args.settle:.0f} s idle: docker stats sum {total:7.1f} MiB "
          f"({total / n:.1f} MiB each)")  # fmt: skip
    print(
        f"  machine used-memory growth               {growth:7.1f} MiB ({growth / n:.1f} MiB each)"
    )


if __name__ == "__main__":
    main()
