"""Run the real __main__.py under Pulumi mocks with a given spec and stack settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.provider_schema import ProviderSchemas
from tests.support.pulumi_harness import Registered, Run, run_program, stack_config

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "__main__.py"
PRESETS = sorted((ROOT / "stacks").glob("*.yaml"))

RunSpec = Callable[..., Run]


@pytest.fixture
def run_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RunSpec:
    """run_spec(yaml_text, stack_file=Pulumi.dev.yaml, **config overrides) -> Run."""
    monkeypatch.chdir(ROOT)  # the program resolves images/ and the spec like `pulumi up` does

    def run(
        text: str,
        stack_file: Path = ROOT / "Pulumi.dev.yaml",
        *,
        preview: bool = False,
        secret_keys: tuple[str, ...] = (),
        spec_path: Path | None = None,
        **overrides: Any,
    ) -> Run:
        spec = spec_path or tmp_path / f"spec-{len(list(tmp_path.iterdir()))}.yaml"
        if spec_path is None:
            spec.write_text(text)
        config = stack_config(stack_file, {"spec": str(spec), **overrides})
        return run_program(MAIN, config, secret_keys=secret_keys, preview=preview)

    return run


@pytest.fixture(scope="session")
def schemas() -> ProviderSchemas:
    return ProviderSchemas()


# What an added or removed entry changes besides its own resources, on purpose: the host
# preflight re-checks the capacity with the new totals, the keys writer rewrites known_hosts
# with the sandboxes' host keys, and the host's Readiness takes the new list of containers (it
# waits only for the ones it has not seen). None restarts anything.
REWRITTEN_WHEN_ENTRIES_CHANGE = (
    "::fleet-host-preflight-check",
    "::fleet-ssh-keys-writer",
    "::fleet-ready",
)


def others_changed(old: dict[str, Registered], new: dict[str, Registered]) -> list[str]:
    """URNs in both runs whose inputs differ, but for the intended rewrites above."""
    return [
        u for u in old.keys() & new.keys()
        if old[u].inputs != new[u].inputs and not u.endswith(REWRITTEN_WHEN_ENTRIES_CHANGE)
    ]  # fmt: skip


def custom(run: Run) -> dict[str, Registered]:
    """Provider-managed resources by URN (what the engine diffs)."""
    return {r.urn: r for r in run.resources if r.custom}


def fleet_spec(count: int) -> str:
    """A fleet of `count` entries, two thirds headless and one third visual, app ports on some."""
    tasks = ["audit", "refactor", "test", "data-processing", "frontend-dev", "visual-debug"]
    lines = [
        "version: 1",
        "defaults:",
        "  repo: https://git.example.test/acme/app.git",
        "sandboxes:",
    ]
    for i in range(count):
        lines += [f"  box-{i:03d}:", f"    task: {tasks[i % len(tasks)]}"]
        if i % 5 == 0:
            lines.append("    ports: [3000]")
    return "\n".join(lines) + "\n"
