"""Secrets reach containers only as Pulumi secrets, and never appear in outputs."""

from __future__ import annotations

import json

from tests.support.pulumi_harness import STACK_SECRET_VALUES, Run

from .conftest import RunSpec

SPEC = """version: 1
sandboxes:
  etl:
    task: data-processing
    env: {LOG_LEVEL: debug}
    secrets: [GITHUB_TOKEN]
"""
VALUE = "value-of-the-token-0123456789"


def test_secret_env_is_secret_on_the_wire_and_absent_from_outputs(run_spec: RunSpec) -> None:
    run = run_spec(SPEC, GITHUB_TOKEN=VALUE, secret_keys=("GITHUB_TOKEN",))
    assert run.error is None, run.error
    box = run.by_name("fleet-etl-container")
    assert f"GITHUB_TOKEN={VALUE}" in box.inputs["envs"]
    assert "envs" in box.secret_input_paths(), "the env list carrying a secret is not secret"
    assert VALUE not in json.dumps(run.outputs)
    for r in run.resources:
        if r is not box:
            assert VALUE not in json.dumps(r.inputs), f"secret leaked into {r.urn}"


def test_missing_secret_stops_before_anything_is_created(run_spec: RunSpec) -> None:
    run = run_spec(SPEC)
    assert run.error is not None
    message = str(run.error)
    assert "sandboxes.etl.secrets: GITHUB_TOKEN is not set" in message
    assert ".yaml:3: " in message, message  # the line of the entry
    assert "pulumi config set --secret GITHUB_TOKEN" in message
    assert [r for r in run.resources if r.custom] == []


def test_plain_env_is_secret_only_beside_the_host_key(run_spec: RunSpec) -> None:
    """A Docker sandbox's env carries its SSH host key (not an upload, which costs its start
    0.1-0.2 s: contract.SANDBOX_HOST_KEY), so its `envs` are secret as a whole; nothing else
    of it is."""
    run = run_spec("version: 1\nsandboxes:\n  a:\n    task: audit\n    env: {X: '1'}\n")
    box = run.by_name("fleet-a-container")
    assert "X=1" in box.inputs["envs"] and box.secret_input_paths() == {"envs"}


TOKEN_KEY = "supervisorApiToken"


def test_the_task_api_token_reaches_only_the_supervisor_and_leaves_as_a_secret(
    run_spec: RunSpec,
) -> None:
    token = STACK_SECRET_VALUES[TOKEN_KEY]
    run = run_spec(SPEC, GITHUB_TOKEN=VALUE, secret_keys=("GITHUB_TOKEN",))
    assert run.error is None, run.error
    supervisor = run.by_name("fleet-supervisor-container")
    assert f"SUPERVISOR_API_TOKEN={token}" in supervisor.inputs["envs"]
    assert "envs" in supervisor.secret_input_paths()
    holders = [r.name for r in run.resources if token in json.dumps(r.inputs)]
    assert holders == ["fleet-supervisor-container"], "no sandbox gets the task API's token"
    assert run.outputs["supervisor"]["apiToken"] == token
    assert "supervisor" in run.secret_outputs


def test_a_host_stack_without_the_token_stops_before_anything_is_created(
    run_spec: RunSpec,
) -> None:
    run = run_spec(SPEC, GITHUB_TOKEN=VALUE, secret_keys=("GITHUB_TOKEN",), **{TOKEN_KEY: None})
    assert run.error is not None
    message = str(run.error)
    assert f"Pulumi.dev.yaml: sandbox-fleet:{TOKEN_KEY}: not set" in message, message
    assert "scripts/up" in message and f"pulumi config set --secret {TOKEN_KEY}" in message
    assert run.resources == []


def test_a_cloud_only_stack_needs_no_token(run_spec: RunSpec) -> None:
    run = run_spec("version: 1\nsandboxes: {}\n", hostVariant="none", **{TOKEN_KEY: None})
    assert run.error is None, run.error


MODEL_KEY = "modelServerApiKey"


def test_the_model_key_reaches_the_model_server_and_the_supervisor_only(run_spec: RunSpec) -> None:
    key = STACK_SECRET_VALUES[MODEL_KEY]
    run = run_spec(SPEC, GITHUB_TOKEN=VALUE, secret_keys=("GITHUB_TOKEN",))
    assert run.error is None, run.error
    server = run.by_name("fleet-model-server-container")
    assert f"LLAMA_API_KEY={key}" in server.inputs["envs"] and server.secret_input_paths()
    supervisor = run.by_name("fleet-supervisor-container")
    assert f"MODEL_API_KEY={key}" in supervisor.inputs["envs"]
    holders = sorted(r.name for r in run.resources if key in json.dumps(r.inputs))
    assert holders == ["fleet-model-server-container", "fleet-supervisor-container"]
    assert "modelServer" in run.secret_outputs


