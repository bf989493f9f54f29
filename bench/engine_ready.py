"""Headless sandbox ready time against a bare container of the base image, as a ratio in one run.

    python -m bench.engine_ready [--runs 7]

"Ready" is measured the same way on both sides: from the start of the create call until the
first `docker exec` of the readiness command exits 0 (polled every 20 ms, from the start).
- bare: `debian:bookworm-slim` running `sleep infinity`, no options; readiness command `true`.
- sandbox: what the program records for one headless entry, applied as Pulumi would (workspace
  volume, container with every recorded input, authorized_keys upload before start, the
  pids-limit `docker update`); readiness command `/usr/local/bin/sandbox-health`, the
  container's own health check (sshd listening, workspace sync done).
Two sandbox variants: no repo, and cloning a one-commit repo from a local `git daemon`.
Also printed, for reference: bare `docker run --rm debian:bookworm-slim true` (create -> exited)
and the time until Docker reports the sandbox `healthy` (its first probe runs one healthcheck
interval, 5 s, after start, so that figure measures the interval, not the sandbox).
Target (issue): sandbox/bare ratio at most 2x.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import docker
import docker.errors

from bench.engine_common import (
    BASE_IMAGE,
    PREFIX,
    bench_fleet,
    engine,
    health,
    median,
    program,
    until,
)
from tests.integration.fleet import bridge_gateway, git_daemon, local_port
from tests.support.docker_apply import FLEET_LABEL, DockerApplier
from tests.support.pulumi_harness import Run

LABELS = {FLEET_LABEL: f"{PREFIX}sandbox-fleet"}


def exec_ok(client: docker.DockerClient, name: str, cmd: list[str]) -> bool:
    try:
        run = client.api.exec_create(name, cmd)
        client.api.exec_start(run["Id"])
        return bool(client.api.exec_inspect(run["Id"])["ExitCode"] == 0)
    except docker.errors.APIError:  # not running yet
        return False


def bare_ready(client: docker.DockerClient) -> float:
    name = f"{PREFIX}bare"
    start = time.monotonic()
    client.containers.create(BASE_IMAGE, ["sleep", "infinity"], name=name, labels=LABELS).start()
    until(lambda: exec_ok(client, name, ["true"]), 60, every_s=0.02)
    took = time.monotonic() - start
    client.containers.get(name).remove(force=True)
    return took


def bare_run(client: docker.DockerClient) -> float:
    start = time.monotonic()
    container = client.containers.create(BASE_IMAGE, ["true"], name=f"{PREFIX}run", labels=LABELS)
    container.start()
    container.wait(timeout=60)
    took = time.monotonic() - start
    container.remove(force=True)
    return took


def sandbox_ready(
    client: docker.DockerClient, applier: DockerApplier, base: Run, one: Run
) -> tuple[float, float, float]:
    """(ready by the health command, healthy as Docker reports it, the apply call alone),
    seconds from the start of the create."""
    name = f"{PREFIX}box"
    done: list[float] = []

    def poll() -> None:  # from the start: readiness does not wait for the apply call to return
        until(lambda: exec_ok(client, name, ["/usr/local/bin/sandbox-health"]), 120, every_s=0.02)
        done.append(time.monotonic() - start)

    poller = threading.Thread(target=poll)
    start = time.monotonic()
    poller.start()
    applier.reconcile(base, one)
    applied = time.monotonic() - start
    poller.join(timeout=130)
    ready = done[0]
    until(lambda: health(client, name) == "healthy", 120, every_s=0.05)
    healthy = time.monotonic() - start
    applier.reconcile(one, base)  # `data: discard`: the workspace volume goes too
    return ready, healthy, applied


def measure(client: docker.DockerClient, runs: int, entry: dict[str, Any], work: Path) -> None:
    overrides = {"supervisorPort": local_port()}
    base = program(work, {}, overrides)
    one = program(work, {"box": entry}, overrides)
    rows: list[tuple[float, ...]] = []
    with bench_fleet(client) as applier:
        applier.apply(base)  # network, shared volumes, supervisor: not part of the timing
        sandbox_ready(client, applier, base, one)  # warm-up, not counted
        bare_ready(client)
        for _ in range(runs):
            bare = bare_ready(client)
            ready, healthy, applied = sandbox_ready(client, applier, base, one)
            rows.append((bare, ready, healthy, bare_run(client), applied))
    bare, ready, healthy, run, applied = (median([r[i] for r in rows]) for i in range(5))
    repo = "repo " + entry["repo"] if "repo" in entry else "no repo"
    print(f"\nheadless sandbox, {repo}: medians of {runs} runs (seconds)")
    print(f"  bare container ready (exec true)         {bare:6.3f}")
    print(f"  sandbox ready (exec sandbox-health)       {ready:6.3f}")
    print(f"  ratio sandbox/bare                        {ready / bare:6.2f}x   (target <= 2x)")
    print(f"  per-run ratios: {', '.join(f'{r[1] / r[0]:.2f}' for r in rows)}")
    print(f"  apply call returned (volume, create, upload, start, pids)  {applied:6.3f}")
    print(f"  reference: docker run --rm base true      {run:6.3f}")
    print(f"  reference: Docker status 'healthy'        {healthy:6.3f}  (first probe after 5 s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    client = engine()
    entry: dict[str, Any] = {"task": "audit", "data": "discard", "branch": "bench"}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        measure(client, args.runs, entry, work)
        with git_daemon(work / "git", bridge_gateway(client)) as git:
            measure(client, args.runs, {**entry, "repo": git.url}, work)


if __name__ == "__main__":
    main()
