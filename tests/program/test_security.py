"""Least privilege, checked on every container of every stack preset and the embedded default."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from components.contract import FLEET_KEYS_PATH
from tests.support.pulumi_harness import Registered, Run

from .conftest import PRESETS, ROOT, RunSpec, fleet_spec

STACKS = [ROOT / "Pulumi.dev.yaml", *PRESETS]
CONTAINER = "docker:index/container:Container"
VOLUME = "docker:index/volume:Volume"


@pytest.fixture(params=STACKS, ids=lambda p: p.name)
def stack_file(request: pytest.FixtureRequest) -> Path:
    return Path(request.param)


def test_every_stack_preset_runs(stack_file: Path, run_spec: RunSpec) -> None:
    run = run_spec(fleet_spec(4), stack_file)
    assert run.error is None, f"{stack_file.name}: {run.error}"
    assert run.outputs["host"]["bindAddress"]


def test_every_container_is_locked_down(stack_file: Path, run_spec: RunSpec) -> None:
    assert_every_container_is_locked_down(run_spec(fleet_spec(6), stack_file), stack_file.name)


def assert_every_container_is_locked_down(run: Run, where_run: str) -> None:
    bind = run.outputs["host"]["bindAddress"]
    for c in run.of_type(CONTAINER):
        i = c.inputs
        where = f"{where_run}: {c.urn}"
        assert i.get("privileged") is False, where
        assert i["capabilities"] == {"drops": ["ALL"]}, where
        assert "no-new-privileges:true" in i["securityOpts"], where
        assert i["user"] not in ("", "0", "root") and not i["user"].startswith("0:"), where
        assert i["memory"] > 0 and i["memorySwap"] == i["memory"], where
        assert i["cpuQuota"] > 0 and i["cpuPeriod"] == 100_000, where
        assert "cpus" not in i, f"{where}: `cpus` is ForceNew; resizing would restart it"
        assert i["logOpts"]["max-size"], where
        for port in i.get("ports", []):
            assert port["ip"] == bind and port["ip"] not in ("0.0.0.0", "::", ""), where
        for mount in i.get("mounts", []):
            assert mount["type"] == "volume", f"{where}: host bind mount {mount}"
        assert "docker.sock" not in json.dumps(i) and "podman.sock" not in json.dumps(i), where
        assert "volumes" not in i and "devices" not in i, where


def assert_every_container_has_a_pids_limit(run: Run, where: str) -> None:
    """pulumi-docker has no pids input: each container's limit is a command that runs the
    engine's `update --pids-limit` on it (again whenever the container is replaced)."""
    limits = {
        r.inputs.get("environment", {}).get("CONTAINER"): r
        for r in run.of_type("command:local:Command")
        if "--pids-limit" in r.inputs.get("create", "")
    }
    # Not the keys writer: it has run and exited by the time an `update` could reach it (a
    # fixed script, no network, a second's work), which is why it has no pids limit.
    containers = [c for c in run.of_type(CONTAINER) if not c.inputs.get("attach")]
    assert containers or "modal" in where, where
    for c in containers:
        limit = limits.get(f"{c.name}-id")
        assert limit is not None, f"{where}: {c.urn} has no pids limit"
        found = re.search(r"--pids-limit (\d+) ", limit.inputs["create"])
        assert found and 32 <= int(found[1]) <= 65536, f"{where}: {limit.inputs['create']}"
        assert f"{c.name}-id" in limit.inputs["triggers"], f"{where}: {c.urn}"
        assert limit.parent == c.parent and limit.name == PIDS_COMMAND_NAME(c.name), c.urn


def PIDS_COMMAND_NAME(container: str) -> str:
    return container.removesuffix("-container") + "-pids-limit"


def test_every_container_has_a_pids_limit(stack_file: Path, run_spec: RunSpec) -> None:
    run = run_spec(fleet_spec(6), stack_file, modelServerPublish=True)
    assert run.error is None, run.error
    assert_every_container_has_a_pids_limit(run, stack_file.name)


def test_tailnet_sidecars_have_a_pids_limit_too(run_spec: RunSpec) -> None:
    spec = "version: 1\nsandboxes:\n  own:\n    task: audit\n    tailnet: true\n"
    run = run_spec(spec, ROOT / "stacks" / "linux-docker.yaml", tailnetSandboxIdentity=True)
    assert run.error is None, run.error
    assert run.by_name("fleet-own-tailscale")
    assert_every_container_has_a_pids_limit(run, "linux-docker.yaml with a sidecar")


