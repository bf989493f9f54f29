"""ModelServer: llama.cpp `llama-server` on ai-net as `model-server`, model file from model-data."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from ..contract import LLAMA_API_KEY, MODEL_SERVER, MODEL_SERVER_PORT, MODELS_PATH
from ..host.containers import (
    Limits,
    Placement,
    container_labels,
    env_list,
    fleet_container,
    healthcheck,
)
from ..outputs import url_host
from ..settings import ModelServerSettings

INTERNAL_URL = f"http://{MODEL_SERVER}:{MODEL_SERVER_PORT}/v1"


@dataclass(frozen=True, kw_only=True)
class ModelServerArgs:
    settings: ModelServerSettings
    image_id: pulumi.Input[str]
    model_volume: pulumi.Input[str]
    place: Placement
    api_key: pulumi.Output[str]  # secret: every API call but /health asks for it


def server_command(s: ModelServerSettings) -> list[str]:
    """Flags shared by the official image and images/model-server (same entrypoint). --jinja:
    the model's own chat template, which is what turns the supervisor's tools into tool calls."""
    return [
        "-m", f"{MODELS_PATH}/{s.modelFile}", "--host", "0.0.0.0", "--port", str(MODEL_SERVER_PORT),
        "-c", str(s.contextSize), "-t", str(s.threads), "-ngl", str(s.gpuLayers), "--jinja",
    ]  # fmt: skip


class ModelServer(pulumi.ComponentResource):
    container: docker.Container
    """The llama-server container."""
    internal_url: str
    """OpenAI-compatible base URL on ai-net."""
    external_url: pulumi.Output[str]
    """Base URL on the bind address, or "" when not published."""

    def __init__(
        self, name: str, args: ModelServerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("sandbox-fleet:index:ModelServer", name, None, opts)
        s = args.settings
        self.container = fleet_container(
            f"{name}-container",
            args.place,
            Limits(memory_bytes=s.memory, cpus=float(s.cpus), pids=s.pids),
            pulumi.ResourceOptions(
                parent=self, provider=args.place.provider, replace_on_changes=["healthcheck"]
            ),
            name=f"{args.place.prefix}{MODEL_SERVER}",
            hostname=MODEL_SERVER,
            image=args.image_id,
            command=server_command(s),
            envs=env_list({}, {LLAMA_API_KEY: args.api_key}),
            mounts=[
                docker.ContainerMountArgs(
                    type="volume", source=args.model_volume, target=MODELS_PATH, read_only=True
                )
            ],
            networks_advanced=args.place.network(MODEL_SERVER),
            ports=[args.place.port(MODEL_SERVER_PORT, s.port)] if s.publish else [],
            healthcheck=healthcheck(
                ["curl", "-fsS", "-o", "/dev/null", f"http://127.0.0.1:{MODEL_SERVER_PORT}/health"],
                interval="10s",
                start_period="1m0s",
            ),
            labels=container_labels(args.place.labels),
        )
        self.internal_url = INTERNAL_URL
        self.external_url = (
            pulumi.Output.from_input(args.place.bind_address).apply(
                lambda bind: f"http://{url_host(bind)}:{s.port}/v1"
            )
            if s.publish
            else pulumi.Output.from_input("")
        )
        self.register_outputs({"internalUrl": self.internal_url, "externalUrl": self.external_url})
