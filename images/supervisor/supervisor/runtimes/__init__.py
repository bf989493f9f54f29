"""Runtime plug-ins, chosen by name from configuration."""

from __future__ import annotations

import random

from ..backoff import Backoff
from ..chat import ChatClient
from ..config import RUNTIME_NAMES, Config, ConfigError
from ..tools import ToolLimits
from .base import AgentError, AgentRuntime, TransientAgentError
from .builtin import BuiltinRuntime
from .cli import CliRuntime
from .stub import StubRuntime

__all__ = [
    "AgentError",
    "AgentRuntime",
    "BuiltinRuntime",
    "CliRuntime",
    "StubRuntime",
    "TransientAgentError",
    "build_runtime",
]


def build_runtime(config: Config) -> AgentRuntime:
    """Construct (not yet initialize) the runtime named by ``config.runtime``."""
    if config.runtime == "stub":
        return StubRuntime()
    if config.runtime == "builtin":
        chat = ChatClient(
            config.model_url,
            config.model_name,
            config.model_api_key,
            config.model_timeout,
            config.max_tokens,
        )
        limits = ToolLimits(config.command_timeout, config.output_cap)
        backoff = Backoff(
            config.backoff_base, config.backoff_cap, random.Random(config.backoff_seed)
        )
        return BuiltinRuntime(
            chat, limits, backoff, config.system_prompt, config.sandbox_devtools_port,
            config.log_dir / "screenshots", config.sandbox_memory,
        )  # fmt: skip
    if config.runtime == "cli":
        return CliRuntime(command=config.cli_command, timeout=config.cli_timeout)
    raise ConfigError(
        f"SUPERVISOR_RUNTIME={config.runtime!r} is not a known runtime; "
        f"allowed values: {', '.join(RUNTIME_NAMES)}"
    )