def test_the_services_pids_limits_are_settings(run_spec: RunSpec) -> None:
    run = run_spec(fleet_spec(1), supervisorPids=300, modelServerPids=2000)
    for name, pids in [
        ("fleet-supervisor-pids-limit", 300),
        ("fleet-model-server-pids-limit", 2000),
    ]:
        assert f"--pids-limit {pids} " in run.by_name(name).inputs["create"]


def test_every_docker_resource_uses_the_hosts_explicit_provider(
    stack_file: Path, run_spec: RunSpec
) -> None:
    run = run_spec(fleet_spec(3), stack_file)
    providers = [r for r in run.resources if r.type == "pulumi:providers:docker"]
    docker_resources = [r for r in run.resources if r.type.startswith("docker:")]
    if not docker_resources:  # cloud-only stack
        assert providers == []
        return
    assert len(providers) == 1
    provider_ref = f"{providers[0].urn}::{providers[0].name}-id"
    assert all(r.provider == provider_ref for r in docker_resources), [
        r.urn for r in docker_resources if r.provider != provider_ref
    ]
    assert providers[0].inputs["host"], "the provider must never fall back to $DOCKER_HOST"


def test_no_published_port_without_an_explicit_address(run_spec: RunSpec) -> None:
    run = run_spec(fleet_spec(10), modelServerPublish=True)
    ports = [p for c in run.of_type(CONTAINER) for p in c.inputs.get("ports", [])]
    assert ports and all(p["ip"] == "127.0.0.1" for p in ports)
    hosts = [p["external"] for p in ports]
    assert len(hosts) == len(set(hosts)), "two containers publish the same host port"


def test_unspecified_bind_address_is_refused(run_spec: RunSpec) -> None:
    run = run_spec(fleet_spec(1), bindAddress="0.0.0.0")
    assert run.error is not None and run.resources == []
    assert "sandbox-fleet:bindAddress" in str(run.error)
    assert "every interface" in str(run.error)


def test_data_volumes_are_protected_and_retained(run_spec: RunSpec) -> None:
    run = run_spec(fleet_spec(1))
    volumes = {r.inputs["name"]: r for r in run.of_type("docker:index/volume:Volume")}
    assert volumes["model-data"].protect and volumes["model-data"].retain_on_delete
    assert volumes["logs"].retain_on_delete and volumes["workspace"].retain_on_delete
    assert volumes["workspace-box-000"].retain_on_delete


def _container(run_resources: list[Registered], name: str) -> Registered:
    return next(r for r in run_resources if r.type == CONTAINER and r.inputs["name"] == name)


def test_visual_sandboxes_get_a_desktop_and_shared_memory(run_spec: RunSpec) -> None:
    run = run_spec(
        "version: 1\nsandboxes:\n  ui:\n    task: frontend-dev\n  cli:\n    task: test\n"
    )
    ui, cli = _container(run.resources, "ui"), _container(run.resources, "cli")
    assert ui.inputs["shmSize"] >= 512 and "shmSize" not in cli.inputs
    assert ui.inputs["image"] != cli.inputs["image"]
    assert {p["internal"] for p in ui.inputs["ports"]} == {2222, 6080}
    assert {p["internal"] for p in cli.inputs["ports"]} == {2222}
    assert "novnc" in run.outputs["sandboxes"]["ui"]
    assert "novnc" not in run.outputs["sandboxes"]["cli"]


def _preflight_env(run_spec: RunSpec, **config: object) -> dict[str, str]:
    run = run_spec("version: 1\nsandboxes:\n  ui:\n    task: frontend-dev\n", **config)
    assert run.error is None, run.error
    return dict(run.by_name("fleet-host-preflight-check").inputs["environment"])


def test_preflight_checks_daytona_only_when_the_stack_enables_it(run_spec: RunSpec) -> None:
    assert "PREFLIGHT_DAYTONA_URL" not in _preflight_env(run_spec)
    env = _preflight_env(run_spec, daytonaUrl="http://127.0.0.1:3986/api/")
    assert env["PREFLIGHT_DAYTONA_URL"] == "http://127.0.0.1:3986/api/health"


