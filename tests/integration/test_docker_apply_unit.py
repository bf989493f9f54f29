"""The applier's translation, without an engine: recorded inputs map to Engine API values, and
anything it does not know raises instead of being dropped."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tests.integration.fleet import stack, write_spec
from tests.support.docker_apply import (
    CONTAINER,
    READINESS,
    DockerApplier,
    UnsupportedInput,
    container_config,
    go_duration_ns,
)
from tests.support.pulumi_harness import Registered, Run

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Run:
    spec = write_spec(tmp_path_factory.mktemp("spec") / "s.yaml", "git://192.0.2.1/proj.git")
    return stack(spec, {"namePrefix": "sfit-", "modelServerBuild": True})


def container(run: Run, name: str) -> Registered:
    return next(r for r in run.of_type(CONTAINER) if r.inputs["name"] == name)


def with_inputs(r: Registered, **changes: Any) -> Registered:
    return dataclasses.replace(r, inputs={**r.inputs, **changes})


@pytest.mark.parametrize(
    ("text", "ns"), [("5s", 5 * 10**9), ("1m0s", 60 * 10**9), ("1m30s", 90 * 10**9),
                     ("500ms", 5 * 10**8), ("1h", 3600 * 10**9)],
)  # fmt: skip
def test_go_durations(text: str, ns: int) -> None:
    assert go_duration_ns(text) == ns


@pytest.mark.parametrize("text", ["", "5", "5 s", "1m0", "s5"])
def test_bad_durations_raise(text: str) -> None:
    with pytest.raises(ValueError):
        go_duration_ns(text)


def test_sandbox_container_translates_every_recorded_input(recorded: Run) -> None:
    r = container(recorded, "sfit-vis")
    config = container_config(r, "sha256:real")
    host = config["host_config"]
    assert config["image"] == "sha256:real"
    assert (config["name"], config["hostname"], config["user"]) == ("sfit-vis", "vis", "1000:1000")
    assert "SANDBOX_MODE=visual" in config["environment"]
    assert config["labels"]["sandbox-fleet.sandbox"] == "vis"
    assert (host["mem_limit"], host["memswap_limit"], host["shm_size"]) == (
        1024 * MIB, 1024 * MIB, 1024 * MIB,
    )  # fmt: skip
    cpu = host.get("nano_cpus"), host.get("cpu_quota"), host.get("cpu_period")
    assert cpu in ((10**9, None, None), (None, 100_000, 100_000)), cpu  # cpus: 1
    assert (host["cap_drop"], host["privileged"]) == (["ALL"], False)
    assert host["security_opt"] == ["no-new-privileges:true"]
    assert host["restart_policy"] == {"Name": "unless-stopped"}
    assert set(host["port_bindings"]) == {"2222/tcp", "6080/tcp"}
    assert all(b[0][0] == "127.0.0.1" for b in host["port_bindings"].values())
    check = config["healthcheck"]
    interval = go_duration_ns(r.inputs["healthcheck"]["interval"])
    assert (check["Interval"], check["StartPeriod"], check["Retries"]) == (interval, 60 * 10**9, 3)
    assert [(m["Target"], m["Type"], m["ReadOnly"]) for m in host["mounts"]] == [
        ("/workspace", "volume", False),
        ("/etc/ssh/fleet-keys", "volume", True),
        ("/memory", "volume", False),  # its repository's memory
        ("/mirror", "volume", True),  # its repository's mirror, git's alternate
    ]


def test_model_server_mount_is_read_only(recorded: Run) -> None:
    host = container_config(container(recorded, "sfit-model-server"), "x")["host_config"]
    assert [(m["Target"], m["ReadOnly"]) for m in host["mounts"]] == [("/models", True)]


@pytest.mark.parametrize(
    "change",
    [{"tmpfs": {"/tmp": ""}}, {"mounts": [{"type": "bind", "source": "/", "target": "/host"}]},
     {"ports": [{"internal": 22, "external": 22, "ip": "0.0.0.0", "protocol": "tcp", "x": 1}]},
     {"capabilities": {"drops": ["ALL"], "bogus": []}},
     {"healthcheck": {"tests": ["CMD", "true"], "startInterval": "1s"}}],
)  # fmt: skip
def test_unknown_container_inputs_raise(recorded: Run, change: dict[str, Any]) -> None:
    with pytest.raises(UnsupportedInput):
        container_config(with_inputs(container(recorded, "sfit-hl-new"), **change), "x")


class NoEngine:
    """A client that must not be used: the checks under test happen before any call."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the engine was called ({name}) before validation failed")


def test_unknown_command_and_resource_types_raise(recorded: Run) -> None:
    applier = DockerApplier(NoEngine())
    command = next(r for r in recorded.resources if r.type == "command:local:Command")
    other = with_inputs(command, create="rm -rf /")
    with pytest.raises(UnsupportedInput, match="unknown command"):
        applier._command(other, {})
    tailnet = dataclasses.replace(command, type="tailscale:index/acl:Acl")
    with pytest.raises(UnsupportedInput, match="not supported"):
        applier._check_known(tailnet)


def test_deleting_a_protected_resource_is_refused(recorded: Run) -> None:
    applier = DockerApplier(NoEngine())
    model_data = next(r for r in recorded.resources if r.name == "fleet-storage-model-data")
    assert model_data.protect
    with pytest.raises(RuntimeError, match="protected"):
        applier._delete(model_data)
    workspace = next(r for r in recorded.resources if r.name == "fleet-vis-workspace")
    applier._delete(workspace)  # retain_on_delete: nothing to do, the engine is not called


def test_program_error_applies_nothing() -> None:
    applier = DockerApplier(NoEngine())
    with pytest.raises(RuntimeError, match="nothing applied"):
        applier.apply(Run(error=ValueError("bad spec")))


def test_a_wait_for_another_engine_or_with_unknown_inputs_raises(recorded: Run) -> None:
    applier = DockerApplier(NoEngine())
    wait = next(r for r in recorded.resources if r.type == READINESS)
    assert wait.inputs["cli"] == ["docker", "--host", applier.docker_host], "this engine's"
    elsewhere = with_inputs(wait, cli=["ssh", "--", "fleet-host", "docker"])
    with pytest.raises(UnsupportedInput, match="is not this engine's"):
        applier._readiness(elsewhere, set())
    with pytest.raises(UnsupportedInput, match="cannot apply \\['retries'\\]"):
        applier._readiness(with_inputs(wait, retries=3), set())
