"""Headless sandbox ready time against a bare container of the base image, as a ratio in one run.

    python -m bench.engine_ready [--runs 9]

"Ready" is measured the same way on both sides: until the first `docker exec` of the readiness
command exits 0 (polled every 20 ms, from the start).
- bare: from the create call of `debian:bookworm-slim` running `sleep infinity`, no options;
  readiness command `true`.
- sandbox: what the program records for one new headless entry, applied as Pulumi would: the
  host preflight re-check (its capacity totals changed), then the sandbox's own resources:
  workspace volume, container with every recorded input, the pids-limit `docker update`.
  Readiness command `/usr/local/bin/sandbox-health`, the container's own health check (sshd
  listening, workspace sync done).
  - create -> ready: from the sandbox's first resource (its volume). This is the target figure.
    Steps the applier runs on the way that the sandbox does not depend on (the keys writer)
    are left out: Pulumi runs them beside it (aside()).
  - whole step -> ready: from the first step, the preflight re-check, which a `pulumi up` runs
    once however many entries it adds. (Not from the start of the reconcile call: the applier
    first scans the image build contexts for staleness, work Pulumi does not do on an up.)
Two sandbox variants: no repo, and a clone of a generated repository of `--history-mb` MB of
history (bench/engine_common: generate) from a local `git daemon`, with its mirror warm (another
sandbox of it, `anchor`, is in the base fleet: issue #14's target case).
- bare with the sandbox's options: the bare container again (same image, command and readiness
  command), created with every Docker option the program records for the sandbox: ai-net with
  an alias, the published SSH port, its volume mounts, user, capabilities, no-new-privileges,
  memory, CPU, restart and log settings (bench/engine_options, which also times each group
  alone). What the engine itself charges for those options, so `sandbox / bare with its
  options` is what the sandbox adds beyond them (its entrypoint, sshd, the checkout, the
  applier's steps).
Also printed: the time of each step, bare `docker run --rm debian:bookworm-slim true`
(create -> exited), and the time until Docker reports the sandbox `healthy` (its first probe
runs one healthcheck interval, 250 ms, after start; the probe then long-polls: sandbox-health).
Targets: create -> ready at most 2x the bare container (#4), 1.3x with a warm mirror (#14).
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker

from bench.engine_common import (
    BASE_IMAGE,
    LABELS,
    PREFIX,
    bench_fleet,
    engine,
    exec_ok,
    generate,
    health,
    median,
    program,
    until,
)
from bench.engine_options import GROUPS, ready_with, recorded_box
from tests.support.docker_apply import (
    COMMAND,
    CONTAINER,
    PIDS_LIMIT,
    READINESS,
    VOLUME,
    DockerApplier,
    Step,
)
from tests.support.git_daemon import bridge_gateway, git_daemon, service_port
from tests.support.pulumi_harness import Run


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


@dataclass(frozen=True)
class SandboxTimes:
    """Seconds, one run."""

    ready: float  # create (the sandbox's first resource) -> ready by its health command
    whole: float  # first step (the preflight re-check) -> ready
    healthy: float  # start of the reconcile -> Docker reports `healthy`
    steps: dict[str, float]  # duration of each step the reconcile ran


def step_label(step: Step) -> str:
    r = step.resource
    if r.type == COMMAND:
        return "pids-limit update" if PIDS_LIMIT.match(r.inputs["create"]) else "preflight re-check"
    if r.type == CONTAINER and r.name.endswith("-writer"):
        return "keys writer (one-shot, beside the sandbox)"
    if r.type == CONTAINER and r.name.endswith("-keeper"):
        return "repository mirror keeper"
    if r.type == READINESS:  # `up` waits here until Docker reports it healthy
        return "wait until healthy (the host's Readiness)"
    return {VOLUME: "workspace volume", CONTAINER: "container create + start"}.get(r.type, r.type)


def aside(steps: list[Step], name: str) -> float:
    """Seconds the applier spent, before the sandbox's container, on steps that container does
    not depend on (the keys writer, replaced to add its host key): the applier runs one step at
    a time, Pulumi runs those beside the sandbox (seen in the engine's own events:
    bench/engine_mirror), so they are not on its path to ready."""
    box = next(s for s in steps if s.resource.inputs.get("name") == name)
    return sum(
        s.end - s.start
        for s in steps
        if s.start < box.start and s.resource.type == CONTAINER
        and s.resource.urn not in box.resource.dependencies
    )  # fmt: skip


def sandbox_ready(
    client: docker.DockerClient, applier: DockerApplier, base: Run, one: Run
) -> SandboxTimes:
    name = f"{PREFIX}box"
    done: list[float] = []

    def poll() -> None:  # from the start: readiness does not wait for the apply call to return
        until(lambda: exec_ok(client, name, ["/usr/local/bin/sandbox-health"]), 120, every_s=0.02)
        done.append(time.monotonic())

    poller = threading.Thread(target=poll)
    start = time.monotonic()
    poller.start()
    applier.reconcile(base, one)
    steps = applier.steps
    poller.join(timeout=130)
    until(lambda: health(client, name) == "healthy", 120, every_s=0.05)
    healthy = time.monotonic() - start
    created = next(s.start for s in steps if s.resource.type == VOLUME)
    beside = aside(steps, name)
    applier.reconcile(one, base)  # `data: discard`: the workspace volume goes too
    return SandboxTimes(
        ready=done[0] - created - beside,
        whole=done[0] - steps[0].start - beside,
        healthy=healthy,
        steps={step_label(s): s.end - s.start for s in steps},
    )


def measure(client: docker.DockerClient, runs: int, entry: dict[str, Any], work: Path,
            what: str) -> None:  # fmt: skip
    overrides = {"supervisorPort": service_port()}
    # A sandbox of the same repository already there: its mirror is warm (bench/engine_mirror
    # measures the cold one, and none).
    anchor = {"anchor": {**entry, "branch": "anchor"}} if "repo" in entry else {}
    base = program(work, anchor, overrides)
    one = program(work, {**anchor, "box": entry}, overrides)
    bares: list[float] = []
    with_options: list[float] = []
    boxes: list[SandboxTimes] = []
    runs_of_bare: list[float] = []
    with bench_fleet(client) as applier:
        applier.apply(base)  # network, shared volumes, supervisor: not part of the timing
        sandbox_ready(client, applier, base, one)  # warm-up, not counted
        bare_ready(client)
        box = recorded_box(client, one)
        every_option = GROUPS["all of the sandbox's options"]
        ready_with(client, box, every_option)
        for _ in range(runs):
            bares.append(bare_ready(client))
            with_options.append(ready_with(client, box, every_option))
            boxes.append(sandbox_ready(client, applier, base, one))
            runs_of_bare.append(bare_run(client))
    bare = median(bares)
    ready = median([b.ready for b in boxes])
    whole = median([b.whole for b in boxes])
    print(f"\nheadless sandbox, {what}: medians of {runs} runs (seconds)")
    print(f"  bare container ready (exec true)                 {bare:6.3f}")
    print(f"  sandbox create -> ready (exec sandbox-health)    {ready:6.3f}")
    print(f"  ratio sandbox/bare                               {ready / bare:6.2f}x  (<= 2x)")
    ratios = ", ".join(f"{b.ready / a:.2f}" for a, b in zip(bares, boxes, strict=True))
    print(f"    per-run ratios: {ratios}")
    options = median(with_options)
    print(f"  bare with the sandbox's Docker options           {options:6.3f}  "
          f"= {options / bare:.2f}x")  # fmt: skip
    print(f"  ratio sandbox/bare with its options              {ready / options:6.2f}x  (what the "
          "sandbox adds beyond them)")  # fmt: skip
    print(f"  whole step -> ready (preflight re-check incl.)   {whole:6.3f}  = {whole / bare:.2f}x")
    print("  steps of the apply, in order:")
    for label in boxes[0].steps:
        print(f"    {label:40s}   {median([b.steps[label] for b in boxes]):6.3f}")
    print(f"  reference: docker run --rm base true             {median(runs_of_bare):6.3f}")
    healthy = median([b.healthy for b in boxes])
    print(f"  reference: Docker status 'healthy'               {healthy:6.3f}  (from the "
          "reconcile's start)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--history-mb", type=int, default=200)
    args = parser.parse_args()
    client = engine()
    entry: dict[str, Any] = {"task": "audit", "data": "discard", "branch": "bench"}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        measure(client, args.runs, entry, work, "no repo")
        with git_daemon(work / "git", bridge_gateway(client)) as git:
            generate(work / "git" / "big.git", args.history_mb)
            repo = git.url.replace("proj.git", "big.git")
            what = f"repo of {args.history_mb} MB history, warm mirror ({repo})"
            measure(client, args.runs, {**entry, "repo": repo}, work, what)


if __name__ == "__main__":
    main()
