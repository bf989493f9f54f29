"""The `sandboxes.yaml` document as pydantic models: the file's contract and its JSON schema."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from ..contract import NOVNC_PORT, SSH_PORT, VNC_PORT
from ..sizes import format_size
from . import ports
from .egress import Egress
from .fields import (
    Date,
    DnsLabel,
    EnvName,
    EnvValue,
    GitRef,
    HostPort,
    Port,
    RepoUrl,
    SandboxName,
    SecretName,
    Size,
)  # fmt: skip
from .image import ImageSource


class Task(StrEnum):
    AUDIT = "audit"
    REFACTOR = "refactor"
    TEST = "test"
    DATA_PROCESSING = "data-processing"
    FRONTEND_DEV = "frontend-dev"
    VISUAL_DEBUG = "visual-debug"
    SHOPPING = "shopping"
    BROWSER_AUTOMATION = "browser-automation"


class Mode(StrEnum):
    HEADLESS = "headless"
    VISUAL = "visual"


class Runtime(StrEnum):
    DOCKER = "docker"
    DAYTONA = "daytona"
    MODAL = "modal"


class DataPolicy(StrEnum):
    KEEP = "keep"
    DISCARD = "discard"


class Capability(StrEnum):
    """What a host can do (`hosts.NAME.capabilities`): the closed set its entries may need."""

    HEADLESS = "headless"  # runs headless Docker sandboxes
    VISUAL = "visual"  # runs desktop sandboxes (its stack builds the desktop image)
    GPU = "gpu"  # has a GPU (for the model server's offloaded layers)
    MODEL = "model"  # runs the llama.cpp model server
    DAYTONA = "daytona"  # its stack reaches a Daytona server (daytonaUrl)


# Routing table: batch work gets a small headless box, anything with a UI gets a desktop.
TASK_MODE: dict[Task, Mode] = {
    Task.AUDIT: Mode.HEADLESS,
    Task.REFACTOR: Mode.HEADLESS,
    Task.TEST: Mode.HEADLESS,
    Task.DATA_PROCESSING: Mode.HEADLESS,
    Task.FRONTEND_DEV: Mode.VISUAL,
    Task.VISUAL_DEBUG: Mode.VISUAL,
    Task.SHOPPING: Mode.VISUAL,
    Task.BROWSER_AUTOMATION: Mode.VISUAL,
}

# Container ports the sandbox images use themselves; an app cannot publish them again.
RESERVED_CONTAINER_PORTS = {SSH_PORT: "SSH", NOVNC_PORT: "noVNC", VNC_PORT: "VNC"}
MAX_APP_PORTS = ports.MAX_APP_PORTS

CPUS_MIN, CPUS_MAX = 0.01, 256
IMAGE_HELP = (
    "The toolchain the sandbox starts from ({dockerfile: path} or {base: image}); the fleet "
    "layers its sandbox runtime on top (docs/agents.md)"
)
EGRESS_HELP = (
    "Where the sandbox may connect: `any` (the default), or a list of host names and "
    '*.domain wildcards, e.g. [github.com, "*.pypi.org"] (docs/egress.md)'
)

# The document is strict (no "2" for 2, no 1 for true), but enums are written as their values.
TaskName = Annotated[Task, Strict(False)]
ModeName = Annotated[Mode, Strict(False)]
RuntimeName = Annotated[Runtime, Strict(False)]
DataPolicyName = Annotated[DataPolicy, Strict(False)]
CapabilityName = Annotated[Capability, Strict(False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Resources(_Strict):
    """Limits for one sandbox; each key falls back to `defaults.resources`, then built-ins."""

    cpus: (
        Annotated[
            float, WithJsonSchema({"type": "number", "minimum": CPUS_MIN, "maximum": CPUS_MAX})
        ]
        | None
    ) = Field(None, description="CPU cores (fractions allowed, e.g. 0.5)")
    memory: Size | None = Field(None, description="Memory limit, e.g. 512Mi or 4Gi")
    pids: Annotated[int, Field(ge=32, le=65536)] | None = Field(
        None, description="Maximum number of processes"
    )

    @field_validator("cpus")
    @classmethod
    def _cpus_in_range(cls, cpus: float | None) -> float | None:
        # Docker takes a CFS quota of at least 1 ms per 100 ms period: below 0.01 CPUs the
        # container would not start.
        if cpus is not None and not CPUS_MIN <= cpus <= CPUS_MAX:
            raise ValueError(
                f"{cpus:g} CPUs is out of range; cpus must be between {CPUS_MIN} "
                f"(Docker's smallest CPU quota: 1 ms per 100 ms) and {CPUS_MAX}"
            )
        return cpus

    @field_validator("memory")
    @classmethod
    def _memory_in_range(cls, memory: int | None) -> int | None:
        if memory is not None and not 64 * 1024**2 <= memory <= 1024**4:
            raise ValueError(
                f"'{format_size(memory)}' is out of range; memory must be between 64Mi and 1Ti"
            )
        return memory


class Defaults(_Strict):
    """Settings applied to every entry unless the entry sets its own."""

    repo: RepoUrl | None = Field(None, description="Git repository to clone")
    base: GitRef | None = Field(None, description="Branch new sandbox branches start from")
    resources: Resources = Resources()
    runtime: RuntimeName | None = None
    data: DataPolicyName | None = None
    host: DnsLabel | None = None
    env: dict[EnvName, EnvValue] = Field(default_factory=dict)
    egress: Egress | None = Field(None, description=EGRESS_HELP)
    image: ImageSource | None = Field(None, description=IMAGE_HELP)


class SandboxEntry(_Strict):
    """One sandbox. Only `task` is required."""

    task: TaskName = Field(description="What the sandbox is for; picks headless or visual")
    mode: ModeName | None = Field(None, description="Override the routing of `task`")
    branch: GitRef | None = Field(None, description="Default: the sandbox name")
    repo: RepoUrl | None = None
    base: GitRef | None = None
    resources: Resources = Resources()
    ports: Annotated[list[Port], Field(max_length=MAX_APP_PORTS)] = Field(
        default_factory=list, description="Extra container ports to publish"
    )
    ssh_port: HostPort | None = Field(
        None, description="Pin the host port block (SSH, then noVNC, then app ports)"
    )
    expires: Date | None = Field(None, description="After this date the entry is left out")
    runtime: RuntimeName | None = None
    env: dict[EnvName, EnvValue] = Field(default_factory=dict, description="Plain values only")
    secrets: list[SecretName] = Field(
        default_factory=list, description="Names of Pulumi secret config keys"
    )
    repo_token: SecretName | None = Field(
        None,
        description="One of `secrets`: the token git uses for an https `repo` "
        "(a credential helper reads it; never in the URL)",
    )
    data: DataPolicyName | None = Field(None, description="keep (default) or discard the workspace")
    host: DnsLabel | None = Field(None, description="Placement when the fleet spans hosts")
    tailnet: bool = Field(
        False, description="Join the tailnet itself (own MagicDNS name, e.g. ssh://NAME)"
    )
    egress: Egress | None = Field(None, description=EGRESS_HELP)
    image: ImageSource | None = Field(None, description=IMAGE_HELP)

    @field_validator("ports")
    @classmethod
    def _ports_are_distinct_and_free(cls, ports: list[int]) -> list[int]:
        for i, port in enumerate(ports):
            if port in ports[:i]:
                raise ValueError(f"port {port} is listed twice")
            if port in RESERVED_CONTAINER_PORTS:
                raise ValueError(
                    f"port {port} is the sandbox's own {RESERVED_CONTAINER_PORTS[port]} port; "
                    "it is published already"
                )
        return ports

    @field_validator("secrets")
    @classmethod
    def _secrets_are_distinct(cls, secrets: list[str]) -> list[str]:
        twice = sorted({s for s in secrets if secrets.count(s) > 1})
        if twice:
            raise ValueError(f"{', '.join(twice)} is listed twice")
        return secrets

    @model_validator(mode="after")
    def _secrets_are_not_env(self) -> Self:
        clash = sorted(set(self.secrets) & set(self.env))
        if clash:
            raise ValueError(f"{', '.join(clash)} is set in both `env` and `secrets`; keep one")
        if self.repo_token is not None and self.repo_token not in self.secrets:
            raise ValueError(
                f"repo_token {self.repo_token} is not in this entry's `secrets`; list it there "
                "too (the sandbox gets only the secrets its entry names)"
            )
        return self


class Capacity(_Strict):
    """What a host gives the fleet: its entries' summed limits (and its services') must fit,
    within the stack's preflight over-commit ratios (checked by that host's stack)."""

    cpus: Annotated[float, Field(gt=0, le=4096)] | None = Field(
        None, description="CPU cores of the host"
    )
    memory: Size | None = Field(None, description="Memory of the host, e.g. 32Gi")


class HostEntry(_Strict):
    """One host of the fleet: the stack whose `hostName` is its name deploys its entries."""

    capabilities: list[CapabilityName] = Field(
        description="What the host can do; entries that need more are refused"
    )
    capacity: Capacity | None = Field(None, description="What the host gives the fleet")
    headquarters: bool = Field(
        False,
        description="Runs the bus, takes the entries without `host:`; exactly one host is "
        "headquarters when there are several",
    )

    @field_validator("capabilities")
    @classmethod
    def _capabilities_are_distinct(cls, found: list[Capability]) -> list[Capability]:
        if not found:
            allowed = ", ".join(c.value for c in Capability)
            raise ValueError(
                f"a host with no capabilities can run nothing; list some of: {allowed}"
            )
        twice = sorted({c.value for c in found if found.count(c) > 1})
        if twice:
            raise ValueError(f"{', '.join(twice)} is listed twice")
        return found


class SpecFile(_Strict):
    """sandboxes.yaml: the whole fleet, one entry per sandbox, keyed by sandbox name."""

    model_config = ConfigDict(title="sandbox-fleet sandboxes.yaml")

    version: Literal[1] = Field(description="Format version; only 1 exists")
    defaults: Defaults = Defaults()
    hosts: dict[DnsLabel, HostEntry] | None = Field(
        None,
        description="The hosts of a fleet that spans several (docs/factories.md); "
        "leave it out for one host",
    )
    sandboxes: dict[SandboxName, SandboxEntry] = Field(
        description="Sandboxes by name; `{}` is an empty fleet",
        json_schema_extra={"additionalProperties": False},  # names outside the pattern: no
    )
