"""Idle memory per headless and per visual sandbox, and the image sizes.

    python -m bench.engine_memory [--headless 3] [--visual 2] [--settle 60]

The program is recorded for a spec of N headless and M visual entries (each cloning a
one-commit repo from a local `git daemon`), applied to the engine, and left idle `--settle`
seconds after every container is healthy. Memory is what `docker stats` shows as MEM USAGE
(the container cgroup's usage minus its inactive file cache), sampled 3 times 5 s apart; the
median sample per container is reported. Targets (issue): headless <= 16 MiB, visual <= 250 MiB.
Also printed: each container's own memory (anonymous pages and /dev/shm, "anon") apart from the
page cache charged to it ("active file"): the kernel charges an image's binaries to whichever
container read them first, so one container per image shows far more than the others.
Image sizes are the engine's `Size` (what `docker images` prints, decimal MB).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.engine_common import (
    PREFIX,
    Memory,
    bench_fleet,
    engine,
    health,
    median,
    memory,
    program,
    until,
)
from tests.support.git_daemon import bridge_gateway, git_daemon, service_port

IMAGES = [
    "debian:bookworm-slim",
    "sandbox-fleet/headless:latest",
    "sandbox-fleet/desktop:latest",
    "sandbox-fleet/supervisor:latest",
    "sandbox-fleet/model-server:latest",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--headless", type=int, default=3)
    parser.add_argument("--visual", type=int, default=2)
    parser.add_argument("--settle", type=float, default=60)
    args = parser.parse_args()
    client = engine()
    with tempfile.TemporaryDirectory() as tmp, bench_fleet(client) as applier:
        work = Path(tmp)
        with git_daemon(work / "git", bridge_gateway(client)) as git:
            entries: dict[str, dict[str, Any]] = {
                f"hl-{i}": {"task": "audit", "repo": git.url} for i in range(args.headless)
            }
            entries |= {
                f"vis-{i}": {
                    "task": "frontend-dev",
                    "repo": git.url,
                    "resources": {"memory": "1Gi"},
                }
                for i in range(args.visual)
            }
            run = program(work, entries, {"supervisorPort": service_port()})
            applier.apply(run)
            names = [f"{PREFIX}{n}" for n in entries]
            until(lambda: all(health(client, n) == "healthy" for n in names), 300, every_s=1)
            time.sleep(args.settle)
            samples: dict[str, list[Memory]] = {n: [] for n in names}
            for i in range(3):
                for n in names:
                    samples[n].append(memory(client, n))
                if i < 2:
                    time.sleep(5)
    per = {n: sorted(v, key=lambda m: m.shown)[1] for n, v in samples.items()}  # median sample
    for kind, target in (("hl-", 16), ("vis-", 250)):
        mine = [m for n, m in per.items() if n.startswith(PREFIX + kind)]
        values = sorted(mine, key=lambda m: m.shown)
        if values:
            label = "headless" if kind == "hl-" else "visual"
            for part in ("shown", "anon"):
                figures = [getattr(m, part) for m in values]
                print(f"idle {label:8} {part:5} MiB: median {median(figures):7.1f}  "
                      f"max {max(figures):7.1f}  (target <= {target})")  # fmt: skip
            each = ", ".join(f"{m.shown:.1f} = {m.anon:.1f} + {m.active_file:.1f}" for m in values)
            print(f"  each, shown = anon + active file cache: {each}")
            total = sum(m.shown for m in values)
            print(f"  all {len(values)} together: {total:.1f} MiB shown = {len(values)} x "
                  f"{total / len(values):.1f}; their processes hold "
                  f"{sum(m.anon for m in values):.1f}")  # fmt: skip
    print(f"(after {args.settle:.0f} s idle; 3 samples 5 s apart, median per container)")
    print("\nimage sizes")
    for tag in IMAGES:
        size = client.images.get(tag).attrs["Size"]
        print(f"  {tag:36} {size / 1e6:8.1f} MB  ({size / 2**20:7.1f} MiB)")


if __name__ == "__main__":
    main()
