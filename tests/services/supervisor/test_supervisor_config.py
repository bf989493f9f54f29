"""Configuration from the environment: defaults, and errors that name the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from supervisor.config import ConfigError, load_config
from supervisor.runtimes import BuiltinRuntime, StubRuntime, build_runtime

from components.contract import (
    DEVTOOLS_PORT,
    FLEET_KEYS_PATH,
    LOGS_PATH,
    MEMORY_PATH,
    MODEL_SERVER,
    MODEL_SERVER_PORT,
    SSH_PORT,
    SUPERVISOR_PORT,
    WORKSPACE_PATH,
)

from .conftest import FAKE_KEY, SUPERVISOR_SRC

# What the image sets from components/contract.py, and the URL the fleet sets.
IMAGE_ENV = {
    "SUPERVISOR_PORT": str(SUPERVISOR_PORT),
    "SUPERVISOR_LOG_DIR": f"{LOGS_PATH}/supervisor",
    "SUPERVISOR_SANDBOX_SSH_PORT": str(SSH_PORT),
    "SUPERVISOR_SANDBOX_WORKSPACE": WORKSPACE_PATH,
    "SUPERVISOR_KNOWN_HOSTS": f"{FLEET_KEYS_PATH}/known_hosts",
    "SUPERVISOR_SANDBOX_DEVTOOLS_PORT": str(DEVTOOLS_PORT),
    "SUPERVISOR_SANDBOX_MEMORY": MEMORY_PATH,
}
# What the fleet sets from its secrets.
TOKEN = {"SUPERVISOR_API_TOKEN": "t0ken", "SUPERVISOR_SSH_KEY": FAKE_KEY}
FLEET_MODEL_URL = f"http://{MODEL_SERVER}:{MODEL_SERVER_PORT}/v1"


def with_image(**env: str) -> dict[str, str]:
    return {**IMAGE_ENV, **TOKEN, **env}


def test_port_and_log_directory_are_the_images_to_set() -> None:
    with pytest.raises(ConfigError) as err:
        load_config({"MODEL_URL": FLEET_MODEL_URL, **TOKEN})
    assert str(err.value) == (
        "not set: SUPERVISOR_PORT, SUPERVISOR_LOG_DIR, SUPERVISOR_SANDBOX_SSH_PORT, "
        "SUPERVISOR_SANDBOX_WORKSPACE, SUPERVISOR_KNOWN_HOSTS, SUPERVISOR_SANDBOX_DEVTOOLS_PORT, "
        "SUPERVISOR_SANDBOX_MEMORY (the image sets these from the fleet's contract)"
    )


def test_the_task_api_never_runs_without_a_token() -> None:
    env = {
        k: v
        for k, v in with_image(MODEL_URL=FLEET_MODEL_URL).items()
        if k != "SUPERVISOR_API_TOKEN"
    }
    with pytest.raises(ConfigError, match="SUPERVISOR_API_TOKEN is not set"):
        load_config(env)
    with pytest.raises(ConfigError, match="SUPERVISOR_API_TOKEN is not set"):
        load_config({**env, "SUPERVISOR_API_TOKEN": "  "})


def test_defaults_and_the_values_the_fleet_gives() -> None:
    config = load_config(with_image(MODEL_URL=FLEET_MODEL_URL))
    assert config.runtime == "builtin"
    assert (config.host, config.port) == ("0.0.0.0", SUPERVISOR_PORT)
    assert config.db_path == Path(LOGS_PATH) / "supervisor" / "queue.sqlite3"
    assert (config.workers, config.max_attempts) == (1, 8)
    assert (config.model_url, config.model_name) == (FLEET_MODEL_URL, "local")
    assert (config.max_steps, config.max_task_tokens, config.max_seconds) == (50, 200_000, 1800)
    assert (config.sandbox_ssh_port, config.sandbox_workspace) == (SSH_PORT, WORKSPACE_PATH)
    assert config.git_author_suffix == " (agent)"
    runtime = build_runtime(config)
    assert isinstance(runtime, BuiltinRuntime)
    assert runtime.chat.endpoint == f"{FLEET_MODEL_URL}/chat/completions"


def test_the_builtin_runtime_needs_a_model_url() -> None:
    with pytest.raises(ConfigError, match="MODEL_URL='' is invalid"):
        load_config(with_image())


def test_the_runtimes_that_work_in_sandboxes_need_the_fleets_ssh_key() -> None:
    env = {**with_image(MODEL_URL=FLEET_MODEL_URL), "SUPERVISOR_SSH_KEY": ""}
    with pytest.raises(ConfigError, match="SUPERVISOR_SSH_KEY is not set: the builtin runtime"):
        load_config(env)
    assert load_config({**env, "SUPERVISOR_RUNTIME": "stub"}).runtime == "stub"


def test_the_old_openai_runtime_name_says_what_it_is_now() -> None:
    with pytest.raises(ConfigError, match="'openai' is now 'builtin'"):
        load_config(with_image(MODEL_URL=FLEET_MODEL_URL, SUPERVISOR_RUNTIME="openai"))


def test_runtime_is_chosen_by_name() -> None:
    assert isinstance(
        build_runtime(load_config(with_image(SUPERVISOR_RUNTIME="stub"))), StubRuntime
    )


def test_unknown_runtime_lists_the_allowed_values() -> None:
    with pytest.raises(ConfigError) as err:
        load_config(with_image(SUPERVISOR_RUNTIME="gpt-magic"))
    assert str(err.value) == (
        "SUPERVISOR_RUNTIME='gpt-magic' is not a known runtime; allowed values: builtin, cli, stub"
    )


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"SUPERVISOR_PORT": "http"}, "SUPERVISOR_PORT='http' is invalid: expected an integer"),
        ({"SUPERVISOR_PORT": "70000"}, "SUPERVISOR_PORT='70000'"),
        ({"SUPERVISOR_WORKERS": "0"}, "SUPERVISOR_WORKERS='0'"),
        ({"SUPERVISOR_MAX_ATTEMPTS": "-1"}, "SUPERVISOR_MAX_ATTEMPTS='-1'"),
        ({"SUPERVISOR_BACKOFF_BASE": "soon"}, "SUPERVISOR_BACKOFF_BASE='soon'"),
        ({"SUPERVISOR_BACKOFF_BASE": "5", "SUPERVISOR_BACKOFF_CAP": "1"}, "must be >= the base"),
        ({"SUPERVISOR_MODEL_TIMEOUT": "0"}, "SUPERVISOR_MODEL_TIMEOUT='0'"),
        ({"MODEL_URL": "model-server:8080"}, "MODEL_URL='model-server:8080' is invalid"),
        ({"SUPERVISOR_RUNTIME": "cli"}, "SUPERVISOR_CLI_COMMAND is required"),
        ({"SUPERVISOR_LOG_LEVEL": "loud"}, "SUPERVISOR_LOG_LEVEL='LOUD'"),
        ({"SUPERVISOR_MAX_STEPS": "0"}, "SUPERVISOR_MAX_STEPS='0'"),
        ({"SUPERVISOR_MAX_TOKENS": "lots"}, "SUPERVISOR_MAX_TOKENS='lots'"),
        ({"SUPERVISOR_MAX_SECONDS": "-5"}, "SUPERVISOR_MAX_SECONDS='-5'"),
        ({"SUPERVISOR_SANDBOX_SSH_PORT": "0"}, "SUPERVISOR_SANDBOX_SSH_PORT='0'"),
    ],
)
def test_invalid_values_name_the_variable(env: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError, match=None) as err:
        load_config({**with_image(MODEL_URL=FLEET_MODEL_URL), **env})
    assert needle in str(err.value)


def test_db_follows_log_dir_unless_set(tmp_path: Path) -> None:
    stub = with_image(SUPERVISOR_RUNTIME="stub")
    assert load_config({**stub, "SUPERVISOR_LOG_DIR": "/x"}).db_path == Path("/x/queue.sqlite3")
    assert load_config({**stub, "SUPERVISOR_DB": "/y/q.db"}).db_path == Path("/y/q.db")


def test_process_exits_2_with_a_clear_message_on_unknown_runtime(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(SUPERVISOR_SRC),
        **with_image(SUPERVISOR_RUNTIME="nope", SUPERVISOR_LOG_DIR=str(tmp_path)),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "supervisor"], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert "SUPERVISOR_RUNTIME='nope' is not a known runtime" in proc.stderr
    assert "allowed values: builtin, cli, stub" in proc.stderr
    assert not (tmp_path / "queue.sqlite3").exists()  # stopped before touching the queue
