"""Configuration from the environment, validated once at startup.

Every variable the supervisor reads is declared here with its default, so an invalid value stops
the process before it touches the queue or the network, with a message that names the variable,
what was got and what is allowed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from .fleet_config import FleetConfig, FleetConfigError, load_fleet

RUNTIME_NAMES = ("builtin", "cli", "stub")
IN_SANDBOX = ("builtin", "cli")  # they reach the task's sandbox over SSH
# Its own port, log directory and the sandboxes' SSH port, workspace and known_hosts are the
# fleet's to say (components/contract.py): the image sets them from there, and the fleet sets
# MODEL_URL. No copy of those values lives here.
REQUIRED = (
    "SUPERVISOR_PORT",
    "SUPERVISOR_LOG_DIR",
    "SUPERVISOR_SANDBOX_SSH_PORT",
    "SUPERVISOR_SANDBOX_WORKSPACE",
    "SUPERVISOR_KNOWN_HOSTS",
    "SUPERVISOR_SANDBOX_DEVTOOLS_PORT",
    "SUPERVISOR_SANDBOX_MEMORY",
)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

T = TypeVar("T")


class ConfigError(ValueError):
    """An environment variable is missing or invalid."""


@dataclass(frozen=True)
class Config:
    runtime: str = "builtin"
    host: str = "0.0.0.0"
    port: int = 0  # from SUPERVISOR_PORT (required)
    db_path: Path = Path("queue.sqlite3")  # SUPERVISOR_DB, else in the log directory
    log_dir: Path = Path()  # from SUPERVISOR_LOG_DIR (required)
    log_level: str = "INFO"
    workers: int = 1
    max_attempts: int = 8
    backoff_base: float = 1.0
    backoff_cap: float = 60.0
    backoff_seed: int | None = None
    api_token: str = ""  # SUPERVISOR_API_TOKEN (required)
    model_url: str = ""  # required by the openai runtime
    model_name: str = "local"
    model_api_key: str = ""
    model_timeout: float = 300.0
    max_tokens: int = 1024  # bounds every answer: otherwise a model may run to its context limit
    system_prompt: str = ""
    cli_command: str = ""
    cli_timeout: float = 600.0
    max_steps: int = 50  # model steps per task
    max_task_tokens: int = 200_000  # prompt + completion tokens per task
    max_seconds: float = 1800.0  # wall time per task
    git_author_suffix: str = " (agent)"
    ssh_key: str = ""  # the fleet's client key (OpenSSH private key text)
    known_hosts: Path = Path()
    sandbox_ssh_port: int = 0
    sandbox_workspace: str = ""
    sandbox_devtools_port: int = 0  # a visual sandbox's Chromium DevTools, on its loopback
    sandbox_memory: str = ""  # where a sandbox has its repository's memory
    command_timeout: float = 120.0  # the longest run_command
    output_cap: int = 16_000  # bytes of a command's output the model sees
    fleet: FleetConfig = field(default_factory=FleetConfig)  # its host, role and bus


def _get(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name)
    return default if value is None or value.strip() == "" else value.strip()


def _parse(env: Mapping[str, str], name: str, default: T, conv: Callable[[str], T], rule: str) -> T:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return conv(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is invalid: expected {rule}") from None


def _int_in(low: int, high: int) -> Callable[[str], int]:
    def conv(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise ValueError(text)
        return value

    return conv


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0 or value == float("inf"):
        raise ValueError(text)
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise ValueError(text)
    return value


def _choice(name: str, value: str, allowed: tuple[str, ...], noun: str) -> str:
    if value not in allowed:
        raise ConfigError(
            f"{name}={value!r} is not a known {noun}; allowed values: {', '.join(allowed)}"
        )
    return value


def load_config(env: Mapping[str, str] | None = None) -> Config:
    """Read and validate the configuration; raise ConfigError naming the first bad variable."""
    env = os.environ if env is None else env
    d = Config()
    if missing := [name for name in REQUIRED if not env.get(name, "").strip()]:
        raise ConfigError(
            f"not set: {', '.join(missing)} (the image sets these from the fleet's contract)"
        )
    if not env.get("SUPERVISOR_API_TOKEN", "").strip():
        # Anything that reaches the port (any sandbox on ai-net, anyone on the tailnet) could
        # queue work for every agent: the task API never runs without a credential.
        raise ConfigError(
            "SUPERVISOR_API_TOKEN is not set: the task API needs a bearer token "
            "(the fleet sets it from the stack secret sandbox-fleet:supervisorApiToken)"
        )
    asked = _get(env, "SUPERVISOR_RUNTIME", d.runtime).lower()
    if asked == "openai":
        raise ConfigError(
            "SUPERVISOR_RUNTIME='openai' is now 'builtin': the tool-calling loop over the same "
            "OpenAI-compatible API, working in the task's sandbox"
        )
    runtime = _choice("SUPERVISOR_RUNTIME", asked, RUNTIME_NAMES, "runtime")
    ssh_key = env.get("SUPERVISOR_SSH_KEY", "")
    if runtime in IN_SANDBOX and "PRIVATE KEY" not in ssh_key:
        raise ConfigError(
            f"SUPERVISOR_SSH_KEY is not set: the {runtime} runtime reaches sandboxes over SSH "
            "with the fleet's client key (the fleet derives it from sandbox-fleet:sshSecret)"
        )
    level = _choice(
        "SUPERVISOR_LOG_LEVEL",
        _get(env, "SUPERVISOR_LOG_LEVEL", d.log_level).upper(),
        LOG_LEVELS,
        "log level",
    )
    log_dir = Path(_get(env, "SUPERVISOR_LOG_DIR", str(d.log_dir)))
    model_url = _get(env, "MODEL_URL", d.model_url).rstrip("/")
    if (model_url or runtime == "builtin") and not model_url.startswith(("http://", "https://")):
        raise ConfigError(
            f"MODEL_URL={model_url!r} is invalid: expected an http:// or https:// URL"
        )
    cli_command = _get(env, "SUPERVISOR_CLI_COMMAND", d.cli_command)
    if runtime == "cli" and not cli_command:
        raise ConfigError("SUPERVISOR_CLI_COMMAND is required when SUPERVISOR_RUNTIME=cli")
    base = _parse(
        env,
        "SUPERVISOR_BACKOFF_BASE",
        d.backoff_base,
        _non_negative_float,
        "seconds as a number >= 0",
    )
    cap = _parse(
        env,
        "SUPERVISOR_BACKOFF_CAP",
        d.backoff_cap,
        _non_negative_float,
        "seconds as a number >= 0",
    )
    if cap < base:
        raise ConfigError(
            f"SUPERVISOR_BACKOFF_CAP={cap} is below SUPERVISOR_BACKOFF_BASE={base}: "
            "the cap must be >= the base"
        )
    steps, tokens, seconds, command_timeout, output_cap = _task_limits(env, d)
    try:
        fleet = load_fleet(env)
    except FleetConfigError as exc:
        raise ConfigError(str(exc)) from None
    return Config(
        runtime=runtime,
        host=_get(env, "SUPERVISOR_HOST", d.host),
        port=_parse(env, "SUPERVISOR_PORT", d.port, _int_in(0, 65535), "an integer 0..65535"),
        db_path=Path(_get(env, "SUPERVISOR_DB", str(log_dir / "queue.sqlite3"))),
        log_dir=log_dir,
        log_level=level,
        workers=_parse(env, "SUPERVISOR_WORKERS", d.workers, _int_in(1, 64), "an integer 1..64"),
        max_attempts=_parse(
            env, "SUPERVISOR_MAX_ATTEMPTS", d.max_attempts, _int_in(1, 1000), "an integer 1..1000"
        ),
        backoff_base=base,
        backoff_cap=cap,
        backoff_seed=_parse(env, "SUPERVISOR_BACKOFF_SEED", d.backoff_seed, int, "an integer"),
        api_token=_get(env, "SUPERVISOR_API_TOKEN", d.api_token),
        model_url=model_url,
        model_name=_get(env, "MODEL_NAME", d.model_name),
        model_api_key=_get(env, "MODEL_API_KEY", d.model_api_key),
        model_timeout=_parse(
            env,
            "SUPERVISOR_MODEL_TIMEOUT",
            d.model_timeout,
            _positive_float,
            "seconds as a number > 0",
        ),
        max_tokens=_parse(
            env, "MODEL_MAX_TOKENS", d.max_tokens, _int_in(1, 1_048_576), "an integer 1..1048576"
        ),
        system_prompt=env.get("SUPERVISOR_SYSTEM_PROMPT", d.system_prompt),
        cli_command=cli_command,
        cli_timeout=_parse(
            env, "SUPERVISOR_CLI_TIMEOUT", d.cli_timeout, _positive_float, "seconds as a number > 0"
        ),
        max_steps=steps,
        max_task_tokens=tokens,
        max_seconds=seconds,
        command_timeout=command_timeout,
        output_cap=output_cap,
        git_author_suffix=env.get("SUPERVISOR_GIT_AUTHOR_SUFFIX", d.git_author_suffix),
        ssh_key=ssh_key,
        known_hosts=Path(_get(env, "SUPERVISOR_KNOWN_HOSTS", "")),
        sandbox_ssh_port=_parse(
            env,
            "SUPERVISOR_SANDBOX_SSH_PORT",
            d.sandbox_ssh_port,
            _int_in(1, 65535),
            "an integer 1..65535",
        ),
        sandbox_workspace=_get(env, "SUPERVISOR_SANDBOX_WORKSPACE", ""),
        sandbox_memory=_get(env, "SUPERVISOR_SANDBOX_MEMORY", ""),
        sandbox_devtools_port=_parse(
            env,
            "SUPERVISOR_SANDBOX_DEVTOOLS_PORT",
            d.sandbox_devtools_port,
            _int_in(1, 65535),
            "an integer 1..65535",
        ),
        fleet=fleet,
    )


def _task_limits(env: Mapping[str, str], d: Config) -> tuple[int, int, float, float, int]:
    """Each task's budgets (steps, tokens, seconds) and the builtin runtime's tool limits
    (a command's longest run, the output the model sees)."""
    seconds = "seconds as a number > 0"
    return (
        _parse(env, "SUPERVISOR_MAX_STEPS", d.max_steps, _int_in(1, 10_000), "an integer 1..10000"),
        _parse(env, "SUPERVISOR_MAX_TOKENS", d.max_task_tokens, _int_in(1, 100_000_000),
               "an integer 1..100000000"),
        _parse(env, "SUPERVISOR_MAX_SECONDS", d.max_seconds, _positive_float, seconds),
        _parse(env, "SUPERVISOR_COMMAND_TIMEOUT", d.command_timeout, _positive_float, seconds),
        _parse(env, "SUPERVISOR_OUTPUT_CAP", d.output_cap, _int_in(256, 10_000_000),
               "an integer 256..10000000"),
    )  # fmt: skip