def test_rootless_podman_with_visual_sandboxes_warns(run_spec: RunSpec) -> None:
    run = run_spec(
        "version: 1\nsandboxes:\n  ui:\n    task: frontend-dev\n",
        hostVariant="podman",
        hostRootless=True,
    )
    assert any("rootless Podman" in w and "ui" in w for w in run.warnings), run.warnings
    run = run_spec("version: 1\nsandboxes:\n  ui:\n    task: frontend-dev\n", hostVariant="podman")
    assert not any("rootless" in w for w in run.warnings)


def test_pids_limit_uses_the_engines_own_cli(run_spec: RunSpec) -> None:
    """Podman hosts (WSL especially) may have no docker CLI at all."""
    spec = "version: 1\nsandboxes:\n  a:\n    task: audit\n    resources: {pids: 256}\n"
    docker_cmd = run_spec(spec).by_name("fleet-a-pids-limit").inputs["create"]
    assert docker_cmd.startswith("docker update --pids-limit 256 ")
    podman_cmd = run_spec(spec, hostVariant="podman").by_name("fleet-a-pids-limit").inputs["create"]
    assert podman_cmd.startswith('podman --url "$DOCKER_HOST" update --pids-limit 256 ')


KEYS = [
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl a@x",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBjfzWz3XjLZ7S2hwCXZ1Hqxz5xW5yq1hTrGd4Q5oJ9M b@y",
]


def test_stack_public_keys_reach_every_sandbox_through_the_read_only_keys_volume(
    run_spec: RunSpec,
) -> None:
    run = run_spec(fleet_spec(3), sshAuthorizedKeys=KEYS)
    assert run.error is None, run.error
    (writer,) = [c for c in run.of_type(CONTAINER) if c.name.endswith("-ssh-keys-writer")]
    env = dict(e.split("=", 1) for e in writer.inputs["envs"])
    *users, supervisor = env["SANDBOX_AUTHORIZED_KEYS"].split("\n")
    assert users == KEYS and supervisor.endswith(" sandbox-fleet-supervisor")
    hosts = [line.split(" ", 2) for line in env["SANDBOX_KNOWN_HOSTS"].split("\n")]
    assert [(h[0], h[1]) for h in hosts] == [(n, "ssh-ed25519") for n in ("box-000", "box-001",
                                                                          "box-002")]  # fmt: skip
    assert writer.inputs["networkMode"] == "none" and writer.inputs["mustRun"] is False
    keys_mount = {"type": "volume", "source": "ssh-keys", "target": FLEET_KEYS_PATH}
    assert writer.inputs["mounts"] == [keys_mount | {"readOnly": False}]
    sandboxes = [c for c in run.of_type(CONTAINER) if "SANDBOX_NAME" in json.dumps(c.inputs)]
    assert len(sandboxes) == 3
    (keys_volume,) = [v for v in run.of_type(VOLUME) if v.inputs["name"] == "ssh-keys"]
    for c in sandboxes:
        assert "SANDBOX_AUTHORIZED_KEYS" not in json.dumps(c.inputs["envs"]), c.urn
        assert keys_mount | {"readOnly": True} in c.inputs["mounts"], c.urn
        # The volume, not the writer: sshd reads the file at each login, so a new sandbox
        # starts beside the writer it replaces (to add its host key) instead of after it.
        assert keys_volume.urn in c.dependencies, f"{c.urn} may start before its keys volume"
        assert writer.urn not in c.dependencies, f"{c.urn} waits for the keys writer"
        # Its host key (derived, so it never changes; the supervisor checks it at every
        # connection) travels as secret env, never as an upload (which slows the start).
        assert "uploads" not in c.inputs, c.urn
        host_key = dict(e.split("=", 1) for e in c.inputs["envs"])["SANDBOX_HOST_KEY"]
        assert host_key.startswith("-----BEGIN OPENSSH PRIVATE KEY-----"), c.urn
        assert c.secret_input_paths() == {"envs"}, c.urn


def test_adding_a_key_changes_the_keys_writer_and_no_sandbox(run_spec: RunSpec) -> None:
    one, two = (run_spec(fleet_spec(3), sshAuthorizedKeys=KEYS[:n]) for n in (1, 2))
    assert one.error is None and two.error is None
    before = {c.urn: c.inputs for c in one.of_type(CONTAINER)}
    changed = sorted(c.name for c in two.of_type(CONTAINER) if before[c.urn] != c.inputs)
    assert changed == ["fleet-ssh-keys-writer"]
