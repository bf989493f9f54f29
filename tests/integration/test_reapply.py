"""Removing an entry and re-applying removes that container and nothing else; its workspace
volume (retain_on_delete) and the files in it stay."""

from __future__ import annotations

import docker.errors
import pytest

from tests.integration.fleet import PREFIX, Fleet, exec_in, stack, write_spec

pytestmark = pytest.mark.docker

GONE = "hl-gone"
NOTE = "/workspace/notes/keep-me.txt"


def test_removed_entry_loses_its_container_and_keeps_its_workspace(fleet: Fleet) -> None:
    client = fleet.client
    code, out = exec_in(
        client,
        f"{PREFIX}{GONE}",
        "sh",
        "-c",
        f"mkdir -p /workspace/notes && echo precious > {NOTE}",
    )
    assert code == 0, out
    ids = {name: client.containers.get(name).id for name in fleet.containers()}

    spec = write_spec(fleet.workdir / "sandboxes-without.yaml", fleet.git.url, drop=(GONE,))
    new = stack(spec, fleet.overrides)
    assert f"{PREFIX}{GONE}" not in [r.inputs.get("name") for r in new.resources]
    fleet.applier.reconcile(fleet.run, new)
    old, fleet.run = fleet.run, new  # later tests see the fleet as it is now
    fleet.removed.append(GONE)

    with pytest.raises(docker.errors.NotFound):
        client.containers.get(f"{PREFIX}{GONE}")
    assert {n: client.containers.get(n).id for n in fleet.containers()} == {
        n: i for n, i in ids.items() if n != f"{PREFIX}{GONE}"
    }, "re-applying must not touch the other containers"
    volume = client.volumes.get(f"{PREFIX}workspace-{GONE}")
    assert volume.attrs["Labels"]["sandbox-fleet.sandbox"] == GONE
    recorded = [r for r in old.resources if r.inputs.get("name") == volume.name]
    assert [r.retain_on_delete for r in recorded] == [True]
    kept = client.containers.run(
        "sandbox-fleet/headless:latest", ["cat", NOTE], entrypoint=[], remove=True,
        name=f"{PREFIX}volume-check", labels={"sandbox-fleet.fleet": f"{PREFIX}sandbox-fleet"},
        volumes={volume.name: {"bind": "/workspace", "mode": "ro"}}, network_disabled=True,
    )  # fmt: skip
    assert kept.decode().strip() == "precious"
