"""config_hash and scripts/check-config-hash, against `docker inspect` output of a real engine.

fixtures/docker-inspect.json was produced by `docker create` + `docker inspect` on Docker 20.10
with labels from `hash_labels()`, then three copies were edited the way out-of-band changes look:
env edited and a variable added (fix-login-ui), no hash label (old-box), port re-published on
all interfaces (scratch). The live test at the end does the same against the engine itself.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from components.planes.docker.config_hash import (
    LABEL_ENV_NAMES,
    LABEL_HASH,
    LABEL_ONE_SHOT,
    LABEL_SECRET_ENV,
    config_hash,
    hash_labels,
    inputs_from_inspect,
)

from .conftest import FIXTURES, REPO, missing_tool

SCRIPT = REPO / "scripts" / "check-config-hash"
INSPECT = FIXTURES / "docker-inspect.json"
IMAGES = FIXTURES / "docker-image-inspect.json"
IMAGE = "sha256:" + "ab" * 32
ENV = {"GIT_BRANCH": "audit/auth", "LOG_LEVEL": "info", "SANDBOX_NAME": "audit-auth"}
PORTS = [("127.0.0.1", 51562, 2222), ("127.0.0.1", 51563, 6080)]
MOUNTS = [("fleet-workspace-audit-auth", "/workspace"), ("fleet-logs", "/logs")]


def test_hash_is_short_hex_and_stable() -> None:
    h = config_hash(IMAGE, ENV, PORTS, MOUNTS)
    assert len(h) == 16 and int(h, 16) >= 0
    assert h == config_hash(IMAGE, dict(ENV), list(PORTS), list(MOUNTS))


def test_order_never_matters() -> None:
    h = config_hash(IMAGE, ENV, PORTS, MOUNTS)
    assert h == config_hash(IMAGE, dict(reversed(ENV.items())), PORTS[::-1], MOUNTS[::-1])


@pytest.mark.parametrize(
    "change",
    [
        lambda e, p, m, i: (e | {"LOG_LEVEL": "debug"}, p, m, i),
        lambda e, p, m, i: (e | {"NEW": "1"}, p, m, i),
        lambda e, p, m, i: ({k: v for k, v in e.items() if k != "LOG_LEVEL"}, p, m, i),
        lambda e, p, m, i: (e, [("0.0.0.0", 51562, 2222), p[1]], m, i),
        lambda e, p, m, i: (e, [p[0], ("127.0.0.1", 51564, 6080)], m, i),
        lambda e, p, m, i: (e, p, [("other-volume", "/workspace"), m[1]], i),
        lambda e, p, m, i: (e, p, m, "sha256:" + "cd" * 32),
    ],
    ids=["env value", "env added", "env removed", "host ip", "host port", "mount", "image"],
)
def test_any_value_change_changes_the_hash(change) -> None:
    env, ports, mounts, image = change(ENV, PORTS, MOUNTS, IMAGE)
    assert config_hash(image, env, ports, mounts) != config_hash(IMAGE, ENV, PORTS, MOUNTS)


def test_secret_values_never_enter_the_hash() -> None:
    with_a = config_hash(IMAGE, ENV | {"TOKEN": "a"}, PORTS, MOUNTS, secret_names=["TOKEN"])
    with_b = config_hash(IMAGE, ENV | {"TOKEN": "b"}, PORTS, MOUNTS, secret_names=["TOKEN"])
    name_only = config_hash(IMAGE, ENV, PORTS, MOUNTS, secret_names=["TOKEN"])
    assert with_a == with_b == name_only
    assert name_only != config_hash(IMAGE, ENV, PORTS, MOUNTS)  # the name itself counts


def test_labels_name_our_env_and_secrets() -> None:
    labels = hash_labels(IMAGE, ENV, PORTS, MOUNTS, secret_names=["TOKEN"])
    assert labels[LABEL_ENV_NAMES] == "GIT_BRANCH,LOG_LEVEL,SANDBOX_NAME,TOKEN"
    assert labels[LABEL_SECRET_ENV] == "TOKEN"
    assert labels[LABEL_HASH] == config_hash(IMAGE, ENV, PORTS, MOUNTS, secret_names=["TOKEN"])


def test_inputs_read_back_from_real_inspect_output() -> None:
    first = json.loads(INSPECT.read_text())[0]
    image_env = json.loads(IMAGES.read_text())[0]["Config"]["Env"]
    inputs = inputs_from_inspect(first, image_env)
    assert inputs.image.startswith("sha256:")
    assert "PATH" not in inputs.env  # the image's own ENV is not ours
    assert inputs.env["GIT_BRANCH"] == "audit/auth"
    assert inputs.ports == (("127.0.0.1", 51562, 2222),)
    assert inputs.mounts == (("gitops-fixture-workspace-audit-auth", "/workspace"),)
    assert inputs.secret_names == ("GITHUB_TOKEN",)
    assert inputs.unexpected_env == ()
    assert inputs.hash() == first["Config"]["Labels"][LABEL_HASH]


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, check=False)


def test_script_flags_out_of_band_changes() -> None:
    done = run_script("--inspect-json", str(INSPECT), "--image-inspect-json", str(IMAGES),
                      "--format", "json")  # fmt: skip
    assert done.returncode == 1, done.stderr
    found = {f["sandbox"]: f for f in json.loads(done.stdout)}
    assert found["audit-auth"]["status"] == "ok"
    assert found["fix-login-ui"]["status"] == "mismatch"
    assert "HTTP_PROXY" in found["fix-login-ui"]["detail"]
    assert found["old-box"]["status"] == "unlabelled"
    assert found["scratch"]["status"] == "mismatch"  # now on 0.0.0.0, not the tailnet address
    assert "ghp_" not in done.stdout  # a secret value never reaches the report


def test_script_formats_and_exit_codes() -> None:
    github = run_script("--inspect-json", str(INSPECT), "--format", "github")
    assert github.returncode == 1
    assert "::error title=config drift: gitops-fixture-scratch::" in github.stdout
    assert "::warning title=config drift: gitops-fixture-old-box::" in github.stdout
    assert run_script("--inspect-json", str(INSPECT), "--fleet", "other").returncode == 0
    assert run_script("--inspect-json", "/nonexistent.json").returncode == 2
    assert run_script("--format", "yaml").returncode == 2


def test_script_strict_fails_on_unlabelled(tmp_path: Path) -> None:
    containers = json.loads(INSPECT.read_text())
    only = tmp_path / "inspect.json"
    only.write_text(json.dumps([containers[0], containers[2]]))  # ok + unlabelled
    assert run_script("--inspect-json", str(only)).returncode == 0
    assert run_script("--inspect-json", str(only), "--strict").returncode == 1


@pytest.mark.docker
def test_live_engine_round_trip() -> None:
    """Label a real container with hash_labels, check it, recreate it with edited env."""
    if (
        shutil.which("docker") is None
        or subprocess.run(["docker", "info"], capture_output=True, check=False).returncode
    ):
        missing_tool("no reachable Docker engine (scripts/ensure-docker)")
    image = subprocess.run(["docker", "image", "inspect", "debian:bookworm-slim", "--format",
                            "{{.Id}}"], capture_output=True, text=True, check=False)  # fmt: skip
    if image.returncode:
        missing_tool("debian:bookworm-slim missing (scripts/make-base-image)")
    image_id = image.stdout.strip()
    fleet = f"gitops-test-{uuid.uuid4().hex[:8]}"
    name, volume = f"{fleet}-box", f"{fleet}-ws"
    env = {"GIT_BRANCH": "main", "SANDBOX_NAME": "box"}
    labels = {"sandbox-fleet.fleet": fleet, "sandbox-fleet.sandbox": "box"}
    labels |= hash_labels(image_id, env, [("127.0.0.1", 0, 2222)], [(volume, "/workspace")])

    def create(container_env: dict[str, str]) -> None:
        args = ["docker", "run", "--detach", "--name", name, "-p", "127.0.0.1::2222",
                "--mount", f"type=volume,source={volume},target=/workspace"]  # fmt: skip
        args += [x for k, v in container_env.items() for x in ("-e", f"{k}={v}")]
        args += [x for k, v in labels.items() for x in ("--label", f"{k}={v}")]
        subprocess.run([*args, image_id, "sleep", "600"], check=True, capture_output=True)

    try:
        create(env)
        assert run_script("--fleet", fleet).returncode == 0, run_script("--fleet", fleet).stdout
        subprocess.run(["docker", "rm", "--force", name], check=True, capture_output=True)
        create(env | {"GIT_BRANCH": "hotfix"})  # recreated by hand, labels copied
        done = run_script("--fleet", fleet, "--format", "json")
        assert done.returncode == 1
        assert json.loads(done.stdout)[0]["status"] == "mismatch"
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
        subprocess.run(["docker", "volume", "rm", volume], capture_output=True, check=False)


def test_script_reports_a_stopped_container(tmp_path: Path) -> None:
    container = json.loads(INSPECT.read_text())[0]
    container["State"].update({"Status": "exited", "Running": False, "ExitCode": 137})
    only = tmp_path / "inspect.json"
    only.write_text(json.dumps([container]))
    done = run_script("--inspect-json", str(only), "--format", "json")
    assert done.returncode == 1
    (finding,) = json.loads(done.stdout)
    assert finding["status"] == "stopped" and "exited" in finding["detail"]


@pytest.mark.parametrize(("exit_code", "status"), [(0, "ok"), (1, "failed")])
def test_a_one_shot_container_is_judged_by_its_exit_code(
    tmp_path: Path, exit_code: int, status: str
) -> None:
    """The fleet keys writer exits by design: exited 0 is fine, a failed run is reported."""
    container = json.loads(INSPECT.read_text())[0]
    container["Config"]["Labels"] = {
        "sandbox-fleet.fleet": container["Config"]["Labels"]["sandbox-fleet.fleet"],
        LABEL_ONE_SHOT: "true",
    }
    container["State"].update({"Status": "exited", "Running": False, "ExitCode": exit_code})
    only = tmp_path / "inspect.json"
    only.write_text(json.dumps([container]))
    done = run_script("--inspect-json", str(only), "--format", "json", "--strict")
    (finding,) = json.loads(done.stdout)
    assert finding["status"] == status, finding
    assert done.returncode == (0 if exit_code == 0 else 1)
