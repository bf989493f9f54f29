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
import statistics
import tempfile
import time
from pathlib import Path

import pulumi

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


def bare_run(resources: list[Registered]) -> float:
    custom = [r for r in resources if r.custom and not r.type.startswith("pulumi:providers:")]

    def program() -> None:
        for r in custom:
            pulumi.CustomResource(r.type, r.name, dict(r.inputs))

    start = time.perf_counter()
    run = run_program(program, {})
    elapsed = time.perf_counter() - start
    if run.error or len(run.resources) != len(custom):
        raise SystemExit(f"bare program failed: {run.error}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 500, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.chdir(ROOT)
    print(f"{'sandboxes':>9} {'fleet s':>8} {'bare s':>8} {'ratio':>6} {'ms/sandbox':>10} "
          f"{'resources':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            spec = Path(tmp) / f"spec-{n}.yaml"
            spec.write_text(spec_text(n))
            fleet_times, bare_times = [], []
            for _ in range(args.repeat):  # interleaved, so drift on the machine hits both
                elapsed, resources = fleet_run(spec)
                fleet_times.append(elapsed)
                bare_times.append(bare_run(resources))
            fleet, bare = statistics.median(fleet_times), statistics.median(bare_times)
            count = sum(1 for r in resources if r.custom)
            print(f"{n:>9} {fleet:>8.2f} {bare:>8.2f} {fleet / bare:>6.2f} "
                  f"{1000 * fleet / n:>10.2f} {count:>9}")
    per_headless = headless_cost()
    print(f"provider resources per headless sandbox: {per_headless}")


def headless_cost() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        counts = []
        for n in (1, 2):
            spec = Path(tmp) / f"h{n}.yaml"
            spec.write_text("version: 1\nsandboxes:\n" + "".join(
                f"  h{i}:\n    task: audit\n" for i in range(n)))
            counts.append(sum(1 for r in fleet_run(spec)[1] if r.custom))
        return counts[1] - counts[0]


if __name__ == "__main__":
    main()
