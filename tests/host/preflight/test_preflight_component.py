"""Preflight under Pulumi mocks: one check command on the host, inputs valid for pulumi-command."""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_command as command
import pytest
from pydantic import ValidationError

from components.host.preflight import SCRIPT_PATH, Preflight, PreflightArgs
from components.host.ssh import SshTarget
from components.settings import PreflightSettings, SshAddress
from tests.support.capacity_reference import GIB
from tests.support.provider_schema import ProviderSchemas
from tests.support.pulumi_harness import Run, run_program

SCHEMAS = ProviderSchemas()
HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITESTKEYTESTKEY"


def args(**overrides: Any) -> PreflightArgs:
    values: dict[str, Any] = {
        "settings": PreflightSettings(),
        "engine": "docker",
        "requested_memory_bytes": 6 * GIB,
        "requested_cpus": 2.5,
        **overrides,
    }
    return PreflightArgs(**values)


def program(make_args: Callable[[], PreflightArgs], dependent: bool = True) -> Callable[[], None]:
    def body() -> None:
        check = Preflight("preflight", make_args())
        if dependent:  # something built on the host waits for the checks
            command.local.Command(
                "uses-host", create="true", opts=pulumi.ResourceOptions(depends_on=[check.ready])
            )
        pulumi.export("report", check.report)

    return body


def ok(result: Run) -> Run:
    assert result.error is None, repr(result.error)
    return result


def test_local_check_runs_the_script_with_the_numbers_in_its_environment() -> None:
    result = ok(run_program(program(lambda: args(expected_address="100.101.102.103")), {}))
    check, dependent = result.by_name("preflight-check"), result.by_name("uses-host")
    assert check.parent == result.of_type("sandbox-fleet:index:Preflight")[0].urn
    assert check.inputs["create"] == "/bin/sh -s"
    assert check.inputs["stdin"] == SCRIPT_PATH.read_text()
    assert check.inputs["environment"] == {
        "PREFLIGHT_ENGINE": "docker",
        "PREFLIGHT_REQUESTED_MEMORY_BYTES": str(6 * GIB),
        "PREFLIGHT_REQUESTED_MILLICPUS": "2500",
        "PREFLIGHT_RATIO_MILLI": "1000",
        "PREFLIGHT_CPU_RATIO_MILLI": "4000",
        "PREFLIGHT_TIMEOUT": "10",
        "PREFLIGHT_EXPECTED_ADDRESS": "100.101.102.103",
    }
    assert check.inputs["addPreviousOutputInEnv"] is False
    assert hashlib.sha256(SCRIPT_PATH.read_bytes()).hexdigest() in check.inputs["triggers"]
    assert check.urn in dependent.dependencies, "dependents must wait for the check"
    assert SCHEMAS.validate_registered(result.resources) == []


def test_changed_requirements_change_the_triggers_and_nothing_else_does() -> None:
    def triggers(make: Callable[[], PreflightArgs]) -> list[Any]:
        result = ok(run_program(program(make, dependent=False), {}))
        return list(result.by_name("preflight-check").inputs["triggers"])

    same = triggers(lambda: args())
    assert triggers(lambda: args()) == same
    assert triggers(lambda: args(requested_memory_bytes=7 * GIB)) != same
    assert triggers(lambda: args(requested_cpus=3)) != same
    ratio = PreflightSettings.model_validate({"overcommitRatio": 1.5})
    assert triggers(lambda: args(settings=ratio)) != same
    assert triggers(lambda: args(daytona_url="http://daytona:3000/api/health")) != same


def test_remote_check_refuses_an_unpinned_host() -> None:
    loose = SshTarget(SshAddress("fleet", "box.tail1234.ts.net", None), (), host_key="")
    result = run_program(program(lambda: args(ssh=loose)), {})
    assert "no pinned host key" in str(result.error) and "ssh-keyscan" in str(result.error)
    assert not [r for r in result.resources if r.type.startswith("command:")]


def test_remote_check_runs_through_the_hosts_ssh_path_with_its_environment_spelled_out() -> None:
    target = SshTarget(
        SshAddress("fleet", "box.tail1234.ts.net", 2222), ("-i", "/keys/fleet"), HOST_KEY
    )

    def make() -> PreflightArgs:
        return args(ssh=target, engine="podman", daytona_url="http://d:3000/a b")

    result = ok(run_program(program(make), {}))
    check = result.by_name("preflight-check")
    words = shlex.split(check.inputs["create"])
    assert shlex.join(words[:-1]) == target.prefix()
    assert words[:-1] == [
        "ssh",
        *target.options,
        "-l",
        "fleet",
        "-p",
        "2222",
        "--",
        "box.tail1234.ts.net",
    ]
    assert "-i" in words and f"KnownHostsCommand=/bin/echo * {HOST_KEY}" in words
    remote = words[-1]  # what the host's shell runs
    assert remote.startswith(
        "env PREFLIGHT_CPU_RATIO_MILLI=4000 PREFLIGHT_DAYTONA_URL='http://d:3000/a b' "
        "PREFLIGHT_ENGINE=podman"
    )
    assert remote.endswith(" /bin/sh -s") and "PREFLIGHT_REQUESTED_MILLICPUS=2500" in remote
    assert check.inputs["stdin"] == SCRIPT_PATH.read_text()
    assert "environment" not in check.inputs, "sshd drops client variables"
    assert not result.of_type("command:remote:Command")
    assert SCHEMAS.validate_registered(result.resources) == []


def test_rootless_podman_with_visual_sandboxes_warns() -> None:
    warned = ok(
        run_program(
            program(
                lambda: args(
                    engine="podman", rootless_podman=True, visual_sandboxes=["shop", "frontend"]
                )
            ),
            {},
        )
    )
    assert any("rootless Podman" in w and "frontend, shop" in w for w in warned.warnings)
    for quiet in (
        args(engine="podman", rootless_podman=True),
        args(engine="docker", visual_sandboxes=["shop"]),
    ):
        result = ok(run_program(program(lambda q=quiet: q), {}))  # type: ignore[misc]
        assert result.warnings == []


def test_disabled_checks_create_no_command_and_say_so() -> None:
    off = PreflightSettings.model_validate({"enabled": False})
    result = ok(run_program(program(lambda: args(settings=off), dependent=False), {}))
    assert [r.type for r in result.resources] == ["sandbox-fleet:index:Preflight"]
    assert any("preflight is disabled" in w for w in result.warnings)
    assert result.outputs["report"] == ""


def test_preflight_settings() -> None:
    default = PreflightSettings.model_validate({})
    assert (default.enabled, default.overcommit_ratio, default.timeout_seconds) == (True, 1.0, 10)
    s = PreflightSettings.model_validate({"overcommitRatio": 2, "timeoutSeconds": 30})
    assert (s.overcommit_ratio, s.timeout_seconds) == (2.0, 30)
    for bad, words in [
        ({"overcommitRatio": 0}, "greater than 0"),
        ({"overcommitRatio": 17}, "less than or equal to 16"),
        ({"timeoutSeconds": 0}, "greater than or equal to 1"),
        ({"overcommit": 1.5}, "Extra inputs are not permitted"),
    ]:
        with pytest.raises(ValidationError, match=words):
            PreflightSettings.model_validate(bad)
