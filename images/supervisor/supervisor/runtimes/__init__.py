"""Runtime plug-ins, chosen by name from configuration."""

from __future__ import annotations

from ..config import RUNTIME_NAMES, Config, ConfigError
from .base import AgentError, AgentRuntime, TransientAgentError
from .cli import CliRuntime
from .openai import OpenAIRuntime
from .stub import StubRuntime

__all__ = [
    "AgentError",
    "AgentRuntime",
    "CliRuntime",
    "OpenAIRuntime",
    "StubRuntime",
    "TransientAgentError",
    "build_runtime",
]


def build_runtime(config: Config) -> AgentRuntime:
    """Construct (not yet initialize) the runtime named by ``config.runtime``."""
    if config.runtime == "stub":
        return StubRuntime()
    if config.runtime == "openai":
        return OpenAIRuntime(
            base_url=config.model_url,
            model=config.model_name,
            api_key=config.model_api_key,
            timeout=config.model_timeout,
            max_tokens=config.max_tokens,
            system_prompt=config.system_prompt,
        )
    if config.runtime == "cli":
        return CliRuntime(command=config.cli_command, timeout=config.cli_timeout)
    raise ConfigError(
        f"SUPERVISOR_RUNTIME={config.runtime!r} is not a known runtime; "
        f"allowed values: {', '.join(RUNTIME_NAMES)}"
    )
