"""50 headless sandboxes of one repository at once, on the real `pulumi up`: time until all are
healthy as Docker reports it, and their total memory.

    python -m bench.engine_fleet50 [--count 50] [--settle 30]

A spec of N headless entries (`cpus: 0.25`, `memory: 256Mi`, pinned `ssh_port`s in a free block
of 127.0.0.1 ports below the kernel's ephemeral range, each cloning one repository from a local
`git daemon`, so with its mirror) goes from none to all N in one `pulumi up` on the real engine
(bench/engine_common: engine_project), which creates them in parallel.
- "all healthy": from the start of `up` until Docker has reported each of the N `healthy`
  (its `health_status` events);
- "`up` returned": `up` waits for each sandbox's readiness itself (readyTimeoutSeconds);
- memory after `--settle` seconds idle: the sum of `docker stats` MEM USAGE of the N sandboxes
  (the keeper and the long-polling health probes included: each sandbox holds one probe's bash
  most of the time), and the growth of the whole machine's used memory (MemTotal -
  MemAvailable), which also counts one containerd shim per container and the engine's own
  bookkeeping.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import docker

from bench.engine_common import engine, engine_project, host_used_mib, memory, until
from tests.support.docker_apply import destroy_all
from tests.support.git_daemon import bridge_gateway, git_daemon, port_block

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--settle", type=float, default=30)
    args = parser.parse_args()
    client = engine()
    destroy_all(client, PREFIX)
    first = port_block(2 * args.count)  # each headless block: SSH, then the noVNC slot
    names = {f"{PREFIX}box-{i:02d}" for i in range(args.count)}
    with tempfile.TemporaryDirectory(prefix="sfbench-") as tmp:
        work = Path(tmp)
        project = engine_project(work, PREFIX)
        try:
            with git_daemon(work / "git", bridge_gateway(client)) as git:
                lines = [
                    f"  box-{i:02d}: {{task: test, repo: '{git.url}', ssh_port: {first + 2 * i},"
                    " resources: {cpus: 0.25, memory: 256Mi}}"
                    for i in range(args.count)
                ]
                spec = "version: 1\nsandboxes:\n" + "\n".join(lines) + "\n"
                (project.directory / "sandboxes.yaml").write_text(spec)
                seen: dict[str, float] = {}
                watcher = threading.Thread(
                    target=healthy_events, args=(client, names, seen), daemon=True
                )
                watcher.start()
                used_before = host_used_mib()
                start = time.time()
                project.run("up", "--yes")
                returned = time.time() - start
                until(lambda: len(seen) == len(names), 600, 0.5)
                healthy = max(seen.values()) - start
                time.sleep(args.settle)
                total = sum(memory(client, n).shown for n in names)
                growth = host_used_mib() - used_before
        finally:
            project.run("destroy", "--yes", "--exclude-protected", check=False)
            destroy_all(client, PREFIX)
    n = args.count
    print(f"{n} headless sandboxes of one repository, one `pulumi up` (real engine)")
    print(f"  all healthy (Docker's status)            {healthy:7.1f} s")
    print(f"  `pulumi up` returned                     {returned:7.1f} s")
    print(f"  memory after {args.settle:.0f} s idle: docker stats sum {total:7.1f} MiB "
          f"({total / n:.1f} MiB each)")  # fmt: skip
    print(
        f"  machine used-memory growth               {growth:7.1f} MiB ({growth / n:.1f} MiB each)"
    )


if __name__ == "__main__":
    main()
