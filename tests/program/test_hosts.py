"""A fleet on several hosts (docs/factories.md), under mocks: each host's stack builds exactly
its own entries, what its capabilities allow, and (headquarters) the bus; the supervisor learns
its host, role and bus through the contract's environment; a stack that does not match the
spec's `hosts:` stops before anything is registered."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.contract import (
    BUS_DATA_PATH,
    BUS_PASSWORD,
    BUS_PORT,
    SUPERVISOR_BUS_PASSWORD,
    SUPERVISOR_BUS_URL,
    SUPERVISOR_FLEET_SANDBOXES,
    SUPERVISOR_HOST_CAPABILITIES,
    SUPERVISOR_HOST_NAME,
    SUPERVISOR_ROLE,
)
from components.services.bus import derive_password
from tests.support.pulumi_harness import STACK_SECRET_VALUES, Run

from .conftest import RunSpec, custom
from .test_security import (
    assert_every_container_has_a_pids_limit,
    assert_every_container_is_locked_down,
)

CONTAINER = "docker:index/container:Container"
IMAGE = "docker:index/remoteImage:RemoteImage"
HQ_ADDRESS = "100.101.102.103"
MEMBER = {"hostName": "desk", "busAddress": HQ_ADDRESS}
SPEC = """version: 1
hosts:
  hq:
    headquarters: true
    capabilities: [headless, model]
  desk:
    capabilities: [headless, visual]
sandboxes:
  audit-auth: {task: audit}
  fix-login-ui: {task: frontend-dev, host: desk}
  refactor-db: {task: refactor, host: desk}
  test-api: {task: test, host: hq}
