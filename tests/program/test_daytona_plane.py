"""`runtime: daytona` entries under Pulumi mocks: what the real program registers for them.

The provider itself runs against a fake Daytona server in tests/planes/daytona; here only the graph.
"""

from __future__ import annotations

import json
from typing import Any

from tests.support.pulumi_harness import Registered, Run

from .conftest import RunSpec, custom

DYNAMIC = "pulumi-python:dynamic:Resource"
KEY = "dtn-test-key"
URL = "http://daytona.internal:3000/api"
SPEC = """\
version: 1
defaults:
  repo: https://git.example.test/acme/app.git
sandboxes:
  local-audit:
    task: audit
  etl:
    task: data-processing
    runtime: daytona
    resources: {cpus: 1.5, memory: 3Gi}
    secrets: [GITHUB_TOKEN]
"""


def daytona(run_spec: RunSpec, text: str = SPEC, **config: Any) -> Run:
    settings: dict[str, Any] = {"daytonaUrl": URL, "DAYTONA_API_KEY": KEY, "GITHUB_TOKEN": "ghp_x"}
    return run_spec(text, secret_keys=("DAYTONA_API_KEY", "GITHUB_TOKEN"), **{**settings, **config})


def sandbox(run: Run) -> Registered:
    found = run.of_type(DYNAMIC)
    assert len(found) == 1, [r.name for r in found]
    return found[0]


def test_a_daytona_entry_is_one_dynamic_resource_with_the_entry_in_it(run_spec: RunSpec) -> None:
    run = daytona(run_spec)
    assert run.error is None, run.error
    r = sandbox(run)
    assert r.name == "fleet-daytona-etl" and r.type == DYNAMIC
    i = r.inputs
    assert i["api_url"] == URL and i["name_prefix"] == "etl"
    assert (i["cpu"], i["memory_gb"], i["keep_data"]) == (2, 3, True)
    assert i["env"]["SANDBOX_NAME"] == "etl" and i["env"]["GITHUB_TOKEN"] == "ghp_x"
    assert i["env"]["GIT_REPO"] == "https://git.example.test/acme/app.git"
    assert i["labels"]["sandbox-fleet.sandbox"] == "etl"
    containers = [c.inputs["name"] for c in run.of_type("docker:index/container:Container")]
    assert "etl" not in containers and "local-audit" in containers
    out = run.outputs["sandboxes"]["etl"]
    assert out["runtime"] == "daytona" and "ssh" in out


def test_the_api_key_and_the_secret_env_stay_secret(run_spec: RunSpec) -> None:
    r = sandbox(daytona(run_spec))
    assert {"api_key", "env"} <= r.secret_input_paths()
    assert {"api_key", "env"} <= set(r.additional_secret_outputs)
    plain = {k: v for k, v in r.wire.items() if k not in r.secret_input_paths()}
    assert KEY not in json.dumps(plain) and "ghp_x" not in json.dumps(plain), "no value leaks"


def test_without_an_api_key_nothing_is_created_and_the_error_says_how(run_spec: RunSpec) -> None:
    run = run_spec(SPEC, daytonaUrl=URL, GITHUB_TOKEN="ghp_x", secret_keys=("GITHUB_TOKEN",))
    assert run.error is not None and custom(run) == {}
    text = str(run.error)
    assert ":7: sandboxes.etl: runtime daytona (etl) needs this stack's credentials" in text
    assert "pulumi config set --secret DAYTONA_API_KEY <value>" in text


def test_a_visual_entry_on_daytona_is_refused_at_its_line(run_spec: RunSpec) -> None:
    text = "version: 1\nsandboxes:\n  ui:\n    task: frontend-dev\n    runtime: daytona\n"
    run = daytona(run_spec, text)
    assert run.error is not None and custom(run) == {}
    assert ":3: sandboxes.ui: runtime daytona runs headless sandboxes only" in str(run.error)


def test_a_stack_without_a_daytona_server_leaves_the_entry_to_another(run_spec: RunSpec) -> None:
    run = run_spec(SPEC, GITHUB_TOKEN="ghp_x", secret_keys=("GITHUB_TOKEN",))
    assert run.error is None, run.error
    assert run.of_type(DYNAMIC) == []
    status = run.outputs["sandboxes"]["etl"]["status"]
    assert "no Daytona server (sandbox-fleet:daytonaUrl)" in status


def test_adding_a_daytona_entry_moves_nothing_on_the_host(run_spec: RunSpec) -> None:
    without = daytona(run_spec, SPEC.split("  etl:")[0])
    with_it = daytona(run_spec)
    before = {u: r.inputs for u, r in custom(without).items()}
    after = {u: r.inputs for u, r in custom(with_it).items() if r.type != DYNAMIC}
    assert before == after
