"""A repository's mirror (issue #14) on the real `pulumi up`: ready time and disk, with and
without it, against a bare container, in one run.

    python -m bench.engine_mirror [--runs 7] [--history-mb 200] [--disk-count 20]
        [--cases no-repo warm cold none]

The repository is generated: `--history-mb` commits, each replacing one 1 MB file of random
bytes (so the history does not compress) beside a README: its history is that many MB, its
working tree about 1 MB. A local `git daemon` serves it on the default bridge's gateway.

The fleet side is the real CLI, language host and docker plugin (scripts/install-pulumi) on a
copy of the project (without the pids-limit command, as every real-engine test: docs/engine.md).
Each run adds one sandbox `box` of that repository with `pulumi up` and removes it again. Its
times come from the engine itself: the Docker events of its resources (nanosecond stamps), the
stamps Docker puts on its log lines, and its own `sandbox-health` polled with `docker exec`
every 20 ms (as the bare side is). Four cases (`--cases`), medians:
- warm mirror: another sandbox of the repository (`anchor`) exists, so its mirror does; from
  the box's first resource (its workspace volume) to ready;
- cold mirror: the repository's first sandbox, its mirror volume removed before; from the
  mirror's first resource (its volume) to ready;
- no mirror (`mirrorEnabled: false`): the sandbox clones the whole history itself;
- no repository: a sandbox without one added beside another (`anchor`), for reference: the
  engine's own path from its first resource to ready and to `up` returning.
The bare side: `debian:bookworm-slim` running `sleep infinity`, from the create call until a
`docker exec true` first succeeds (bench/engine_ready: bare_ready), one before each sandbox.
Disk: `--disk-count` sandboxes of the repository, the bytes of their workspace volumes (the
engine's `docker system df -v` figures) with and without the mirror, and the mirror's own.
Everything is named `sfbench-m-*` and removed at the end.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import docker

from bench.engine_common import MIB, engine, engine_project, exec_ok, generate, median, until
from bench.engine_ready import bare_ready
from components.planes.docker.memory import repo_slug
from tests.support.docker_apply import destroy_all
from tests.support.git_daemon import bridge_gateway, git_daemon
from tests.support.pulumi_cli import Project

PREFIX = "sfbench-m-"
CASES = ("no-repo", "warm", "cold", "none")
BOX = f"{PREFIX}box"


def write_spec(project: Project, repo: str | None, names: list[str]) -> None:
    source = f'repo: "{repo}", ' if repo else ""
    entry = f"{{task: test, {source}data: discard, resources: {{memory: 512Mi}}}}"
    lines = [f"  {n}: {entry}" for n in names]
    body = "\n".join(lines) if lines else "  {}"
    (project.directory / "sandboxes.yaml").write_text(f"version: 1\nsandboxes:\n{body}\n")


@dataclass
class Events:
    """The engine's own stamps (seconds since the epoch) of what happens to the fleet's objects:
    `first[(kind, action, name)]`, the first time each was seen."""

    first: dict[tuple[str, str, str], float] = field(default_factory=dict)

    def at(self, kind: str, action: str, name: str) -> float:
        return self.first[(kind, action, name)]


@contextmanager
def watching(client: docker.DockerClient) -> Iterator[Events]:
    seen = Events()
    stream = client.events(decode=True, filters={"type": ["volume", "container"]})

    def read() -> None:
        for event in stream:
            actor = event.get("Actor", {})
            name = actor.get("Attributes", {}).get("name") or actor.get("ID", "")
            if name.startswith(PREFIX):
                key = (event["Type"], event["Action"], name)
                seen.first.setdefault(key, event["timeNano"] / 1e9)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        yield seen
    finally:
        stream.close()


def log_stamp(client: docker.DockerClient, name: str, text: str) -> float | None:
    """When the container first logged a line with `text`, by Docker's own stamp."""
    for line in client.api.logs(name, timestamps=True).decode().splitlines():
        stamp, _, rest = line.partition(" ")  # 2026-12-06T09:03:09.123456789Z
        if text in rest:
            whole, _, frac = stamp.removesuffix("Z").partition(".")
            return datetime.fromisoformat(whole + "+00:00").timestamp() + float(f"0.{frac}")
    return None


@dataclass(frozen=True)
class Added:
    """One `up` adding the box: seconds since its first resource (or the mirror's)."""

    ready: float
    steps: dict[str, float]


def add_box(project: Project, client: docker.DockerClient, repo: str | None, before: list[str],
            first: str) -> Added:  # fmt: skip
    """`up` with the box added to `before`; `first` names the resource the time starts at."""
    write_spec(project, repo, [*before, "box"])
    with watching(client) as events:
        ready: list[float] = []

        def poll() -> None:
            until(lambda: exec_ok(client, BOX, ["/usr/local/bin/sandbox-health"]), 900, 0.02)
            ready.append(time.time())

        poller = threading.Thread(target=poll)
        poller.start()
        project.run("up", "--yes")
        returned = time.time()
        poller.join(timeout=910)
        until(lambda: ("container", "health_status: healthy", BOX) in events.first, 120, 0.05)
    start = events.at("volume", "create", first)
    stamps = {
        "container created": events.at("container", "create", BOX),
        "container started": events.at("container", "start", BOX),
        "sshd listening": log_stamp(client, BOX, "Server listening"),
        "checkout done": log_stamp(client, BOX, "sandbox-sync: ready"),
        "ready (sandbox-health)": ready[0],
        "Docker says healthy": events.at("container", "health_status: healthy", BOX),
        "`pulumi up` returned": returned,
    }
    write_spec(project, repo, before)
    project.run("up", "--yes")
    return Added(ready[0] - start, {k: v - start for k, v in stamps.items() if v is not None})


