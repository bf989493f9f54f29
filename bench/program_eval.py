"""Program evaluation: the real __main__.py against bare SDK registration of the same resources.

For N sandboxes, time (a) the fleet program under Pulumi mocks and (b) a bare program that
registers exactly the custom resources (a) recorded: same types, names and inputs, no spec,
no components. Prints medians and the ratio a/b per N, plus time per sandbox (linearity),
and provider resources per headless sandbox.

    python -m bench.program_eval [--sizes 100 500 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import pulumi
import pulumi_command as command
import pulumi_docker as docker

from tests.support.pulumi_harness import Registered, run_program, stack_config

ROOT = Path(__file__).resolve().parent.parent


def spec_text(count: int) -> str:
    """Headless and visual entries with pinned, non-overlapping port blocks."""
    lines = ["version: 1", "sandboxes:"]
    for i in range(count):
        task = "frontend-dev" if i % 4 == 0 else "audit"
        lines += [f"  box-{i:04d}:", f"    task: {task}", f"    ssh_port: {20000 + 20 * i}"]
    return "\n".join(lines) + "\n"


def fleet_run(spec: Path) -> tuple[float, list[Registered]]:
    config = stack_config(ROOT / "Pulumi.dev.yaml", {"spec": str(spec)})
    start = time.perf_counter()
    run = run_program(ROOT / "__main__.py", config)
    elapsed = time.perf_counter() - start
    if run.error:
        raise SystemExit(f"fleet program failed: {run.error}")
    return elapsed, run.resources


# The SDK classes a hand-written program would use for each recorded type.
SDK_CLASSES: dict[str, Any] = {
    "docker:index/container:Container": docker.Container,
    "docker:index/volume:Volume": docker.Volume,
    "docker:index/network:Network": docker.Network,
    "docker:index/remoteImage:RemoteImage": docker.RemoteImage,
    "command:local:Command": command.local.Command,
}


def snake(value: Any) -> Any:
    """camelCase input names back to the Python SDK's keyword names, recursively."""
    if isinstance(value, dict):
        return {re.sub(r"(?<!^)(?=[A-Z])", "_", k).lower(): snake(v) for k, v in value.items()}
    if isinstance(value, list):
        return [snake(v) for v in value]
    return value


def bare_run(resources: list[Registered], *, typed: bool, edges: bool = False) -> float:
    """The same custom resources registered directly: with the SDK's typed classes (what a
    hand-written program does) or as raw CustomResources (the floor: no type translation);
    with `edges`, each also waits on the resources it depended on in the fleet run, so the
    graph is the same and only the program's own work differs."""
    custom = [r for r in resources if r.custom and not r.type.startswith("pulumi:providers:")]

    def program() -> None:
        made: dict[str, pulumi.Resource] = {}
        for r in custom:  # recorded in registration order: dependencies come first
            after = [made[u] for u in r.dependencies if u in made] if edges else []
            opts = pulumi.ResourceOptions(depends_on=after)
            if typed:
                made[r.urn] = SDK_CLASSES[r.type](r.name, **snake(r.inputs), opts=opts)
            else:
                made[r.urn] = pulumi.CustomResource(r.type, r.name, dict(r.inputs), opts)

    start = time.perf_counter()
    run = run_program(program, {})
    elapsed = time.perf_counter() - start
    if run.error or len(run.resources) != len(custom):  # every resource, none dropped
        raise SystemExit(f"bare program failed: {run.error}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 500, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.chdir(ROOT)
    print(
        f"{'sandboxes':>9} {'fleet s':>8} {'graph s':>8} {'ratio':>6} {'sdk s':>7} "
        f"{'ratio':>6} {'raw s':>7} {'ratio':>6} {'ms/sandbox':>10} {'resources':>9}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            spec = Path(tmp) / f"spec-{n}.yaml"
            spec.write_text(spec_text(n))
            times: dict[str, list[float]] = {"fleet": [], "graph": [], "sdk": [], "raw": []}
            for _ in range(args.repeat):  # interleaved, so drift on the machine hits all
                elapsed, resources = fleet_run(spec)
                times["fleet"].append(elapsed)
                times["graph"].append(bare_run(resources, typed=True, edges=True))
                times["sdk"].append(bare_run(resources, typed=True))
                times["raw"].append(bare_run(resources, typed=False))
            m = {k: statistics.median(v) for k, v in times.items()}
            count = sum(1 for r in resources if r.custom)
            print(
                f"{n:>9} {m['fleet']:>8.2f} {m['graph']:>8.2f} {m['fleet'] / m['graph']:>6.2f} "
                f"{m['sdk']:>7.2f} {m['fleet'] / m['sdk']:>6.2f} {m['raw']:>7.2f} "
                f"{m['fleet'] / m['raw']:>6.2f} {1000 * m['fleet'] / n:>10.2f} {count:>9}",
                flush=True,
            )
    per_headless = headless_cost()
    print(f"provider resources per headless sandbox: {per_headless}")


def headless_cost() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        counts = []
        for n in (1, 2):
            spec = Path(tmp) / f"h{n}.yaml"
            spec.write_text(
                "version: 1\nsandboxes:\n"
                + "".join(f"  h{i}:\n    task: audit\n" for i in range(n))
            )
            counts.append(sum(1 for r in fleet_run(spec)[1] if r.custom))
        return counts[1] - counts[0]


if __name__ == "__main__":
    main()
