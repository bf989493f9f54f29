"""A repository's mirror (issue #14): ready time and disk, with and without it, in one run.

    python -m bench.engine_mirror [--runs 7] [--history-mb 200] [--disk-count 20]

The repository is generated: `--history-mb` commits, each replacing one 1 MB file of random
bytes (so the history does not compress) beside a README: its history is that many MB, its
working tree about 1 MB. A local `git daemon` serves it on the default bridge's gateway.

Ready time, as bench/engine_ready measures it (until the container's own `sandbox-health`
first succeeds, polled every 20 ms; from the sandbox's first resource), against a bare container
of the same base image (until `docker exec true` first succeeds), alternating, medians:
- warm mirror: the repository's mirror is there already (another sandbox of it exists);
- cold mirror: the first sandbox of the repository, from its mirror's first resource;
- no mirror (`mirrorEnabled: false`): the sandbox clones the whole history itself.
Disk: `--disk-count` sandboxes of the repository, the bytes of their workspace volumes (the
engine's `docker system df -v` figures) with and without the mirror, and the mirror's own.
Everything is named `sfbench-*` and removed at the end.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import docker

from bench.engine_common import PREFIX, bench_fleet, engine, median, program, until
from bench.engine_ready import bare_ready, exec_ok
from tests.support.docker_apply import DockerApplier
from tests.support.git_daemon import bridge_gateway, git_daemon, service_port
from tests.support.pulumi_harness import Run

MB = 1024 * 1024


def generate(bare: Path, history_mb: int) -> None:
    """A bare repository of `history_mb` commits of 1 MB of random bytes each (git fast-import:
    seconds, not minutes)."""
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    stream = [b"blob\nmark :1\ndata 18\nmirror benchmark\n\n"]
    for i in range(history_mb):
        data = os.urandom(MB)
        stream.append(b"blob\nmark :%d\ndata %d\n" % (i + 2, len(data)) + data + b"\n")
        stream.append(
            b"commit refs/heads/main\ncommitter bench <b@b> %d +0000\ndata 9\ncommit %03d\n"
            % (1_700_000_000 + i, i % 1000)
        )
        if i:
            stream.append(b"from refs/heads/main^0\n")
        stream.append(b"M 100644 :1 README.md\nM 100644 :%d data.bin\n\n" % (i + 2))
    subprocess.run(["git", "-C", str(bare), "fast-import", "--quiet"], input=b"".join(stream),
                   check=True)  # fmt: skip
    subprocess.run(["git", "-C", str(bare), "repack", "-q", "-a", "-d"], check=True)


def entry(repo: str) -> dict[str, Any]:
    return {"task": "test", "repo": repo, "data": "discard", "resources": {"memory": "512Mi"}}


def ready_after(client: docker.DockerClient, applier: DockerApplier, old: Run, new: Run,
                name: str, first: str) -> float:  # fmt: skip
    """Seconds from the first resource whose name ends with `first` to `name` being ready."""
    done: list[float] = []

    def poll() -> None:
        until(lambda: exec_ok(client, name, ["/usr/local/bin/sandbox-health"]), 900, 0.02)
        done.append(time.monotonic())

    poller = threading.Thread(target=poll)
    poller.start()
    applier.reconcile(old, new)
    poller.join(timeout=910)
    start = next(s.start for s in applier.steps if s.resource.name.endswith(first))
    return done[0] - start


def volume_bytes(client: docker.DockerClient, prefix: str) -> dict[str, int]:
    volumes = client.df()["Volumes"] or []
    return {v["Name"]: v["UsageData"]["Size"] for v in volumes if v["Name"].startswith(prefix)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--history-mb", type=int, default=200)
    parser.add_argument("--disk-count", type=int, default=20)
    args = parser.parse_args()
    client = engine()
    with tempfile.TemporaryDirectory() as tmp, bench_fleet(client) as applier:
        work = Path(tmp)
        with git_daemon(work / "git", bridge_gateway(client)) as git:
            generate(work / "git" / "big.git", args.history_mb)
            repo = git.url.replace("proj.git", "big.git")
            port = {"supervisorPort": service_port()}
            off = {**port, "mirrorEnabled": False}
            base, anchored = program(work, {}, port), program(work, {"anchor": entry(repo)}, port)
            warm = program(work, {"anchor": entry(repo), "box": entry(repo)}, port)
            cold = program(work, {"box": entry(repo)}, port)
            base_off, plain = program(work, {}, off), program(work, {"box": entry(repo)}, off)
            box = f"{PREFIX}box"
            figures: dict[str, list[float]] = {"bare": [], "warm": [], "cold": [], "none": []}
            applier.apply(base)
            for _ in range(args.runs):
                figures["bare"].append(bare_ready(client))
                figures["cold"].append(ready_after(client, applier, base, cold, box, "-mirror-"
                                                   + cold_slug(cold)))  # fmt: skip
                applier.reconcile(cold, base)
                _drop_mirror(client)
                applier.reconcile(base, anchored)
                figures["warm"].append(ready_after(client, applier, anchored, warm, box,
                                                   "-box-workspace"))  # fmt: skip
                applier.reconcile(warm, base)
                _drop_mirror(client)
                applier.reconcile(base, base_off)
                figures["none"].append(ready_after(client, applier, base_off, plain, box,
                                                   "-box-workspace"))  # fmt: skip
                applier.reconcile(plain, base_off)
                applier.reconcile(base_off, base)
            disk = {
                on: measure_disk(client, applier, base, program(work, {
                    f"disk-{i:02d}": entry(repo) for i in range(args.disk_count)
                }, {**port, "mirrorEnabled": on}), args.disk_count)
                for on in (True, False)
            }  # fmt: skip
    report(args, figures, disk)


def cold_slug(run: Run) -> str:
    keeper = next(r.name for r in run.resources if r.name.endswith("-keeper"))
    return keeper.split("-mirror-", 1)[1].removesuffix("-keeper")


def _drop_mirror(client: docker.DockerClient) -> None:
    """The mirror volume is kept on removal (as for users): a cold run starts without it."""
    for volume in client.volumes.list(filters={"name": f"{PREFIX}mirror-"}):
        volume.remove(force=True)


def measure_disk(client: docker.DockerClient, applier: DockerApplier, base: Run, many: Run,
                 count: int) -> dict[str, int]:  # fmt: skip
    """Bytes of `many`'s workspaces and mirror, once all are ready, and of one working tree."""
    applier.reconcile(base, many)
    names = [f"{PREFIX}disk-{i:02d}" for i in range(count)]
    until(lambda: all(exec_ok(client, n, ["/usr/local/bin/sandbox-health"]) for n in names),
          900, 0.5)  # fmt: skip
    sizes = volume_bytes(client, PREFIX)
    tree = int(subprocess.run(
        ["docker", "exec", names[0], "du", "-sb", "--exclude=.git", "/workspace"],
        capture_output=True, text=True, check=True).stdout.split()[0])  # fmt: skip
    found = {
        "workspaces": sum(v for k, v in sizes.items() if "-workspace-disk-" in k),
        "mirror": sum(v for k, v in sizes.items() if "-mirror-" in k),
        "tree": tree,
    }
    applier.reconcile(many, base)
    _drop_mirror(client)
    return found


def report(args: argparse.Namespace, f: dict[str, list[float]],
           disk: dict[bool, dict[str, int]]) -> None:  # fmt: skip
    bare = median(f["bare"])
    print(f"\nheadless sandbox of a repository with {args.history_mb} MB of history, "
          f"medians of {args.runs} runs (seconds)")  # fmt: skip
    print(f"  bare container ready                {bare:7.3f}")
    for key, label in (("warm", "warm mirror"), ("cold", "cold mirror (from the mirror's "
                       "first resource)"), ("none", "no mirror (whole clone)")):  # fmt: skip
        value = median(f[key])
        print(f"  {label:36s}{value:7.3f}  = {value / bare:5.2f}x bare")
    n = args.disk_count
    for mirrored, d in disk.items():
        each = d["workspaces"] / n
        print(f"\n{n} sandboxes, {'with' if mirrored else 'without'} the mirror: workspaces "
              f"{d['workspaces'] / MB:8.1f} MiB ({each / MB:.2f} MiB each), mirror "
              f"{d['mirror'] / MB:.1f} MiB, working tree {d['tree'] / MB:.2f} MiB; each extra "
              f"sandbox = {each / d['tree']:.3f}x its working tree")  # fmt: skip


if __name__ == "__main__":
    main()