def drop_mirrors(client: docker.DockerClient) -> None:
    """The mirror volume is kept on removal (as for users): a cold run starts without it."""
    for volume in client.volumes.list(filters={"name": f"{PREFIX}mirror-"}):
        volume.remove(force=True)


def volume_bytes(client: docker.DockerClient) -> dict[str, int]:
    volumes = client.df()["Volumes"] or []
    return {v["Name"]: v["UsageData"]["Size"] for v in volumes if v["Name"].startswith(PREFIX)}


def measure_disk(project: Project, client: docker.DockerClient, repo: str,
                 count: int) -> dict[str, int]:  # fmt: skip
    """Bytes of `count` sandboxes' workspaces and of the mirror, once all are ready, and of
    one working tree."""
    names = [f"disk-{i:02d}" for i in range(count)]
    write_spec(project, repo, names)
    project.run("up", "--yes")  # returns once every sandbox is ready (readyTimeoutSeconds)
    sizes = volume_bytes(client)
    tree = int(subprocess.run(
        ["docker", "exec", f"{PREFIX}{names[0]}", "du", "-sb", "--exclude=.git", "/workspace"],
        capture_output=True, text=True, check=True).stdout.split()[0])  # fmt: skip
    found = {
        "workspaces": sum(v for k, v in sizes.items() if "workspace-disk-" in k),
        "mirror": sum(v for k, v in sizes.items() if "mirror-" in k),
        "tree": tree,
    }
    write_spec(project, repo, [])
    project.run("up", "--yes")
    drop_mirrors(client)
    return found


def run_case(project: Project, client: docker.DockerClient, repo: str | None, case: str,
             runs: int) -> tuple[list[float], list[Added]]:  # fmt: skip
    """`runs` pairs of (bare container, sandbox added) for one case."""
    bares, added = [], []
    before = ["anchor"] if case in ("warm", "no-repo") else []
    write_spec(project, repo, before)
    project.run("up", "--yes")
    first = f"{PREFIX}workspace-box"
    if case == "cold" and repo:
        first = f"{PREFIX}mirror-{repo_slug(repo)}"
    for _ in range(runs):
        if case == "cold":
            drop_mirrors(client)
        bares.append(bare_ready(client))
        added.append(add_box(project, client, repo, before, first))
    return bares, added


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--history-mb", type=int, default=200)
    parser.add_argument("--disk-count", type=int, default=20, help="0: no disk figures")
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    args = parser.parse_args()
    client = engine()
    destroy_all(client, PREFIX)
    figures: dict[str, tuple[list[float], list[Added]]] = {}
    disk: dict[bool, dict[str, int]] = {}
    with tempfile.TemporaryDirectory(prefix="sfbench-") as tmp:
        work = Path(tmp)
        project = engine_project(work, PREFIX)
        try:
            with git_daemon(work / "git", bridge_gateway(client)) as git:
                generate(work / "git" / "big.git", args.history_mb)
                repo = git.url.replace("proj.git", "big.git")
                for case in [c for c in ("no-repo", "warm", "cold") if c in args.cases]:
                    source = None if case == "no-repo" else repo
                    figures[case] = run_case(project, client, source, case, args.runs)
                if args.disk_count:
                    disk[True] = measure_disk(project, client, repo, args.disk_count)
                project.run("config", "set", "sandbox-fleet:mirrorEnabled", "false")
                if "none" in args.cases:
                    figures["none"] = run_case(project, client, repo, "none", args.runs)
                if args.disk_count:
                    disk[False] = measure_disk(project, client, repo, args.disk_count)
        finally:
            project.run("destroy", "--yes", "--exclude-protected", check=False)
            destroy_all(client, PREFIX)
    report(args, figures, disk)


def report(args: argparse.Namespace, figures: dict[str, tuple[list[float], list[Added]]],
           disk: dict[bool, dict[str, int]]) -> None:  # fmt: skip
    print(f"\nheadless sandbox of a repository with {args.history_mb} MB of history, added by "
          f"`pulumi up`; medians of {args.runs} runs (seconds)")  # fmt: skip
    labels = {"no-repo": "no repository", "warm": "warm mirror",
              "cold": "cold mirror (from the mirror's volume)",
              "none": "no mirror (whole clone)"}  # fmt: skip
    for case, (bares, added) in figures.items():
        bare, ready = median(bares), median([a.ready for a in added])
        ratios = ", ".join(f"{a.ready / b:.2f}" for b, a in zip(bares, added, strict=True))
        print(f"  {labels[case]:40s} {ready:7.3f} against bare {bare:.3f} = {ready / bare:5.2f}x"
              f"  (runs: {ratios})")  # fmt: skip
        for step in added[0].steps:
            values = [a.steps[step] for a in added if step in a.steps]
            print(f"      {step:32s} +{median(values):7.3f}")
    n = args.disk_count
    for mirrored, d in disk.items():
        each = d["workspaces"] / n
        print(f"\n{n} sandboxes, {'with' if mirrored else 'without'} the mirror: workspaces "
              f"{d['workspaces'] / MIB:8.1f} MiB ({each / MIB:.2f} MiB each), mirror "
              f"{d['mirror'] / MIB:.1f} MiB, working tree {d['tree'] / MIB:.2f} MiB; each extra "
              f"sandbox = {each / d['tree']:.3f}x its working tree")  # fmt: skip


if __name__ == "__main__":
    main()
