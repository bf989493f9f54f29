"""The provider-schema validator catches what the mock runtime lets through."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_docker as docker
import pytest

from tests.support.provider_schema import UNKNOWN, ProviderSchemas
from tests.support.pulumi_harness import run_program

CONTAINER = "docker:index/container:Container"
VALID_CONTAINER = {
    "image": "ghcr.io/example/sandbox:1",
    "name": "sandbox-1",
    "memory": 512,
    "cpuShares": 1024.0,  # the wire carries numbers as floats
    "restart": "unless-stopped",
    "envs": ["A=1", "B=2"],
    "ports": [{"internal": 22, "external": 2222, "ip": "127.0.0.1", "protocol": "tcp"}],
    "logOpts": {"max-size": "10m"},
    "healthcheck": {"tests": ["CMD", "true"], "interval": "5s", "retries": 3},
    "networksAdvanced": [{"name": "fleet", "aliases": ["box"]}],
}


@pytest.fixture(scope="module")
def schemas() -> ProviderSchemas:
    return ProviderSchemas()


def container(**changes: object) -> dict[str, object]:
    return {**VALID_CONTAINER, **changes}


def test_valid_container_passes(schemas: ProviderSchemas) -> None:
    assert schemas.validate(CONTAINER, VALID_CONTAINER) == []


def test_unknown_top_level_key(schemas: ProviderSchemas) -> None:
    problems = schemas.validate(CONTAINER, container(sizeLimit=512))
    assert problems == [f"{CONTAINER}: unknown property 'sizeLimit'"]


def test_snake_case_key_is_unknown_with_hint(schemas: ProviderSchemas) -> None:
    problems = schemas.validate(CONTAINER, container(log_opts={"a": "b"}))
    assert problems == [f"{CONTAINER}: unknown property 'log_opts' (did you mean 'logOpts'?)"]


def test_nested_unknown_key_has_path(schemas: ProviderSchemas) -> None:
    problems = schemas.validate(CONTAINER, container(ports=[{"internal": 22, "hostIp": "x"}]))
    assert problems == [f"{CONTAINER}.ports[0]: unknown property 'hostIp'"]


def test_nested_wrong_type_has_path(schemas: ProviderSchemas) -> None:
    problems = schemas.validate(CONTAINER, container(ports=[{"internal": 22, "ip": 5}]))
    assert problems == [f"{CONTAINER}.ports[0].ip: expected string, got int 5"]


@pytest.mark.parametrize(
    ("memory", "shown"),
    [("512", "str '512'"), (True, "bool True"), (1.5, "float 1.5"), ([512], "list [512]")],
)
def test_wrong_type_for_integer(schemas: ProviderSchemas, memory: object, shown: str) -> None:
    problems = schemas.validate(CONTAINER, container(memory=memory))
    assert problems == [f"{CONTAINER}.memory: expected integer, got {shown}"]


def test_bool_and_string_fields_are_strict(schemas: ProviderSchemas) -> None:
    problems = schemas.validate(CONTAINER, container(privileged="true", hostname=1))
    assert sorted(problems) == [
        f"{CONTAINER}.hostname: expected string, got int 1",
        f"{CONTAINER}.privileged: expected boolean, got str 'true'",
    ]


def test_map_values_checked(schemas: ProviderSchemas) -> None:
    problems = schemas.validate(CONTAINER, container(logOpts={"max-file": 3}))
    assert problems == [f"{CONTAINER}.logOpts['max-file']: expected string, got int 3"]


def test_missing_required_top_level(schemas: ProviderSchemas) -> None:
    inputs = {k: v for k, v in VALID_CONTAINER.items() if k != "image"}
    assert schemas.validate(CONTAINER, inputs) == [f"{CONTAINER}.image: missing required input"]
    assert schemas.validate(CONTAINER, container(image=None)) == [
        f"{CONTAINER}.image: missing required input"
    ]


def test_array_of_objects_checked_per_item(schemas: ProviderSchemas) -> None:
    ports = [{"internal": 22}, {"internal": "80"}, {"external": 8080}, {"internal": 9, "x": 1}]
    problems = schemas.validate(CONTAINER, container(ports=ports))
    assert sorted(problems) == [
        f"{CONTAINER}.ports[1].internal: expected integer, got str '80'",
        f"{CONTAINER}.ports[2].internal: missing required input",
        f"{CONTAINER}.ports[3]: unknown property 'x'",
    ]


def test_enum_violation(schemas: ProviderSchemas) -> None:
    image = "docker:index/image:Image"
    good = {"imageName": "x:1", "build": {"context": ".", "builderVersion": "BuilderBuildKit"}}
    assert schemas.validate(image, good) == []
    bad = {"imageName": "x:1", "build": {"context": ".", "builderVersion": "BuildKit"}}
    assert schemas.validate(image, bad) == [
        f"{image}.build.builderVersion: str 'BuildKit' not in enum ['BuilderV1', 'BuilderBuildKit']"
    ]
    problems = schemas.validate("command:local:Command", {"create": "true", "logging": "all"})
    assert len(problems) == 1
    assert problems[0].startswith("command:local:Command.logging: str 'all' not in enum")


def test_unknown_sentinel_is_tolerated(schemas: ProviderSchemas) -> None:
    inputs = container(image=UNKNOWN, memory=UNKNOWN, ports=[UNKNOWN, {"internal": UNKNOWN}])
    assert schemas.validate(CONTAINER, inputs) == []


def test_docker_provider_inputs(schemas: ProviderSchemas) -> None:
    token = "pulumi:providers:docker"
    assert schemas.validate(token, {"host": "ssh://fleet@host"}) == []
    # Generated provider SDKs JSON-encode non-string config values.
    encoded = {"disableDockerDaemonCheck": "true", "registryAuth": '[{"address": "ghcr.io"}]'}
    assert schemas.validate(token, encoded) == []
    assert schemas.validate(token, {"host": "ssh://x", "hots": "y"}) == [
        f"{token}: unknown property 'hots' (did you mean 'host'?)"
    ]
    assert schemas.validate(token, {"registryAuth": '[{"address": "r", "user": "u"}]'}) == [
        f"{token}.registryAuth[0]: unknown property 'user' (did you mean 'username'?)"
    ]


def test_command_and_tailscale_resources(schemas: ProviderSchemas) -> None:
    assert schemas.validate("command:local:Command", {"create": "echo hi", "triggers": [1]}) == []
    key = "tailscale:index/tailnetKey:TailnetKey"
    assert schemas.validate(key, {"tags": ["tag:sandbox"], "reusable": True, "expiry": 3600}) == []
    assert schemas.validate(key, {"tags": "tag:sandbox", "reusable": "yes"}) == [
        f"{key}.tags: expected array, got str 'tag:sandbox'",
        f"{key}.reusable: expected boolean, got str 'yes'",
    ]
    assert schemas.validate("pulumi:providers:tailscale", {"tailnet": "-"}) == []


def test_assets_and_nested_required(schemas: ProviderSchemas) -> None:
    copy = "command:remote:CopyToRemote"
    asset = {"4dabf18193072939515e22adb298388d": "c44067f5952c0a294b673a41bacd8c17", "path": "f"}
    ok = {"connection": {"host": "h", "port": 22}, "source": asset, "remotePath": "/tmp/f"}
    assert schemas.validate(copy, ok) == []
    bad = {"connection": {"port": 22}, "source": "/etc/hosts", "remotePath": "/tmp/f"}
    assert sorted(schemas.validate(copy, bad)) == [
        f"{copy}.connection.host: missing required input",
        f"{copy}.source: expected asset, got str '/etc/hosts'",
    ]


def test_unknown_token_and_components(schemas: ProviderSchemas) -> None:
    assert schemas.validate("docker:index/containr:Containr", {}) == [
        "docker:index/containr:Containr: unknown resource token "
        "(did you mean 'docker:index/container:Container'?)"
    ]
    assert schemas.validate("random:index/randomId:RandomId", {})[0].startswith(
        "random:index/randomId:RandomId: no schema for package 'random'"
    )
    assert schemas.validate("sandbox-fleet:fleet:Sandbox", {"anything": 1}) == []


def test_missing_schema_directory_fails_loudly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nope"
    monkeypatch.setenv("SANDBOX_FLEET_SCHEMAS", str(missing))
    with pytest.raises(FileNotFoundError, match=str(missing)):
        ProviderSchemas()


def test_env_override_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOX_FLEET_SCHEMAS", str(tmp_path))
    assert ProviderSchemas().directory == tmp_path


def test_program_under_mocks(schemas: ProviderSchemas) -> None:
    class Fleet(pulumi.ComponentResource):
        def __init__(self, name: str) -> None:
            super().__init__("sandbox-fleet:test:Fleet", name, {"notInAnySchema": 1})

    def program() -> None:
        fleet = Fleet("fleet")
        provider = docker.Provider(
            "docker", host="ssh://fleet@host", disable_docker_daemon_check=True
        )
        opts = pulumi.ResourceOptions(parent=fleet, provider=provider)
        docker.Container(
            "good",
            image="alpine:3",
            memory=256,
            envs=["A=1"],
            ports=[docker.ContainerPortArgs(internal=22, external=2222)],
            opts=opts,
        )
        # Typed args cannot express this (mypy rejects it), but at runtime a raw dict slips the
        # typo past the SDK and the mocks.
        bad_ports = [{"internal": 22, "bogus": 1}]
        docker.Container("bad", image="alpine:3", ports=bad_ports, opts=opts)  # type: ignore[arg-type]

    run = run_program(program, {})
    assert run.error is None
    assert {r.type for r in run.resources} >= {CONTAINER, "pulumi:providers:docker"}
    assert schemas.validate_registered(run.resources) == [
        f"bad: {CONTAINER}.ports[0]: unknown property 'bogus'"
    ]
    good = [r for r in run.resources if r.name != "bad"]
    assert schemas.validate_registered(good) == []


def test_computed_image_ids_reach_dependents_in_up_and_preview(schemas: ProviderSchemas) -> None:
    """The harness mocks compute RemoteImage.image_id as the provider does, so a container's
    required `image` is present in an up run (a sha256 id) and unknown in a preview."""

    def program() -> None:
        image = docker.RemoteImage("img", name="alpine:3")
        docker.Container("c", image=image.image_id)

    assert schemas.validate_registered(run_program(program, {}, preview=True).resources) == []
    up = run_program(program, {})
    assert schemas.validate_registered(up.resources) == []
    assert up.by_name("c").inputs["image"].startswith("sha256:")
