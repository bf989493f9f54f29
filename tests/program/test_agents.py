"""The supervisor works in the sandboxes (issue #13), under mocks: its settings reach it, it has
the fleet's client key (a secret, only it), the sandboxes' host keys in the keys volume (read
only), and each sandbox gets the host key the supervisor pins."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_ssh_private_key,
)

from components.contract import FLEET_KEYS_PATH
from components.planes.docker.memory import repo_slug
from components.planes.docker.toolchains import toolchain_key
from components.spec.image import SandboxImage

from .conftest import ROOT, RunSpec
from .test_security import CONTAINER

SPEC = "version: 1\nsandboxes:\n  web: {task: frontend-dev}\n  etl: {task: data-processing}\n"


def env_of(inputs: dict[str, Any]) -> dict[str, str]:
    return dict(entry.split("=", 1) for entry in inputs["envs"])


def host_key(run: Any, sandbox: str) -> str:
    """The SSH host key the fleet gives `sandbox` (its secret env SANDBOX_HOST_KEY)."""
    return env_of(run.by_name(f"fleet-{sandbox}-container").inputs)["SANDBOX_HOST_KEY"]


def public_of(private_key: str) -> str:
    key = load_ssh_private_key(private_key.encode(), password=None)
    return key.public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode()


def test_the_supervisor_gets_its_runtime_budgets_workers_and_git_suffix(run_spec: RunSpec) -> None:
    run = run_spec(
        SPEC, supervisorWorkers=4, supervisorStepBudget=9, supervisorTokenBudget=5000,
        supervisorTimeBudget=60, gitAuthorSuffix=" [bot]",
    )  # fmt: skip
    assert run.error is None, run.error
    env = env_of(run.by_name("fleet-supervisor-container").inputs)
    assert (env["SUPERVISOR_RUNTIME"], env["SUPERVISOR_WORKERS"]) == ("builtin", "4")
    assert (env["SUPERVISOR_MAX_STEPS"], env["SUPERVISOR_MAX_TOKENS"],
            env["SUPERVISOR_MAX_SECONDS"]) == ("9", "5000", "60")  # fmt: skip
    assert env["SUPERVISOR_GIT_AUTHOR_SUFFIX"] == " [bot]"
    assert env["MODEL_URL"] == "http://model-server:8080/v1"


def test_only_the_supervisor_gets_the_client_key_and_every_sandbox_accepts_it(
    run_spec: RunSpec,
) -> None:
    run = run_spec(SPEC)
    supervisor = run.by_name("fleet-supervisor-container")
    key = env_of(supervisor.inputs)["SUPERVISOR_SSH_KEY"]
    assert "envs" in supervisor.secret_input_paths()
    holders = [c.name for c in run.of_type(CONTAINER) if "SUPERVISOR_SSH_KEY" in str(c.inputs)]
    assert holders == ["fleet-supervisor-container"]
    writer = env_of(run.by_name("fleet-ssh-keys-writer").inputs)
    assert public_of(key) in writer["SANDBOX_AUTHORIZED_KEYS"].split("\n")[-1]
    mounts = supervisor.inputs["mounts"]
    assert {"type": "volume", "source": "ssh-keys", "target": FLEET_KEYS_PATH,
            "readOnly": True} in mounts  # fmt: skip
    assert any(d.endswith("::fleet-ssh-keys-writer") for d in supervisor.dependencies)


def test_each_sandbox_has_the_host_key_the_supervisor_pins_and_keeps_it(
    run_spec: RunSpec,
) -> None:
    first, again = run_spec(SPEC), run_spec(SPEC + "  new: {task: audit}\n")
    pinned = {
        line.split(" ", 1)[0]: line.split(" ", 1)[1].rsplit(" ", 1)[0]
        for line in env_of(first.by_name("fleet-ssh-keys-writer").inputs)[
            "SANDBOX_KNOWN_HOSTS"
        ].split("\n")
    }
    assert set(pinned) == {"web", "etl"}
    for name in ("web", "etl"):
        key = host_key(first, name)
        assert public_of(key) == pinned[name], name
        # Derived: another run (a sandbox added) gives the same key, so nothing is replaced.
        assert host_key(again, name) == key
    assert host_key(first, "web") != host_key(first, "etl"), "two sandboxes share a host key"


def test_another_stack_secret_gives_other_keys(run_spec: RunSpec) -> None:
    one, two = run_spec(SPEC), run_spec(SPEC, sshSecret="another-stack")
    assert host_key(one, "web") != host_key(two, "web")


def test_a_stack_without_the_ssh_secret_stops_before_anything(run_spec: RunSpec) -> None:
    run = run_spec(SPEC, sshSecret=None)
    assert run.error is not None and run.resources == []
    assert "sandbox-fleet:sshSecret: not set; the supervisor's SSH key" in str(run.error)


def test_an_external_model_endpoint_takes_the_place_of_the_model_server(
    run_spec: RunSpec,
) -> None:
    run = run_spec(
        SPEC, supervisorModelUrl="https://models.example.test/v1",
        supervisorModelApiKey="external-key", secret_keys=("supervisorModelApiKey",),
    )  # fmt: skip
    assert run.error is None, run.error
    env = env_of(run.by_name("fleet-supervisor-container").inputs)
    assert (env["MODEL_URL"], env["MODEL_API_KEY"]) == (
        "https://models.example.test/v1", "external-key")  # fmt: skip


def test_the_model_server_answers_tool_calls(run_spec: RunSpec) -> None:
    run = run_spec(SPEC)
    assert "--jinja" in run.by_name("fleet-model-server-container").inputs["command"]


MEMORY_SPEC = """version: 1
defaults:
  repo: https://github.com/acme/app.git
