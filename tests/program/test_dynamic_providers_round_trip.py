"""The dynamic providers (the cloud planes', the Docker plane's readiness wait) survive the trip
Pulumi makes them take.

`pulumi up` serializes the provider object into the state with `serialize_provider` (dill); at
refresh and destroy the engine starts the `pulumi.dynamic` plugin process in the program's
directory, which loads it with `dill.loads`. The SDK pickles classes of importable modules by
reference, so the class must import cleanly there and carry no state of its own.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import dill
import pytest
from pulumi.dynamic.dynamic import serialize_provider

from components.host.readiness_wait import ReadinessProvider
from components.planes.daytona.provider import DaytonaSandboxProvider
from components.planes.modal.provider import ModalSandboxProvider, ModalVolumeProvider

from .conftest import ROOT

LOAD = """
import base64, sys, dill
provider = dill.loads(base64.b64decode(sys.argv[1]))
key = sys.argv[2]
diff = provider.diff("id", {key: {"sandbox-fleet.a": "1"}}, {key: {"sandbox-fleet.a": "2"}})
print(type(provider).__module__, type(provider).__name__, diff.changes)
"""


@pytest.mark.parametrize(
    ("provider", "key"),
    [
        (DaytonaSandboxProvider, "labels"),
        (ModalSandboxProvider, "tags"),
        (ModalVolumeProvider, "keep"),
        (ReadinessProvider, "watched"),
    ],
)
def test_a_fresh_plugin_process_in_the_project_loads_and_runs_the_provider(
    provider: type, key: str
) -> None:
    blob = serialize_provider(provider())
    assert vars(dill.loads(base64.b64decode(blob))) == {}, "no client or state is pickled"
    done = subprocess.run(
        [sys.executable, "-c", LOAD, blob, key],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    module, name, changed = done.stdout.split()
    assert (module, name) == (provider.__module__, provider.__name__)
    assert changed == "True", "the loaded provider's own diff ran"


# What the SDK's provider host (pulumi/dynamic/__main__.py, which serves as soon as it is
# imported) has loaded before its first call; then the modules the provider brings in.
LOADS_WITH = """
import base64, sys, dill, grpc, pulumi.dynamic, pulumi.runtime
before = set(sys.modules)
dill.loads(base64.b64decode(sys.argv[1]))
print(" ".join(sorted(set(sys.modules) - before)))
"""


def test_the_provider_host_loads_the_readiness_wait_without_the_docker_plane() -> None:
    """Its first call comes after the last container of an `up` (and in the preview): what the
    provider imports there is time between the last sandbox ready and `up` returning."""
    done = subprocess.run(
        [sys.executable, "-c", LOADS_WITH, serialize_provider(ReadinessProvider())],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    loaded = done.stdout.split()
    ours = [m for m in loaded if m.partition(".")[0] in {"components", "pulumi_docker"}]
    assert ours == ["components", "components.host", "components.host.readiness_wait"]


# What older stacks hold: the providers pickled at their old paths, before components/planes/
# (8099f75) and before the readiness wait moved out of the Docker plane's package (f2b6331).
OLD_STATES = sorted(Path(__file__).with_name("state").glob("provider-blobs-*.json"))
MOVED = {
    "components.daytona.DaytonaSandboxProvider": DaytonaSandboxProvider,
    "components.modal_sandbox.ModalSandboxProvider": ModalSandboxProvider,
    "components.modal_sandbox.ModalVolumeProvider": ModalVolumeProvider,
    "components.planes.docker.readiness.ReadinessProvider": ReadinessProvider,
}


@pytest.mark.parametrize("old", sorted(MOVED))
def test_a_provider_stored_at_its_old_path_still_loads(old: str) -> None:
    blobs = {k: v for state in OLD_STATES for k, v in json.loads(state.read_text()).items()}
    blob = blobs[old]
    assert base64.b64decode(blob).count(old.rsplit(".", 1)[0].encode()) == 1, "an old-path blob"
    done = subprocess.run(
        [sys.executable, "-c", "import base64, sys, dill; "
         "p = dill.loads(base64.b64decode(sys.argv[1])); "
         "print(type(p).__module__, type(p).__name__)", blob],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    new = MOVED[old]
    assert done.stdout.split() == [new.__module__, new.__name__]
