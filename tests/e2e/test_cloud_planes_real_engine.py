"""The real __main__.py on the real Pulumi engine, with the Modal and Daytona planes.

The `modal-cloud` preset plus a `daytonaUrl` registers only the two planes' dynamic providers,
so the whole lifecycle runs here for real: `up`, no false drift from a second checkout, an
in-place update, a removal, a broken spec, out-of-band deletion, `refresh`, `destroy`. Modal
and Daytona are local fakes that speak their real protocols (tests/support/fake_modal.py,
tests/support/fake_daytona.py); the engine, the language host and the dynamic-provider host
are the real ones. `destroy` never runs the program: the provider it calls is the one the
engine stored in the state.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fake_daytona import TOKEN as DAYTONA_KEY
from tests.support.fake_daytona import FakeDaytona, fake_daytona
from tests.support.fake_modal import TOKEN_ID, TOKEN_SECRET, FakeModal, fake_modal
from tests.support.pulumi_cli import REPO_ROOT, Project

DYNAMIC = "pulumi-python:dynamic:Resource"
HEADER = "version: 1\nsandboxes:\n"
ETL = "  etl:\n    task: data-processing\n    runtime: modal\n"
SCAN = "  scan:\n    task: audit\n    runtime: daytona\n    resources: {cpus: 1, memory: 1Gi}\n"
SPEC = HEADER + ETL + SCAN


@pytest.fixture
def fakes() -> Iterator[tuple[FakeModal, FakeDaytona]]:
    with fake_modal() as modal, fake_daytona(start_polls=0) as daytona:
        yield modal, daytona


@pytest.fixture
def cloud(project: Project, fakes: tuple[FakeModal, FakeDaytona]) -> Project:
    (project.directory / "sandboxes.yaml").write_text(SPEC)
    project.init(
        REPO_ROOT / "stacks" / "modal-cloud.yaml",
        {"daytonaUrl": fakes[1].url},
        {
            "MODAL_TOKEN_ID": TOKEN_ID,
            "MODAL_TOKEN_SECRET": TOKEN_SECRET,
            "DAYTONA_API_KEY": DAYTONA_KEY,
        },
    )
    return project


def dynamic_ids(project: Project) -> dict[str, str]:
    """Resource name -> provider id of every dynamic resource in the stack's state."""
    return {
        urn.rsplit("::", 1)[1]: r["id"]
        for urn, r in project.resources().items()
        if r["type"] == DYNAMIC
    }


def planned(project: Project) -> dict[str, list[str]]:
    """`pulumi preview --json`: resource name -> the steps the engine plans for it."""
    steps = json.loads(project.run("preview", "--json").stdout).get("steps", [])
    plan: dict[str, list[str]] = {}
    for step in (s for s in steps if "pulumi:pulumi:Stack" not in s["urn"]):
        plan.setdefault(step["urn"].rsplit("::", 1)[1], []).append(step["op"])
    return plan


def test_up_creates_both_planes_and_a_second_checkout_sees_no_drift(
    cloud: Project, fakes: tuple[FakeModal, FakeDaytona], tmp_path: Path
) -> None:
    modal, daytona = fakes
    cloud.run("up", "--yes")
    [box] = [s for s in modal.sandboxes.values() if s.running]
    assert box.definition.resources.memory_mb > 0 and modal.volumes, "capped, with its volume"
    [record] = daytona.sandboxes.values()
    assert record["state"] == "started" and record["labels"]["sandbox-fleet.sandbox"] == "scan"
    outputs = cloud.outputs()["sandboxes"]
    assert outputs["etl"]["runtime"] == "modal" and outputs["scan"]["runtime"] == "daytona"
    assert not modal.unimplemented, f"the client used RPCs the fake lacks: {modal.unimplemented}"

    cloud.run("preview", "--expect-no-changes")
    cloud.run("refresh", "--preview-only", "--expect-no-changes")
    elsewhere = cloud.clone(tmp_path / "checkout-b")
    elsewhere.run("preview", "--expect-no-changes")
    elsewhere.run("refresh", "--preview-only", "--expect-no-changes")


