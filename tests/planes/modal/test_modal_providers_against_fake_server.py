"""The Modal dynamic providers, run for real with the `modal` client against a local fake.

The fake (tests/support/fake_modal.py) serves Modal's real gRPC protocol from the client's own
`modal_proto` definitions. No real Modal here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from components.planes.modal.provider import (
    ModalError,
    ModalSandboxProvider,
    ModalVolumeProvider,
    boot_command,
)
from components.planes.workspace_sync import sync_script
from tests.support.fake_modal import TOKEN_ID, TOKEN_SECRET, FakeModal, fake_modal

CREDENTIALS = {"token_id": TOKEN_ID, "token_secret": TOKEN_SECRET}


@pytest.fixture
def fake() -> Iterator[FakeModal]:
    with fake_modal() as server:
        yield server


def volume_props(**change: Any) -> dict[str, Any]:
    return {"name": "sf-etl-workspace", "keep": True, **CREDENTIALS, **change}


def sandbox_props(**change: Any) -> dict[str, Any]:
    return {
        "app_name": "sandbox-fleet",
        "name": "sf-etl",
        "image": "",
        "command": boot_command(),
        "env": {"SANDBOX_NAME": "etl", "GITHUB_TOKEN": "ghp_x"},
        "volume": "sf-etl-workspace",
        "tags": {"sandbox-fleet.sandbox": "etl"},
        "cpu": 1.5,
        "memory_mib": 3072,
        "timeout_seconds": 3600,
        "idle_timeout_seconds": 0,
        **CREDENTIALS,
        "sandbox_id": None,
        **change,
    }


def create(props: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    ModalVolumeProvider().create(volume_props())
    result = ModalSandboxProvider().create(props or sandbox_props())
    assert result.outs is not None
    return result.id, result.outs


def test_create_runs_a_capped_sandbox_with_the_workspace_volume(fake: FakeModal) -> None:
    sid, outs = create()
    box = fake.sandboxes[sid]
    assert outs["sandbox_id"] == sid and sid.startswith("sb-") and box.running
    assert box.name == "sf-etl" and box.tags == {"sandbox-fleet.sandbox": "etl"}
    assert box.env["GITHUB_TOKEN"] == "ghp_x" and box.env["SANDBOX_NAME"] == "etl"
    res = box.definition.resources
    assert (res.milli_cpu, res.memory_mb) == (1500, 3072)
    assert (res.milli_cpu_max, res.memory_mb_max) == (1500, 3072), "request = limit: a hard cap"
    assert box.definition.timeout_secs == 3600
    args = list(box.definition.entrypoint_args)
    assert args[:2] == ["bash", "-c"] and args[-1] == sync_script()
    assert "exec sleep infinity" in args[2], "the workspace sync in the background, then stay up"
    assert box.volume_mounts == {"/workspace": fake.volumes["sf-etl-workspace"]}
    assert fake.unimplemented == []


def test_a_wrong_token_is_a_clear_error(fake: FakeModal) -> None:
    with pytest.raises(ModalError, match="Modal create volume sf-etl-workspace: AuthError"):
        ModalVolumeProvider().create(volume_props(token_secret="as-wrong"))


def test_read_keeps_a_running_sandbox_and_drops_an_ended_or_vanished_one(
    fake: FakeModal,
) -> None:
    provider = ModalSandboxProvider()
    sid, outs = create()
    assert provider.read(sid, outs).id == sid
    fake.finish(sid, exit_code=0)  # its timeout came, or its command ended
    ended = provider.read(sid, outs)
    assert ended.id == "" and ended.outs == {}, "refresh drops it; the next up starts one"
    assert provider.read("sb-" + "x" * 24, outs).id == ""


@pytest.mark.parametrize(
    ("change", "replaces"),
    [
        ({"env": {"SANDBOX_NAME": "etl", "GITHUB_TOKEN": "rotated"}}, ["env"]),
        ({"cpu": 2.0}, ["cpu"]),
        ({"image": "python:3.12-slim"}, ["image"]),
        ({"tags": {"a": "b"}}, []),
        ({"token_secret": "rotated"}, []),
    ],
)
def test_diff_replaces_what_a_modal_sandbox_cannot_change(
    change: dict[str, Any], replaces: list[str]
) -> None:
    old = sandbox_props()
    diff = ModalSandboxProvider().diff("sb-1", old, {**old, **change})
    assert diff.changes is True and diff.replaces == replaces
    assert diff.delete_before_replace is True, "names are unique among running sandboxes"
    assert ModalSandboxProvider().diff("sb-1", old, dict(old)).changes is False


def test_update_sets_tags_in_place(fake: FakeModal) -> None:
    sid, outs = create()
    updated = ModalSandboxProvider().update(sid, outs, {**outs, "tags": {"team": "data"}})
    assert fake.sandboxes[sid].tags == {"team": "data"} and fake.sandboxes[sid].running
    assert updated.outs is not None and updated.outs["sandbox_id"] == sid


def test_a_second_running_sandbox_of_the_same_name_is_refused(fake: FakeModal) -> None:
    create()
    with pytest.raises(ModalError, match="Modal create sandbox sf-etl: AlreadyExistsError"):
        ModalSandboxProvider().create(sandbox_props())


def test_removing_the_entry_keeps_the_workspace_unless_it_says_discard(fake: FakeModal) -> None:
    sid, outs = create()
    ModalSandboxProvider().delete(sid, outs)
    assert not fake.sandboxes[sid].running
    ModalSandboxProvider().delete(sid, outs)  # again: already ended, no error
    ModalVolumeProvider().delete("sf-etl-workspace", volume_props())
    assert "sf-etl-workspace" in fake.volumes, "data outlives compute"
    ModalVolumeProvider().delete("sf-etl-workspace", volume_props(keep=False))
    assert "sf-etl-workspace" not in fake.volumes
    ModalVolumeProvider().delete("sf-etl-workspace", volume_props(keep=False))  # already gone


def test_replacing_the_sandbox_keeps_the_files_volume(fake: FakeModal) -> None:
    sid, outs = create()
    ModalSandboxProvider().delete(sid, outs)  # delete-before-replace
    new_id, _ = create(sandbox_props(env={"SANDBOX_NAME": "etl"}))
    assert new_id != sid and fake.sandboxes[new_id].running
    assert list(fake.volumes) == ["sf-etl-workspace"], "the same volume, mounted again"


def test_volume_read_drops_a_volume_deleted_out_of_band(fake: FakeModal) -> None:
    ModalVolumeProvider().create(volume_props())
    assert ModalVolumeProvider().read("sf-etl-workspace", volume_props()).id == "sf-etl-workspace"
    ModalVolumeProvider().delete("sf-etl-workspace", volume_props(keep=False))
    assert ModalVolumeProvider().read("sf-etl-workspace", volume_props()).id == ""
