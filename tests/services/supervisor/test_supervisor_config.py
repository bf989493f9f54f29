"""Configuration from the environment: defaults, and errors that name the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from supervisor.config import ConfigError, load_config
from supervisor.runtimes import OpenAIRuntime, StubRuntime, build_runtime

from .conftest import SUPERVISOR_SRC


def test_defaults_match_the_documented_contract() -> None:
    config = load_config({})
    assert config.runtime == "openai"
    assert (config.host, config.port) == ("0.0.0.0", 8000)
    assert config.db_path == Path("/logs/supervisor/queue.sqlite3")
    assert config.log_dir == Path("/logs/supervisor")
    assert (config.workers, config.max_attempts) == (1, 8)
    assert (config.model_url, config.model_name) == ("http://model-server:8080/v1", "local")
    runtime = build_runtime(config)
    assert isinstance(runtime, OpenAIRuntime)
    assert runtime.endpoint == "http://model-server:8080/v1/chat/completions"


def test_runtime_is_chosen_by_name() -> None:
    assert isinstance(build_runtime(load_config({"SUPERVISOR_RUNTIME": "stub"})), StubRuntime)


def test_unknown_runtime_lists_the_allowed_values() -> None:
    with pytest.raises(ConfigError) as err:
        load_config({"SUPERVISOR_RUNTIME": "gpt-magic"})
    assert str(err.value) == (
        "SUPERVISOR_RUNTIME='gpt-magic' is not a known runtime; allowed values: cli, openai, stub"
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
    ],
)
def test_invalid_values_name_the_variable(env: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError, match=None) as err:
        load_config(env)
    assert needle in str(err.value)


def test_db_follows_log_dir_unless_set(tmp_path: Path) -> None:
    assert load_config({"SUPERVISOR_LOG_DIR": "/x"}).db_path == Path("/x/queue.sqlite3")
    assert load_config({"SUPERVISOR_DB": "/y/q.db"}).db_path == Path("/y/q.db")


def test_process_exits_2_with_a_clear_message_on_unknown_runtime(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(SUPERVISOR_SRC),
        "SUPERVISOR_RUNTIME": "nope",
        "SUPERVISOR_LOG_DIR": str(tmp_path),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "supervisor"], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert "SUPERVISOR_RUNTIME='nope' is not a known runtime" in proc.stderr
    assert "allowed values: cli, openai, stub" in proc.stderr
    assert not (tmp_path / "queue.sqlite3").exists()  # stopped before touching the queue
