"""Shared pieces of the real-engine benchmarks (bench/engine_*.py).

Each benchmark runs the real `__main__.py` under mocks for a generated spec and creates what it
recorded with `tests.support.docker_apply`, exactly as the integration tests do. Everything is
named `sfbench-*`, labelled with the fleet label, and removed when the benchmark ends.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors
import yaml

from tests.support import REPO_ROOT, ensure_base_image
from tests.support.docker_apply import FLEET_LABEL, DockerApplier, destroy_all
from tests.support.git_daemon import service_port
from tests.support.pulumi_cli import Project, copy_project, install_engine, without_pids_command
from tests.support.pulumi_harness import Run, run_program, stack_config

PREFIX = "sfbench-"
MIB = 1024 * 1024
BASE_IMAGE = "debian:bookworm-slim"
# On the bench's own containers (not the program's): destroy_all finds them by it.
LABELS = {FLEET_LABEL: f"{PREFIX}sandbox-fleet"}


def engine() -> docker.DockerClient:
    subprocess.run([str(REPO_ROOT / "scripts" / "ensure-docker")], check=True)
    client = docker.from_env(timeout=300)
    ensure_base_image(client)
    return client


class _NoAliases(yaml.SafeDumper):
    """Writes a value shared by several entries out each time: the spec refuses YAML aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def program(
    workdir: Path, sandboxes: Mapping[str, Any], overrides: Mapping[str, Any] | None = None
) -> Run:
    """Record the real program for a spec with these entries (no model server by default)."""
    spec = workdir / f"bench-{len(sandboxes)}.yaml"
    doc = {"version": 1, "defaults": {"base": "main"}, "sandboxes": dict(sandboxes)}
    spec.write_text(yaml.dump(doc, Dumper=_NoAliases, sort_keys=False))
    config = {
        "namePrefix": PREFIX,
        "bindAddress": "127.0.0.1",
        "buildImages": True,
        "modelServerEnabled": False,
        # The host preflight runs for real; limits are caps, and 50 sandboxes of 0.25 CPU
        # over-commit a 2-core machine by design.
        "preflightOvercommitRatio": "8",
        "preflightCpuOvercommitRatio": "8",
        **(overrides or {}),
        "spec": str(spec),
    }
    run = run_program(
        REPO_ROOT / "__main__.py", stack_config(REPO_ROOT / "Pulumi.dev.yaml", config)
    )
    if run.error is not None:
        raise SystemExit(f"the program failed under mocks: {run.error}")
    return run


# The stack secrets a Docker host's stack needs (scripts/up makes them for users).
ENGINE_SECRETS = {"supervisorApiToken": "bench-token", "sshSecret": "bench-ssh-secret"}


def engine_project(work: Path, prefix: str, port: int | None = None) -> Project:
    """A copy of the project on the real engine (scripts/install-pulumi), stack `bench` on a
    local backend in `work`, its shared pieces and images up: what the benchmarks then time is
    the sandboxes alone. Without the pids-limit command, as every real-engine test
    (docs/engine.md)."""
    directory = copy_project(work / "project")
    without_pids_command(directory)
    project = Project(directory, install_engine(), work / "state", stack="bench")
    (directory / "sandboxes.yaml").write_text("version: 1\nsandboxes: {}\n")
    config = {"namePrefix": prefix, "preflightEnabled": "false", "modelServerEnabled": "false",
              "supervisorPort": str(port or service_port())}  # fmt: skip
    project.init(directory / "Pulumi.dev.yaml", config, ENGINE_SECRETS)
    project.run("up", "--yes")
    return project


@contextmanager
def bench_fleet(client: docker.DockerClient) -> Iterator[DockerApplier]:
    destroy_all(client, PREFIX)
    try:
        yield DockerApplier(client)
    finally:
        destroy_all(client, PREFIX)


def until(check: Callable[[], bool], timeout_s: float, every_s: float = 0.05) -> float:
    """Seconds until `check()` is true (polled); raises after `timeout_s`."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout_s:
            raise TimeoutError(f"not reached in {timeout_s}s")
        time.sleep(every_s)
    return time.monotonic() - start


def exec_ok(client: docker.DockerClient, name: str, cmd: list[str]) -> bool:
    try:
        run = client.api.exec_create(name, cmd)
        client.api.exec_start(run["Id"])
        return bool(client.api.exec_inspect(run["Id"])["ExitCode"] == 0)
    except docker.errors.APIError:  # not running yet
        return False


def health(client: docker.DockerClient, name: str) -> str:
    state = client.api.inspect_container(name)["State"]
    return str(state.get("Health", {}).get("Status") or state["Status"])


@dataclass(frozen=True)
class Memory:
    """One container's memory, MiB."""

    shown: float  # what `docker stats` shows as MEM USAGE: usage minus inactive file cache
    anon: float  # its processes' own memory: anonymous pages and shared memory (/dev/shm)
    active_file: float  # page cache charged to it: image files it read first, its workspace


def memory(client: docker.DockerClient, name: str) -> Memory:
    """The kernel charges a page-cache page to the first cgroup that reads it, so the first
    container of an image also carries the image's binaries (Chromium: ~150 MiB) for all the
    others: `active_file` tells that apart from what the container's processes hold."""
    stats = client.api.stats(name, stream=False, one_shot=True)["memory_stats"]
    inner = stats.get("stats", {})
    if "total_active_anon" in inner:  # cgroup v1; shmem is on the anon lists
        anon = inner["total_active_anon"] + inner["total_inactive_anon"]
        active, inactive = inner["total_active_file"], inner["total_inactive_file"]
    else:  # cgroup v2
        anon = inner.get("anon", 0) + inner.get("shmem", 0)
        active, inactive = inner.get("active_file", 0), inner.get("inactive_file", 0)
    return Memory((stats["usage"] - inactive) / MIB, anon / MIB, active / MIB)


def host_used_mib() -> float:
    """MemTotal - MemAvailable: what the whole machine uses (shims and dockerd included)."""
    info = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    return (int(info["MemTotal"].split()[0]) - int(info["MemAvailable"].split()[0])) / 1024


def busy_core_seconds() -> float:
    """CPU time the whole machine has spent busy since boot, all cores together (/proc/stat:
    everything but idle and iowait)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def generate(bare: Path, history_mb: int) -> None:
    """A bare repository of `history_mb` commits of 1 MB of random bytes each (git fast-import:
    seconds, not minutes)."""
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    # Each commit continues the branch's tip (fast-import's own rule): no `from` needed.
    stream = [b"blob\nmark :1\ndata 17\nmirror benchmark\n\n"]
    for i in range(history_mb):
        data = os.urandom(MIB)
        stream.append(b"blob\nmark :%d\ndata %d\n" % (i + 2, len(data)) + data + b"\n")
        message = b"commit %d\n" % i
        stream.append(
            b"commit refs/heads/main\ncommitter bench <b@b> %d +0000\ndata %d\n%s"
            % (1_700_000_000 + i, len(message), message)
        )
        stream.append(b"M 100644 :1 README.md\nM 100644 :%d data.bin\n\n" % (i + 2))
    subprocess.run(["git", "-C", str(bare), "fast-import", "--quiet"], input=b"".join(stream),
                   check=True)  # fmt: skip
    subprocess.run(["git", "-C", str(bare), "repack", "-q", "-a", "-d"], check=True)


def median(values: list[float]) -> float:
    return float(statistics.median(values))
