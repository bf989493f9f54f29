"""The groups of the host's shared services: `sandbox-fleet:modelServer*` (llama.cpp's
llama-server) and `sandbox-fleet:supervisor*` (the agent loop and its budgets)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .values import Cpus, Flag, Memory, ModelFile

OFFICIAL_LLAMA_IMAGE = "ghcr.io/ggml-org/llama.cpp:server"


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelServerSettings(_Group):
    enabled: Flag = Field(True, description="Run the llama.cpp model server")
    image: str = Field(OFFICIAL_LLAMA_IMAGE, description="llama-server image to pull")
    build: Flag = Field(False, description="Build images/model-server instead of pulling")
    modelFile: ModelFile = Field(
        "model.gguf", description="GGUF file in the model-data volume (a path relative to it)"
    )
    contextSize: int = Field(4096, ge=256, le=1_048_576, description="Context length (-c)")
    threads: int = Field(2, ge=1, le=512, description="CPU threads (-t)")
    gpuLayers: int = Field(0, ge=0, le=1000, description="Layers offloaded to GPU (-ngl)")
    publish: Flag = Field(False, description="Publish the API on the bind address")
    port: int = Field(18080, ge=1024, le=65535, description="Host port when published")
    memory: Memory = Field("4Gi", description="Memory limit")
    pids: int = Field(
        1024, ge=64, le=65536,
        description="Process limit; threads count too: -t plus llama-server's HTTP threads",
    )  # fmt: skip
    cpus: Cpus = Field("2", description="CPU limit")


class SupervisorSettings(_Group):
    runtime: Literal["builtin", "cli", "stub"] = Field(
        "builtin",
        description="Agent runtime: builtin (a tool-calling loop over the model server, in the "
        "task's sandbox), cli (cliCommand in the sandbox, the prompt on stdin), stub (tests)",
    )
    cliCommand: str = Field("", description="Command of the cli runtime, run in the sandbox")
    maxTokens: int = Field(1024, ge=1, le=1_048_576, description="Longest model answer")
    modelUrl: str = Field(
        "",
        pattern=r"^(https?://[^\s]+)?$",
        description="An OpenAI-compatible API for the builtin runtime instead of the fleet's "
        "model server (its key: the stack secret supervisorModelApiKey)",
    )
    workers: int = Field(2, ge=1, le=64, description="Tasks of different sandboxes at once")
    stepBudget: int = Field(50, ge=1, le=10_000, description="Model steps per task")
    tokenBudget: int = Field(
        200_000, ge=1, le=100_000_000, description="Prompt and completion tokens per task"
    )
    timeBudget: int = Field(1800, ge=1, le=86_400, description="Seconds per task")
    port: int = Field(18000, ge=1024, le=65535, description="Host port of the task API")
    memory: Memory = Field("512Mi", description="Memory limit")
    pids: int = Field(
        512, ge=32, le=65536, description="Process limit (the agent loop and what it runs)"
    )
    cpus: Cpus = Field("0.5", description="CPU limit")
