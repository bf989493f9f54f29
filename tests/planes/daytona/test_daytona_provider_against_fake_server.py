"""The Daytona dynamic provider, run for real against a local fake of Daytona's REST API.

The fake (tests/support/fake_daytona.py) parses every request with the published
`daytona-api-client` models and answers with its `Sandbox` model. No real Daytona here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from components.planes.daytona.provider import (
    DaytonaError,
    DaytonaSandboxArgs,
    DaytonaSandboxProvider,
)
from components.planes.workspace_sync import background_sync_command
from tests.support.fake_daytona import TOKEN, FakeDaytona, fake_daytona


@pytest.fixture
def fake() -> Iterator[FakeDaytona]:
    with fake_daytona() as server:
        yield server


def props(fake: FakeDaytona, **change: Any) -> dict[str, Any]:
    args = DaytonaSandboxArgs(
        api_url=fake.url,
        api_key=TOKEN,
        prefix="sf-",
        entry="etl",
        env={"SANDBOX_NAME": "etl", "GIT_REPO": "https://git.example/app.git"},
        secret_env={},
        labels={"sandbox-fleet.sandbox": "etl"},
        cpus=1.5,
        memory_bytes=3 * 1024**3 + 1,
        keep_data=True,
        timeout_seconds=10,
    )
    return {**args.props(), "api_key": TOKEN, **change}


def create(fake: FakeDaytona, **change: Any) -> tuple[str, dict[str, Any]]:
    result = DaytonaSandboxProvider().create(props(fake, **change))
    assert result.outs is not None
    return result.id, result.outs


def test_create_sends_the_entry_and_waits_until_started(fake: FakeDaytona) -> None:
    sid, outs = create(fake)
    record = fake.sandboxes[sid]
    assert record["state"] == "started" and outs["state"] == "started"
    assert outs["sandbox_id"] == sid and outs["name"] == record["name"]
    assert record["name"].startswith("sf-etl-") and len(record["name"]) == len("sf-etl-") + 6
    assert record["env"] == {"SANDBOX_NAME": "etl", "GIT_REPO": "https://git.example/app.git"}
    assert record["labels"] == {"sandbox-fleet.sandbox": "etl"}
    assert (record["cpu"], record["memory"]) == (2, 4), "rounded up to whole CPUs and GB"
    assert record["public"] is False and record["autoStopInterval"] == 30
    assert fake.calls[0] == ("GET", "/health"), "asked whether the server is up first"
    polls = [c for c in fake.calls if c[0] == "GET" and c[1].startswith("/sandbox/")]
    assert len(polls) == fake.start_polls + 1, "polled until the server said started"


def test_the_workspace_sync_starts_in_the_sandbox_with_the_entrys_git_settings(
    fake: FakeDaytona,
) -> None:
    sid, _ = create(
        fake, env={"GIT_REPO": "https://git.example/app.git", "GIT_BRANCH": "b", "A": "1"}
    )
    [(where, request)] = fake.executed
    assert where == sid and request.command == background_sync_command()
    assert request.envs == {"GIT_REPO": "https://git.example/app.git", "GIT_BRANCH": "b"}
    create(fake, env={"SANDBOX_NAME": "etl"})  # no repository: nothing to sync
    assert len(fake.executed) == 1


def test_a_sandbox_that_fails_to_start_is_removed_and_the_reason_reported(
    fake: FakeDaytona,
) -> None:
    fake.fail_start = "snapshot daytonaio/missing not found"
    with pytest.raises(DaytonaError, match="failed to start: error: snapshot daytonaio/missing"):
        DaytonaSandboxProvider().create(props(fake))
    assert fake.sandboxes == {}, "no untracked sandbox left behind"


def test_a_wrong_api_key_names_the_call_and_the_answer(fake: FakeDaytona) -> None:
    with pytest.raises(DaytonaError, match=r"create sandbox sf-etl-\w+: HTTP 401"):
        DaytonaSandboxProvider().create(props(fake, api_key="wrong"))


def test_read_reports_what_the_server_has_and_drops_a_vanished_sandbox(fake: FakeDaytona) -> None:
    provider = DaytonaSandboxProvider()
    sid, outs = create(fake)
    fake.sandboxes[sid]["labels"] = {"edited": "by hand"}  # drift made out of band
    read = provider.read(sid, outs)
    assert read.id == sid and read.outs is not None
    assert read.outs["labels"] == {"edited": "by hand"}
    diff = provider.diff(sid, read.outs, props(fake))
    assert diff.changes and diff.replaces == [], "its own label went missing: put it back"
    fake.sandboxes[sid]["state"] = "archived"  # Daytona archives idle sandboxes by itself
    archived = provider.read(sid, outs)
    assert archived.id == sid and archived.outs is not None
    assert archived.outs["state"] == "archived", "still this sandbox, files and all"
    del fake.sandboxes[sid]
    gone = provider.read(sid, outs)
    assert gone.id == "" and gone.outs == {}


@pytest.mark.parametrize(
    ("change", "replaces"),
    [
        ({"env": {"SANDBOX_NAME": "etl", "GIT_REPO": "https://git.example/other.git"}}, ["env"]),
        ({"snapshot": "daytonaio/python"}, ["snapshot"]),
        ({"labels": {"sandbox-fleet.sandbox": "etl", "x": "y"}}, []),
        ({"cpu": 4}, []),
        ({"api_key": "rotated"}, []),
        ({"keep_data": False}, []),
    ],
)
def test_diff_replaces_only_for_what_daytona_cannot_change_in_place(
    fake: FakeDaytona, change: dict[str, Any], replaces: list[str]
) -> None:
    old = props(fake)
    diff = DaytonaSandboxProvider().diff("id", old, {**old, **change})
    assert diff.changes is True and diff.replaces == replaces
    assert DaytonaSandboxProvider().diff("id", old, dict(old)).changes is False


def test_labels_the_server_adds_are_neither_drift_nor_removed(fake: FakeDaytona) -> None:
    provider = DaytonaSandboxProvider()
    sid, outs = create(fake)
    fake.sandboxes[sid]["labels"]["code-toolbox-language"] = "python"
    read = provider.read(sid, outs)
    assert read.outs is not None
    assert provider.diff(sid, read.outs, props(fake)).changes is False
    new = {**read.outs, "labels": {"sandbox-fleet.sandbox": "etl", "team": "data"}}
    provider.update(sid, read.outs, new)
    assert fake.sandboxes[sid]["labels"] == {
        "code-toolbox-language": "python",
        "sandbox-fleet.sandbox": "etl",
        "team": "data",
    }


def test_update_changes_labels_size_and_auto_stop_in_place(fake: FakeDaytona) -> None:
    provider = DaytonaSandboxProvider()
    sid, outs = create(fake)
    new = {**outs, "labels": {"a": "b"}, "cpu": 3, "memory_gb": 8, "auto_stop_minutes": 5}
    updated = provider.update(sid, outs, new)
    record = fake.sandboxes[sid]
    assert (record["labels"], record["cpu"], record["memory"]) == ({"a": "b"}, 3, 8)
    assert record["autoStopInterval"] == 5
    assert updated.outs is not None and updated.outs["sandbox_id"] == sid
    assert updated.outs["labels"] == {"a": "b"}


def test_removing_an_entry_that_keeps_its_data_archives_the_sandbox(fake: FakeDaytona) -> None:
    provider = DaytonaSandboxProvider()
    sid, outs = create(fake)
    provider.delete(sid, outs)
    assert fake.sandboxes[sid]["state"] == "archived", "its filesystem is kept"
    assert ("POST", f"/sandbox/{sid}/stop") in fake.calls
    provider.delete(sid, outs)  # again: nothing to do, no error


def test_removing_an_entry_with_data_discard_deletes_the_sandbox(fake: FakeDaytona) -> None:
    provider = DaytonaSandboxProvider()
    sid, outs = create(fake, keep_data=False)
    provider.delete(sid, outs)
    assert sid not in fake.sandboxes
    provider.delete(sid, outs)  # already gone is fine
