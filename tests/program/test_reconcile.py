"""The reconcile properties users rely on, proven on the real program under mocks:
add one entry -> only its resources appear; remove one -> only its container goes (the
workspace is retained); reorder -> nothing changes; same input -> identical inputs."""

from __future__ import annotations

import json
import re

from components.planes.docker.memory import repo_slug
from tests.support.pulumi_harness import Registered

from .conftest import ROOT, RunSpec, custom, fleet_spec, others_changed

SANDBOX_TYPES = {
    "docker:index/container:Container",
    "docker:index/volume:Volume",
    "command:local:Command",
}


def waited_for(resources: dict[str, Registered]) -> list[str]:
    """The containers the host's Readiness watches."""
    ready = next(r for r in resources.values() if r.name == "fleet-ready")
    return [w["container"] for w in ready.inputs["watched"]]


def _entries(text: str) -> list[str]:
    """Split a generated spec into its header and per-entry blocks."""
    return re.split(r"(?m)^(?=  box-)", text)


def test_adding_one_entry_registers_only_that_sandbox(run_spec: RunSpec) -> None:
    base = fleet_spec(50)
    before = run_spec(base)
    after = run_spec(base + "  newcomer:\n    task: audit\n")
    assert before.error is None and after.error is None, (before.error, after.error)
    old, new = custom(before), custom(after)
    added = {urn: r for urn, r in new.items() if urn not in old}
    assert sorted(r.type for r in added.values()) == sorted(SANDBOX_TYPES)
    assert all("newcomer" in urn for urn in added), sorted(added)
    assert set(old) <= set(new), "adding an entry removed something"
    assert others_changed(old, new) == []
    assert waited_for(new) == [*waited_for(old), "newcomer"], "the wait takes it on, only it"


def test_removing_one_entry_drops_only_its_container_and_keeps_its_workspace(
    run_spec: RunSpec,
) -> None:
    full = fleet_spec(50)
    header, *entries = _entries(full)
    gone = entries.pop(7)
    assert gone.startswith("  box-007:")
    before, after = run_spec(full), run_spec(header + "".join(entries))
    old, new = custom(before), custom(after)
    removed = [old[urn] for urn in old.keys() - new.keys()]
    assert sorted(r.type for r in removed) == sorted(SANDBOX_TYPES)
    assert all("box-007" in r.urn for r in removed)
    volume = next(r for r in removed if r.type == "docker:index/volume:Volume")
    assert volume.retain_on_delete, "the workspace would be deleted with the sandbox"
    assert others_changed(old, new) == []
    assert waited_for(new) == [c for c in waited_for(old) if c != "box-007"]


def test_discard_entry_workspace_is_not_retained(run_spec: RunSpec) -> None:
    run = run_spec("version: 1\nsandboxes:\n  scratch:\n    task: test\n    data: discard\n")
    volume = run.by_name("fleet-scratch-workspace")
    assert not volume.retain_on_delete


def test_reordering_entries_changes_nothing(run_spec: RunSpec) -> None:
    header, *entries = _entries(fleet_spec(20))
    forward = run_spec(header + "".join(entries))
    backward = run_spec(header + "".join(reversed(entries)))
    a, b = custom(forward), custom(backward)
    assert a.keys() == b.keys()
    assert [u for u in a if a[u].inputs != b[u].inputs] == []
    assert forward.outputs == backward.outputs


def test_two_runs_give_identical_inputs_and_outputs(run_spec: RunSpec) -> None:
    text = fleet_spec(12)
    first, second = run_spec(text), run_spec(text)
    # Registration order is asynchronous and means nothing to the engine; content must match.
    assert sorted((r.urn, repr(r.inputs)) for r in first.resources) == sorted(
        (r.urn, repr(r.inputs)) for r in second.resources
    )
    assert first.outputs == second.outputs


def test_names_come_from_sandbox_names_not_positions(run_spec: RunSpec) -> None:
    run = run_spec(fleet_spec(3))
    containers = {r.inputs["name"] for r in run.of_type("docker:index/container:Container")}
    mirror = f"mirror.{repo_slug('https://git.example.test/acme/app.git')}"  # the one repo's keeper
    assert {"box-000", "box-001", "box-002", "model-server", "supervisor", "ssh-keys",
            mirror} == containers  # fmt: skip


def test_resources_per_headless_sandbox(run_spec: RunSpec) -> None:
    """Budget: at most 3 provider resources per headless sandbox (the component is logical):
    workspace, container, pids limit. The wait for it to be ready is the host's one, shared."""
    one = custom(run_spec("version: 1\nsandboxes:\n  a:\n    task: audit\n"))
    two = custom(run_spec("version: 1\nsandboxes:\n  a:\n    task: audit\n  b:\n    task: test\n"))
    assert len(two) - len(one) == 3


def test_no_input_carries_the_checkouts_path(run_spec: RunSpec) -> None:
    """The engine runs the program in the project directory: an input holding this checkout's
    absolute path (a build context, a file) would make a second checkout plan replacements."""
    run = run_spec(fleet_spec(3))
    checkout = str(ROOT)
    carrying = [r.urn for r in run.resources if checkout in json.dumps(r.inputs, default=str)]
    assert carrying == [], f"inputs with {checkout}: {carrying}"