def test_a_resize_updates_in_place_and_a_removal_keeps_the_workspace(
    cloud: Project, fakes: tuple[FakeModal, FakeDaytona]
) -> None:
    modal, daytona = fakes
    cloud.run("up", "--yes")
    before = dynamic_ids(cloud)
    spec = cloud.directory / "sandboxes.yaml"
    spec.write_text(SPEC.replace("{cpus: 1, memory: 1Gi}", "{cpus: 2, memory: 1Gi}"))
    plan = planned(cloud)
    changed = {name: ops for name, ops in plan.items() if ops != ["same"]}
    assert changed == {"fleet-daytona-scan": ["update"]}, plan
    cloud.run("up", "--yes")
    [record] = daytona.sandboxes.values()
    assert record["cpu"] == 2, "resized"
    assert record["id"] == before["fleet-daytona-scan"], "the same sandbox, not a new one"

    spec.write_text(HEADER + SCAN.replace("cpus: 1", "cpus: 2"))  # etl's entry removed
    cloud.run("up", "--yes")
    assert not any(s.running for s in modal.sandboxes.values()), "the Modal sandbox is ended"
    assert modal.volumes, "its workspace volume stays (data: keep is the default)"
    assert "fleet-daytona-scan" in dynamic_ids(cloud)


def test_a_broken_spec_stops_up_with_file_and_line_and_changes_nothing(
    cloud: Project, fakes: tuple[FakeModal, FakeDaytona]
) -> None:
    cloud.run("up", "--yes")
    before = cloud.resources()
    broken = {
        "unknown task": SPEC.replace("task: audit", "task: audti"),
        "bad size": SPEC.replace("memory: 1Gi", "memory: lots"),
        "not a mapping": "- just\n- a list\n",
    }
    for what, text in broken.items():
        (cloud.directory / "sandboxes.yaml").write_text(text)
        done = cloud.run("up", "--yes", check=False)
        shown = done.stdout + done.stderr
        assert done.returncode != 0, f"{what}: up succeeded on a broken spec"
        assert "sandboxes.yaml:" in shown and "nothing was changed" in shown, f"{what}: {shown}"
        assert "Traceback" not in shown, f"{what}: a Python traceback reached the user:\n{shown}"
        assert cloud.resources() == before, f"{what}: the stack's resources changed"
    assert len(fakes[1].sandboxes) == 1 and any(s.running for s in fakes[0].sandboxes.values())


def test_out_of_band_deletion_is_seen_by_refresh_and_repaired_by_up(
    cloud: Project, fakes: tuple[FakeModal, FakeDaytona]
) -> None:
    _modal, daytona = fakes
    cloud.run("up", "--yes")
    daytona.sandboxes.clear()  # someone deleted it in Daytona's dashboard
    drift = cloud.run("refresh", "--preview-only", "--expect-no-changes", check=False)
    assert drift.returncode != 0 and "fleet-daytona-scan" in drift.stdout, drift.stdout
    cloud.run("up", "--refresh", "--yes")
    [record] = daytona.sandboxes.values()
    assert record["state"] == "started"
    cloud.run("preview", "--expect-no-changes")


def test_destroy_runs_the_stored_providers_and_keeps_the_data(
    cloud: Project, fakes: tuple[FakeModal, FakeDaytona]
) -> None:
    modal, daytona = fakes
    cloud.run("up", "--yes")
    # Destroy does not run the program: a broken spec cannot stop it, and the providers that
    # run are the ones the engine stored with each resource.
    (cloud.directory / "sandboxes.yaml").write_text("not: [valid")
    cloud.run("destroy", "--yes")
    assert cloud.resources() == {} or all(
        r["type"].startswith("pulumi:") for r in cloud.resources().values()
    )
    [record] = daytona.sandboxes.values()
    assert record["state"] == "archived", "kept (archived), not deleted: data: keep"
    assert not any(s.running for s in modal.sandboxes.values()) and modal.volumes


def test_a_rename_is_a_new_sandbox_and_the_old_workspace_stays_orphaned(
    cloud: Project, fakes: tuple[FakeModal, FakeDaytona]
) -> None:
    """Names are identities: renaming an entry removes the old sandbox and creates a new one
    with a new, empty workspace. The old workspace is kept (data: keep) but nothing in the
    stack refers to it any more: it stays in Modal until someone deletes it by hand."""
    modal, _daytona = fakes
    cloud.run("up", "--yes")
    old_volumes = set(modal.volumes)
    (cloud.directory / "sandboxes.yaml").write_text(SPEC.replace("  etl:", "  etl-renamed:"))
    cloud.run("up", "--yes")
    assert old_volumes < set(modal.volumes), "a new workspace volume, the old one kept"
    [orphan] = old_volumes
    assert orphan not in json.dumps(cloud.outputs()), "the stack no longer names the old one"
    [running] = [s.name for s in modal.sandboxes.values() if s.running]
    assert "renamed" in running, "only the renamed entry's sandbox runs"