"""
NO_HOSTS = "version: 1\nsandboxes: {}\n"
ONE_HOST = "version: 1\nhosts:\n  local: {capabilities: [headless]}\nsandboxes:\n"
PLACED = {"audit-auth": "hq", "fix-login-ui": "desk", "refactor-db": "desk", "test-api": "hq"}


def built(run: Run) -> set[str]:
    """The sandboxes a run creates containers for."""
    assert run.error is None, run.error
    found = set()
    for c in run.of_type(CONTAINER):
        labels = {item["label"]: item["value"] for item in c.inputs["labels"]}
        if labels["sandbox-fleet.role"] == "sandbox":
            found.add(labels["sandbox-fleet.sandbox"])
    return found


def env(run: Run, name: str = "fleet-supervisor-container") -> dict[str, str]:
    return dict(item.split("=", 1) for item in run.by_name(name).inputs["envs"])


def images(run: Run) -> set[str]:
    return {r.inputs["name"] for r in run.of_type(IMAGE)}


def test_two_stacks_of_one_spec_split_the_entries_exactly(run_spec: RunSpec) -> None:
    hq, desk = run_spec(SPEC, hostName="hq"), run_spec(SPEC, **MEMBER)
    assert built(hq) == {"audit-auth", "test-api"}
    assert built(desk) == {"fix-login-ui", "refactor-db"}
    assert built(hq) | built(desk) == set(PLACED) and not built(hq) & built(desk)
    for run in (hq, desk):  # each stack names every entry, and where the others live
        outputs = run.outputs["sandboxes"]
        assert set(outputs) == set(PLACED)
        for name, out in outputs.items():
            here = name in built(run)
            assert ("status" not in out) == here, (name, out)
            if not here:
                assert out["status"].startswith(f"placed on host {PLACED[name]}"), out


def test_the_stack_outputs_say_which_host_it_is_and_what_it_can_do(run_spec: RunSpec) -> None:
    hq, desk, single = run_spec(SPEC, hostName="hq"), run_spec(SPEC, **MEMBER), run_spec(NO_HOSTS)
    host = hq.outputs["host"]
    assert host == {
        "name": "hq", "variant": "local", "bindAddress": "127.0.0.1",
        "dockerHost": host["dockerHost"], "role": "headquarters",
        "capabilities": ["headless", "model"],
    }  # fmt: skip
    assert (desk.outputs["host"]["role"], desk.outputs["host"]["capabilities"]) == (
        "member",
        ["headless", "visual"],
    )
    # A host no `hosts:` declares can do what its stack builds (the dev stack: a model server).
    assert (single.outputs["host"]["role"], single.outputs["host"]["capabilities"]) == (
        "single",
        ["headless", "model", "visual"],
    )
    assert hq.outputs["supervisor"]["apiUrl"] and desk.outputs["supervisor"]["apiUrl"]


def test_capabilities_prune_the_model_server_and_the_desktop_image(run_spec: RunSpec) -> None:
    hq, desk = run_spec(SPEC, hostName="hq"), run_spec(SPEC, **MEMBER)
    assert "model-server" in {c.inputs["name"] for c in hq.of_type(CONTAINER)}
    # modelServerEnabled is true in both stacks: the host's capabilities decide.
    assert "model-server" not in {c.inputs["name"] for c in desk.of_type(CONTAINER)}
    assert "modelServerApiKey" not in json.dumps(desk.outputs)
    assert "sandbox-fleet/desktop:latest" in images(desk)
    assert "sandbox-fleet/desktop:latest" not in images(hq)
    # The supervisor of a host without a model server is not pointed at one by default either.
    assert env(desk)["MODEL_URL"] == env(hq)["MODEL_URL"]  # supervisorModelUrl is its setting


def test_a_host_without_visual_builds_no_desktop_image_even_with_no_entries(
    run_spec: RunSpec,
) -> None:
    spec = (
        "version: 1\nhosts:\n  local: {capabilities: [headless]}\nsandboxes:\n  a: {task: audit}\n"
    )
    run = run_spec(spec)
    assert built(run) == {"a"}
    assert not any("desktop" in name for name in images(run))
    assert "model-server" not in {c.inputs["name"] for c in run.of_type(CONTAINER)}


def test_headquarters_runs_the_bus_locked_down(run_spec: RunSpec) -> None:
    run = run_spec(SPEC, hostName="hq", busPort=16400, busMemory="512Mi", busPids=200)
    bus = run.by_name("fleet-bus-container")
    i = bus.inputs
    assert i["name"] == "bus" and i["hostname"] == "bus"
    assert i["ports"] == [
        {"internal": BUS_PORT, "external": 16400, "ip": "127.0.0.1", "protocol": "tcp"}
    ]
    assert i["networksAdvanced"] == [{"name": "ai-net", "aliases": ["bus"]}]
    assert i["memory"] == 512 and i["healthcheck"]["tests"] == ["CMD", "/usr/local/bin/bus-health"]
    assert "BUS_MAXMEMORY=402653184" in i["envs"]  # three quarters of 512Mi
    password = derive_password(STACK_SECRET_VALUES["busSecret"])
    assert f"{BUS_PASSWORD}={password}" in i["envs"] and "envs" in bus.secret_input_paths()
    assert password not in json.dumps(run.outputs)
    assert "healthcheck" in bus.replace_on_changes and i["wait"] is True
    volume = run.by_name("fleet-bus-data")
    assert volume.inputs["name"] == "bus-data" and volume.protect and volume.retain_on_delete
    assert i["mounts"] == [{"type": "volume", "source": "bus-data", "target": BUS_DATA_PATH}]
    assert "sandbox-fleet/bus:latest" in images(run)
    assert_every_container_is_locked_down(run, "headquarters")
    assert_every_container_has_a_pids_limit(run, "headquarters")
    assert "--pids-limit 200 " in run.by_name("fleet-bus-pids-limit").inputs["create"]
    supervisor = run.by_name("fleet-supervisor-container")
    assert bus.urn in supervisor.dependencies


@pytest.mark.parametrize(
    "spec",
    [SPEC, NO_HOSTS, ONE_HOST.replace("sandboxes:", "sandboxes: {}")],
    ids=["member", "no hosts", "one host"],
)
def test_no_bus_but_on_the_headquarters_of_several_hosts(run_spec: RunSpec, spec: str) -> None:
    run = run_spec(spec, **MEMBER) if spec == SPEC else run_spec(spec)
    assert run.error is None, run.error
    assert not [r for r in run.resources if "bus" in r.name]
    assert "sandbox-fleet/bus:latest" not in images(run)


def test_the_supervisor_learns_its_host_role_and_bus(run_spec: RunSpec) -> None:
    password = derive_password(STACK_SECRET_VALUES["busSecret"])
    fleet = json.dumps(PLACED, sort_keys=True, separators=(",", ":"))
    hq, desk = env(run_spec(SPEC, hostName="hq")), env(run_spec(SPEC, **MEMBER, busPort=16500))
    assert {k: hq[k] for k in CONTRACT} == {
        SUPERVISOR_HOST_NAME: "hq", SUPERVISOR_HOST_CAPABILITIES: "headless,model",
        SUPERVISOR_ROLE: "headquarters", SUPERVISOR_FLEET_SANDBOXES: fleet,
        SUPERVISOR_BUS_URL: f"redis://bus:{BUS_PORT}/0", SUPERVISOR_BUS_PASSWORD: password,
    }  # fmt: skip
    assert {k: desk[k] for k in CONTRACT} == {
        SUPERVISOR_HOST_NAME: "desk", SUPERVISOR_HOST_CAPABILITIES: "headless,visual",
        SUPERVISOR_ROLE: "member", SUPERVISOR_FLEET_SANDBOXES: fleet,
        SUPERVISOR_BUS_URL: f"redis://{HQ_ADDRESS}:16500/0", SUPERVISOR_BUS_PASSWORD: password,
    }  # fmt: skip


def test_a_single_host_supervisor_has_no_bus_and_no_fleet_map(run_spec: RunSpec) -> None:
    single = env(run_spec("version: 1\nsandboxes:\n  a: {task: audit}\n"))
    assert single[SUPERVISOR_ROLE] == "single" and single[SUPERVISOR_BUS_URL] == ""
    assert single[SUPERVISOR_HOST_NAME] == "local"
    assert single[SUPERVISOR_HOST_CAPABILITIES] == "headless,model,visual"
    assert SUPERVISOR_FLEET_SANDBOXES not in single and SUPERVISOR_BUS_PASSWORD not in single


def test_an_ipv6_bus_address_is_written_in_brackets(run_spec: RunSpec) -> None:
    desk = env(run_spec(SPEC, hostName="desk", busAddress="fd7a:115c:a1e0::1"))
    assert desk[SUPERVISOR_BUS_URL] == "redis://[fd7a:115c:a1e0::1]:16379/0"


CONTRACT = (
    SUPERVISOR_HOST_NAME,
    SUPERVISOR_HOST_CAPABILITIES,
    SUPERVISOR_ROLE,
    SUPERVISOR_FLEET_SANDBOXES,
    SUPERVISOR_BUS_URL,
    SUPERVISOR_BUS_PASSWORD,
)


def test_declaring_the_one_host_there_is_changes_nothing(run_spec: RunSpec) -> None:
    """A fleet on one host adopting `hosts:` (with what its stack builds) moves nothing."""
    body = "sandboxes:\n  a: {task: audit}\n  b: {task: frontend-dev}\n"
    before = run_spec("version: 1\n" + body)
    after = run_spec(
        "version: 1\nhosts:\n  local: {capabilities: [visual, headless, model]}\n" + body
    )
    old, new = custom(before), custom(after)
    assert old.keys() == new.keys()
    assert [u for u in old if old[u].inputs != new[u].inputs] == []


def test_a_host_joining_moves_nothing_on_the_others(run_spec: RunSpec) -> None:
    joined = SPEC.replace("sandboxes:", "  gpu-box:\n    capabilities: [gpu, model]\nsandboxes:")
    for config in ({"hostName": "hq"}, MEMBER):
        before, after = custom(run_spec(SPEC, **config)), custom(run_spec(joined, **config))
        assert before.keys() == after.keys(), config
        assert [u for u in before if before[u].inputs != after[u].inputs] == [], config


def problems_of(run: Run) -> str:
    assert run.error is not None, "the run should have stopped"
    assert run.resources == [], "a stack that does not match the spec registered resources"
    return str(run.error)


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"hostName": "hqq"}, "Pulumi.dev.yaml: sandbox-fleet:hostName: 'hqq' is not a host of "),
        ({"hostName": "hqq"}, "(hosts: desk, hq) (did you mean 'hq'?)"),
        ({"hostName": "desk"}, "Pulumi.dev.yaml: sandbox-fleet:busAddress: required on desk"),
        ({"hostName": "hq", "busSecret": None}, "Pulumi.dev.yaml: sandbox-fleet:busSecret: not"),
        ({"hostName": "hq", "busPort": 18000},
         "sandbox-fleet:busPort: host port 18000 is also sandbox-fleet:supervisorPort"),
        ({"hostName": "hq", "hostVariant": "none"},
         "spec-0.yaml declares host hq with headless, model, the bus (it is headquarters)"),
        ({"hostName": "hq", "busAddress": "127.0.0.1"}, "would be the member's own container"),
    ],
)  # fmt: skip
def test_a_stack_that_does_not_match_the_hosts_stops_naming_both_files(
    run_spec: RunSpec, config: dict[str, Any], expected: str
) -> None:
    assert expected in problems_of(run_spec(SPEC, **config))


HOSTS_DAYTONA = "hosts:\n  local: {capabilities: [headless, daytona]}\n"


def test_a_host_with_daytona_runs_daytonas_own_server_unless_it_names_one(
    run_spec: RunSpec,
) -> None:
    spec = NO_HOSTS.replace("sandboxes", HOSTS_DAYTONA + "sandboxes")
    own = run_spec(spec, daytonaServerSecret="hosts-test-daytona-secret")
    assert own.error is None, own.error
    assert own.by_name("fleet-daytona-server").type == "sandbox-fleet:index:DaytonaServer"
    elsewhere = run_spec(spec, daytonaUrl="https://daytona.example.test/api")
    assert elsewhere.error is None, elsewhere.error
    assert not [r for r in elsewhere.resources if "DaytonaServer" in r.type]
    cloud = problems_of(run_spec(spec, hostVariant="none"))
    assert "Pulumi.dev.yaml: sandbox-fleet:daytonaUrl: not set, and " in cloud
    assert "declares host local with daytona, whose own Daytona server needs" in cloud


def test_an_entry_its_host_cannot_build_is_an_error_not_a_skip(run_spec: RunSpec) -> None:
    message = problems_of(run_spec(ONE_HOST + "  batch: {task: test, runtime: modal}\n"))
    assert (
        "spec-0.yaml:5: sandboxes.batch: placed on host local, whose stack (Pulumi.dev.yaml) "
        "cannot build it: this stack does not use Modal (sandbox-fleet:modalEnabled)"
    ) in message


CAPACITY = """version: 1
hosts:
  local:
    capabilities: [headless]
    capacity:
      cpus: 3
      memory: 3Gi
