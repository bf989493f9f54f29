"""`pulumi up` on the real engine: N sandboxes against the same containers made directly, a
no-op `up` of a large fleet against an empty one, and one sandbox added to a large fleet.

    python -m bench.engine_pulumi_up [--sizes 10 30] [--repeats 3] [--fleet 50]

The engine side is the real CLI, language host and docker plugin (scripts/install-pulumi) on a
copy of the project, driving the real __main__.py without the per-sandbox pids-limit command
(tests/support/pulumi_cli.py: without_pids_command), which needs pulumi-command, not buildable
here (docs/engine.md). The direct side creates the same sandboxes (workspace volume, container, pids
limit) from the same program's recorded inputs through the Docker API, with no engine
(tests/support/docker_apply). Ratios are taken pair by pair within one run.
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import docker

from bench.engine_common import engine, engine_project, median, program
from components.spec import load_spec
from tests.support.docker_apply import DockerApplier, destroy_all
from tests.support.pulumi_cli import Project
from tests.support.pulumi_harness import Run

ENGINE_PREFIX = "sfbench-e-"
DIRECT_PREFIX = "sfbench-d-"


# Present in every round of the creation benchmark, so the headless image is built and in the
# state before anything is timed: each side then creates only the N sandboxes themselves. Each
# side has its own (host ports come from the name, and both stay up).
KEEP = {"keep-engine": {"task": "audit"}}
DIRECT_KEEP = {"keep-direct": {"task": "audit"}}


def entries(count: int) -> dict[str, Any]:
    return {f"box-{i:03d}": {"task": "audit"} for i in range(count)}


def write_spec(path: Path, sandboxes: dict[str, Any]) -> None:
    lines = ["version: 1", "sandboxes:" + ("" if sandboxes else " {}")]
    lines += [f"  {name}: {{task: {e['task']}}}" for name, e in sandboxes.items()]
    path.write_text("\n".join(lines) + "\n")


def timed(project: Project, *args: str) -> float:
    start = time.monotonic()
    project.run(*args)
    return time.monotonic() - start


def remove_kept_volumes(client: docker.DockerClient, name_part: str) -> None:
    """Workspaces outlive their sandboxes by design; each round starts without them."""
    for volume in client.volumes.list(filters={"name": name_part}):
        volume.remove(force=True)


def engine_round(project: Project, client: docker.DockerClient, count: int, *flags: str) -> float:
    write_spec(project.directory / "sandboxes.yaml", KEEP | entries(count))
    seconds = timed(project, "up", "--yes", *flags)
    write_spec(project.directory / "sandboxes.yaml", KEEP)
    project.run("up", "--yes")
    remove_kept_volumes(client, f"{ENGINE_PREFIX}box-")
    return seconds


def direct_program(work: Path, count: int) -> Run:
    """The same program under mocks, recorded for the direct side (its own names and port)."""
    overrides = {"namePrefix": DIRECT_PREFIX, "preflightEnabled": False, "supervisorPort": 18102}
    return program(work, DIRECT_KEEP | entries(count), overrides)


def direct_round(
    applier: DockerApplier, client: docker.DockerClient, work: Path, count: int
) -> float:
    empty, fleet = direct_program(work, 0), direct_program(work, count)
    start = time.monotonic()
    applier.reconcile(empty, fleet)
    seconds = time.monotonic() - start
    applier.reconcile(fleet, empty)
    remove_kept_volumes(client, f"{DIRECT_PREFIX}box-")
    return seconds


def create_ratio(
    project: Project, client: docker.DockerClient, work: Path, sizes: list[int], repeats: int
) -> None:
    applier = DockerApplier(client)
    applier.apply(direct_program(work, 0))
    write_spec(project.directory / "sandboxes.yaml", KEEP)
    project.run("up", "--yes")
    print("\n## pulumi up creating N headless sandboxes vs the same made directly (medians)")
    print("| N | direct s | `up --yes` s | ratio | `up --yes --skip-preview` s | ratio |")
    print("| --- | --- | --- | --- | --- | --- |")
    for count in sizes:
        rounds = [
            (
                direct_round(applier, client, work, count),
                engine_round(project, client, count),
                engine_round(project, client, count, "--skip-preview"),
            )
            for _ in range(repeats)
        ]
        direct = median([d for d, _, _ in rounds])
        cells = [f"{count}", f"{direct:.1f}"]
        for column in (1, 2):
            ratios = [r[column] / r[0] for r in rounds]
            cells += [
                f"{median([r[column] for r in rounds]):.1f}",
                f"{median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})",
            ]
        print("| " + " | ".join(cells) + " |")


def noop_costs(project: Project, count: int, repeats: int) -> dict[str, float]:
    write_spec(project.directory / "sandboxes.yaml", entries(count))
    project.run("up", "--yes")
    figures: dict[str, list[float]] = {"version": [], "preview": [], "refresh": [], "up": []}
    for _ in range(repeats):
        start = time.monotonic()
        project.run("version", stack=False)
        figures["version"].append(time.monotonic() - start)
        figures["preview"].append(timed(project, "preview", "--expect-no-changes"))
        figures["refresh"].append(
            timed(project, "refresh", "--preview-only", "--expect-no-changes")
        )
        figures["up"].append(timed(project, "up", "--yes", "--expect-no-changes"))
    return {k: median(v) for k, v in figures.items()}


def noop_ratio(project: Project, fleet: int, repeats: int) -> None:
    empty, large = noop_costs(project, 0, repeats), noop_costs(project, fleet, repeats)
    print(f"\n## no-op commands: {fleet} sandboxes vs an empty fleet (medians of {repeats})")
    print(f"| command | empty s | {fleet} s | ratio |\n| --- | --- | --- | --- |")
    for key, what in [
        ("version", "`pulumi version` (CLI start)"),
        ("preview", "`preview` (program + plugin start + diff)"),
        ("refresh", "`refresh --preview-only` (plugin start + read of each resource)"),
        ("up", "no-op `up` (program + diff, nothing to do)"),
    ]:
        print(f"| {what} | {empty[key]:.2f} | {large[key]:.2f} | {large[key] / empty[key]:.2f}x |")


def ssh_banner(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.settimeout(0.5)
            return conn.recv(8).startswith(b"SSH-")
    except OSError:
        return False


def wait_for_ssh(port: int, start: float, answered: list[float], limit_s: float = 300) -> None:
    """Append the seconds from `start` until sshd answers on `port` (bounded by `limit_s`)."""
    while time.monotonic() - start < limit_s and not ssh_banner(port):
        time.sleep(0.05)
    answered.append(time.monotonic() - start)


def add_one(project: Project, client: docker.DockerClient, fleet: int, repeats: int) -> None:
    print(f"\n## one sandbox added to {fleet}: from `pulumi up` to its SSH answering")
    print("| run | up s | SSH answering s |\n| --- | --- | --- |")
    for run in range(repeats):
        write_spec(project.directory / "sandboxes.yaml", entries(fleet))
        project.run("up", "--yes")
        remove_kept_volumes(client, f"{ENGINE_PREFIX}box-{fleet:03d}")
        grown = entries(fleet + 1)
        write_spec(project.directory / "sandboxes.yaml", grown)
        port = (
            load_spec(project.directory / "sandboxes.yaml")
            .by_name()[f"box-{fleet:03d}"]
            .host_ports.ssh
        )
        answered: list[float] = []
        start = time.monotonic()
        watcher = threading.Thread(target=wait_for_ssh, args=(port, start, answered))
        watcher.start()
        up = timed(project, "up", "--yes")
        watcher.join()
        print(f"| {run + 1} | {up:.1f} | {answered[0]:.1f} |")
    write_spec(project.directory / "sandboxes.yaml", entries(fleet))
    project.run("up", "--yes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 30])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fleet", type=int, default=50)
    args = parser.parse_args()
    client = engine()
    for prefix in (ENGINE_PREFIX, DIRECT_PREFIX):
        destroy_all(client, prefix)
    with tempfile.TemporaryDirectory(prefix="sfbench-") as tmp:
        work = Path(tmp)
        project = engine_project(work, ENGINE_PREFIX, 18101)
        try:
            create_ratio(project, client, work, args.sizes, args.repeats)
            noop_ratio(project, args.fleet, args.repeats)
            add_one(project, client, args.fleet, args.repeats)
        finally:
            project.run("destroy", "--yes", "--exclude-protected", check=False)
            for prefix in (ENGINE_PREFIX, DIRECT_PREFIX):
                destroy_all(client, prefix)


if __name__ == "__main__":
    main()