sandboxes:
  web: {task: frontend-dev}
  api: {task: refactor, data: discard}
  docs: {task: audit, repo: "https://github.com/acme/docs.git"}
  scratch: {task: test, repo: null}
"""


APP, DOCS = (f"memory-{repo_slug(f'https://github.com/acme/{r}.git')}" for r in ("app", "docs"))


def test_a_memory_is_named_after_its_repository() -> None:
    assert re.fullmatch(r"memory-github\.com-acme-app-[0-9a-f]{8}", APP), APP
    assert repo_slug("git@github.com:acme/app.git") != repo_slug("https://github.com/acme/app")


def memory_mounts(run: Any, name: str) -> list[dict[str, Any]]:
    mounts = run.by_name(f"fleet-{name}-container").inputs["mounts"]
    return [m for m in mounts if m["target"] == "/memory"]


def test_the_sandboxes_of_one_repository_share_its_memory_volume(run_spec: RunSpec) -> None:
    run = run_spec(MEMORY_SPEC.replace("  scratch: {task: test, repo: null}\n", ""))
    assert run.error is None, run.error
    volumes = {v.inputs["name"]: v for v in run.of_type("docker:index/volume:Volume")
               if v.inputs["name"].startswith("memory-")}  # fmt: skip
    assert sorted(volumes) == [APP, DOCS]
    assert all(v.retain_on_delete and not v.protect for v in volumes.values())
    app = {"type": "volume", "source": APP, "target": "/memory"}
    assert memory_mounts(run, "web") == memory_mounts(run, "api") == [app]
    assert memory_mounts(run, "docs")[0]["source"] == DOCS


def test_the_memory_stays_when_its_sandboxes_go(run_spec: RunSpec) -> None:
    both = run_spec(MEMORY_SPEC.replace("  scratch: {task: test, repo: null}\n", ""))
    web_only = run_spec(MEMORY_SPEC.split("  api:")[0])
    volume = f"fleet-{APP}"
    assert both.by_name(volume).inputs == web_only.by_name(volume).inputs  # nothing moves
    none_of_it = run_spec("version: 1\nsandboxes:\n  other: {task: audit}\n")
    assert not [r for r in none_of_it.resources if r.name == volume]  # gone from the stack...
    assert memory_mounts(none_of_it, "other") == [], "a sandbox without a repo has no memory"
    assert both.by_name(volume).retain_on_delete  # ...and kept on the host


TOOLCHAIN = ROOT / "tests" / "spec" / "good" / "image.yaml"


def test_entries_with_a_toolchain_start_from_the_fleet_runtime_built_on_it(
    run_spec: RunSpec,
) -> None:
    run = run_spec("", spec_path=TOOLCHAIN)
    assert run.error is None, run.error
    images = {r.name: r for r in run.of_type("docker:index/remoteImage:RemoteImage")}
    dockerfile = toolchain_key(SandboxImage("toolchain/Dockerfile", None))
    pulled = toolchain_key(SandboxImage(None, "python:3.12-bookworm"))
    built = images[f"fleet-toolchain-{dockerfile}-image-build"].inputs["build"]
    assert built["context"] == "tests/spec/good/toolchain" and built["dockerfile"] == "Dockerfile"
    assert images[f"fleet-toolchain-{pulled}-image"].inputs["name"] == "python:3.12-bookworm"
    on_it = images[f"fleet-headless-{dockerfile}-image-build"].inputs
    assert on_it["build"]["context"] == "images/headless"
    assert (
        on_it["build"]["buildArgs"]["BASE_IMAGE"] == f"sandbox-fleet/toolchain-{dockerfile}:latest"
    )
    desktop = images[f"fleet-desktop-{dockerfile}-image-build"].inputs["build"]["buildArgs"]
    assert desktop["HEADLESS_IMAGE"] == f"sandbox-fleet/headless-{dockerfile}:latest"
    image_of = {n: run.by_name(f"fleet-{n}-container").inputs["image"] for n in
                ("data-job", "py", "web-ui")}  # fmt: skip
    assert len(set(image_of.values())) == 3, "headless, headless on python, desktop on the file"


def test_a_toolchain_outside_the_project_is_refused_before_anything(
    run_spec: RunSpec, tmp_path: Path
) -> None:
    (tmp_path / "Dockerfile").write_text("FROM debian:bookworm-slim\n")
    spec = tmp_path / "outside.yaml"
    spec.write_text("version: 1\nsandboxes:\n  x: {task: audit, image: {dockerfile: Dockerfile}}\n")
    run = run_spec("", spec_path=spec)
    assert run.error is not None and run.resources == []
    assert "sandboxes.x.image.dockerfile: 'Dockerfile' is outside the project directory" in str(
        run.error
    )