sandboxes:
  a: {task: audit, resources: {cpus: 4, memory: 2Gi}}
  b: {task: audit, resources: {cpus: 4, memory: 512Mi}}
"""


def test_a_hosts_containers_beyond_its_capacity_stop_at_the_capacitys_line(
    run_spec: RunSpec,
) -> None:
    # 2Gi + 512Mi + the supervisor's 512Mi (no model server: no `model`) = 3Gi: fits exactly,
    # and 4 + 4 + 0.5 CPUs within 3 x 4 (the preflight's CPU ratio).
    assert run_spec(CAPACITY).error is None
    message = problems_of(run_spec(CAPACITY, supervisorMemory="513Mi", supervisorCpus="4.5"))
    assert (
        "spec-1.yaml:7:15: hosts.local.capacity.memory: this host's containers (its sandboxes "
        "and services) ask for 3073Mi, and 3Gi with over-commit ratio 1 "
        "(sandbox-fleet:preflightOvercommitRatio) allows 3Gi"
    ) in message
    assert (
        "spec-1.yaml:6:13: hosts.local.capacity.cpus: this host's containers (its sandboxes and "
        "services) ask for 12.5 CPUs, and 3 with over-commit ratio 4 "
        "(sandbox-fleet:preflightCpuOvercommitRatio) allows 12"
    ) in message
    # The stack's own ratios, as its preflight holds the real host to them.
    assert (
        run_spec(
            CAPACITY,
            supervisorMemory="513Mi",
            supervisorCpus="4.5",
            preflightOvercommitRatio=1.5,
            preflightCpuOvercommitRatio=5,
        ).error
        is None
    )