def test_the_model_key_is_asked_for_only_when_the_stack_runs_a_model_server(
    run_spec: RunSpec,
) -> None:
    missing = run_spec(SPEC, GITHUB_TOKEN=VALUE, **{MODEL_KEY: None})
    assert f"sandbox-fleet:{MODEL_KEY}: not set" in str(missing.error)
    assert missing.resources == []
    off = run_spec(SPEC, GITHUB_TOKEN=VALUE, modelServerEnabled=False, **{MODEL_KEY: None})
    assert off.error is None, off.error
    supervisor = off.by_name("fleet-supervisor-container")
    assert not any(e.startswith("MODEL_API_KEY=") for e in supervisor.inputs["envs"])


DESKTOP_KEY = "desktopSecret"
DESKTOPS = """version: 1
sandboxes:
  ui-a: {task: frontend-dev}
  ui-b: {task: visual-debug}
  cli: {task: audit}
"""


def vnc_passwords(run: Run) -> dict[str, str]:
    found = {}
    for r in run.of_type("docker:index/container:Container"):
        env = dict(e.split("=", 1) for e in r.inputs.get("envs", []))
        if "SANDBOX_VNC_PASSWORD" in env:
            assert "envs" in r.secret_input_paths(), f"{r.urn}: the VNC password is not secret"
            found[env["SANDBOX_NAME"]] = env["SANDBOX_VNC_PASSWORD"]
    return found


def test_each_desktop_gets_its_own_vnc_password_derived_from_the_stack_secret(
    run_spec: RunSpec,
) -> None:
    first, again = run_spec(DESKTOPS), run_spec(DESKTOPS)
    other = run_spec(DESKTOPS, **{DESKTOP_KEY: "another-desktop-secret"})
    passwords = vnc_passwords(first)
    assert sorted(passwords) == ["ui-a", "ui-b"], "a desktop only, and every desktop"
    assert len(set(passwords.values())) == 2 and all(len(p) == 8 for p in passwords.values())
    assert vnc_passwords(again) == passwords, "up never churns a password"
    assert set(vnc_passwords(other).values()).isdisjoint(passwords.values())
    seed = STACK_SECRET_VALUES[DESKTOP_KEY]
    assert all(seed not in json.dumps(r.inputs) for r in first.resources)


def test_the_novnc_output_logs_in_and_is_a_secret(run_spec: RunSpec) -> None:
    run = run_spec(DESKTOPS)
    assert run.error is None, run.error
    passwords = vnc_passwords(run)
    for name in ("ui-a", "ui-b"):
        url = run.outputs["sandboxes"][name]["novnc"]
        assert url.endswith(f"#password={passwords[name]}"), url
    assert "novnc" not in run.outputs["sandboxes"]["cli"]
    assert "sandboxes" in run.secret_outputs


def test_a_stack_with_desktops_and_no_desktop_secret_stops_before_anything_is_created(
    run_spec: RunSpec,
) -> None:
    missing = run_spec(DESKTOPS, **{DESKTOP_KEY: None})
    assert f"Pulumi.dev.yaml: sandbox-fleet:{DESKTOP_KEY}: not set" in str(missing.error)
    assert missing.resources == []
    headless = run_spec(SPEC, GITHUB_TOKEN=VALUE, **{DESKTOP_KEY: None})
    assert headless.error is None, "only desktops need it"


def test_a_repo_token_reaches_its_sandbox_by_name_and_its_value_only_as_a_secret(
    run_spec: RunSpec,
) -> None:
    spec = (
        "version: 1\nsandboxes:\n  etl:\n    task: data-processing\n"
        "    repo: https://github.com/acme/private.git\n"
        "    secrets: [GITHUB_TOKEN]\n    repo_token: GITHUB_TOKEN\n"
    )
    run = run_spec(spec, GITHUB_TOKEN=VALUE, secret_keys=("GITHUB_TOKEN",))
    assert run.error is None, run.error
    box = run.by_name("fleet-etl-container")
    assert "SANDBOX_GIT_TOKEN_VAR=GITHUB_TOKEN" in box.inputs["envs"]
    assert f"GITHUB_TOKEN={VALUE}" in box.inputs["envs"] and "envs" in box.secret_input_paths()
    assert all(VALUE not in e for e in box.inputs["envs"] if e.startswith("GIT_REPO="))
