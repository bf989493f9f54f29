"""Daytona plane: one sandbox on a (self-hosted) Daytona server per `runtime: daytona` entry.

A Pulumi dynamic provider over Daytona's REST API, through its published OpenAPI client
(`daytona-api-client`). Rules for dynamic providers that shape this module (docs/daytona.md):
- the provider object is pickled into the state and runs again at refresh and destroy, so it
  holds no client: each method builds one from the resource's own inputs;
- `diff` is written out (the default would also diff the pickled provider code);
- create and update return every output; secrets are marked by the resource, not returned.

Data outlives compute: removing an entry (or replacing its sandbox) archives a sandbox whose
entry keeps its data (the default): stopped, its filesystem moved to Daytona's object storage,
restorable from the Daytona dashboard or CLI. Only `data: discard` deletes it.
"""

from __future__ import annotations

import math
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi.dynamic as dynamic

from ...contract import GIT_ENV_PREFIX, GIT_REPO
from ...host.containers import LABEL_PREFIX
from ..cloud import env_with_secrets
from ..workspace_sync import background_sync_command
from .health import wait_healthy

GIB = 1024**3
# Changing one of these needs a new sandbox; everything else is changed in place.
REPLACE_ON = ("api_url", "name_prefix", "snapshot", "target", "env")
UPDATE_IN_PLACE = ("labels", "cpu", "memory_gb", "auto_stop_minutes", "keep_data", "api_key")
READY, FAILED = "started", ("error", "build_failed")


class DaytonaError(Exception):
    """A Daytona API call failed; the message says which call, on what, and the answer."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status  # the HTTP status, when the server answered


def _api(props: Mapping[str, Any]) -> Any:
    from daytona_api_client import ApiClient, Configuration, SandboxApi

    config = Configuration(host=str(props["api_url"]).rstrip("/"), access_token=props["api_key"])
    return SandboxApi(ApiClient(config))


def _call(what: str, fn: Any, *args: Any) -> Any:
    from daytona_api_client.exceptions import ApiException
    from daytona_toolbox_api_client.exceptions import ApiException as ToolboxApiException

    try:
        return fn(*args)
    except (ApiException, ToolboxApiException) as e:
        body = (e.body or "").strip()[:300] if isinstance(e.body, str) else ""
        answer = f"HTTP {e.status} {e.reason or ''} {body}".strip()
        raise DaytonaError(f"Daytona {what}: {answer}", e.status) from e


def _start_workspace_sync(props: Mapping[str, Any], sandbox: Any) -> None:
    """Start the fleet's workspace sync in the sandbox (through Daytona's toolbox API, as the
    sandbox's user): ~/workspace gets the entry's repository and branch in the background."""
    from daytona_toolbox_api_client import ApiClient, Configuration, ExecuteRequest, ProcessApi

    host = f"{str(sandbox.toolbox_proxy_url).rstrip('/')}/{sandbox.id}"
    # The toolbox API declares no auth scheme: the key goes in as a plain header, as Daytona's
    # own SDK sends it.
    auth = f"Bearer {props['api_key']}"
    process = ProcessApi(ApiClient(Configuration(host=host), "Authorization", auth))
    git = {k: v for k, v in props["env"].items() if k.startswith(GIT_ENV_PREFIX)}
    request = ExecuteRequest(command=background_sync_command(), envs=git, timeout=30)
    done = _call(f"start the workspace sync in {sandbox.id}", process.execute_command, request)
    if done.exit_code:
        raise DaytonaError(
            f"Daytona sandbox {sandbox.id}: starting the workspace sync exited "
            f"{done.exit_code}: {done.result[:300]}"
        )


def _ours(label: str) -> bool:
    return label.startswith(f"{LABEL_PREFIX}.")


def _labels_differ(old: Mapping[str, str], new: Mapping[str, str]) -> bool:
    """Only the fleet's own labels count: the server (or a person) may add others."""
    keys = {k for k in (*old, *new) if _ours(k) or k in new}
    return any(old.get(k) != new.get(k) for k in keys)


def _outputs(props: Mapping[str, Any], sandbox: Any) -> dict[str, Any]:
    """Inputs as given, plus what the server reports (read back so drift shows in a diff)."""
    return {
        **props,
        "sandbox_id": sandbox.id,
        "name": sandbox.name,
        "state": str(sandbox.state.value if sandbox.state is not None else "unknown"),
        "labels": dict(sandbox.labels),
        "cpu": sandbox.cpu,
        "memory_gb": sandbox.memory,
    }


class DaytonaSandboxProvider(dynamic.ResourceProvider):
    """CRUD of one Daytona sandbox. Inputs: see DaytonaSandboxArgs.props()."""

    def create(self, props: dict[str, Any]) -> dynamic.CreateResult:
        from daytona_api_client import CreateSandbox

        api = _api(props)
        wait_healthy(str(props["api_url"]), time.monotonic() + float(props["timeout_seconds"]))
        request = CreateSandbox(
            # Pulumi-style auto-naming: a replacement gets a fresh name, so the archived
            # predecessor (holding the old workspace) stays beside it, and a changed secret
            # (which forces a replacement) never needs a name derived from its value.
            name=f"{props['name_prefix']}-{secrets.token_hex(3)}",
            snapshot=props.get("snapshot") or None,
            target=props.get("target") or None,
            env=dict(props["env"]),
            labels=dict(props["labels"]),
            public=False,  # previews need Daytona auth: nothing of a sandbox is public
            cpu=int(props["cpu"]),
            memory=int(props["memory_gb"]),
            auto_stop_interval=int(props["auto_stop_minutes"]),
        )
        created = _call(f"create sandbox {request.name}", api.create_sandbox, request)
        try:
            ready = self._wait_started(api, created.id, float(props["timeout_seconds"]))
            if props["env"].get(GIT_REPO):
                _start_workspace_sync(props, ready)
        except Exception:
            # Pulumi records nothing for a failed create: do not leave an untracked sandbox.
            _call(
                f"delete sandbox {created.id} after a failed start", api.delete_sandbox, created.id
            )
            raise
        return dynamic.CreateResult(id_=ready.id, outs=_outputs(props, ready))

    @staticmethod
    def _wait_started(api: Any, sandbox_id: str, timeout_s: float) -> Any:
        deadline = time.monotonic() + timeout_s
        delay = 0.2
        while True:
            sandbox = _call(f"get sandbox {sandbox_id}", api.get_sandbox, sandbox_id)
            state = sandbox.state.value if sandbox.state is not None else "unknown"
            if state == READY:
                return sandbox
            if state in FAILED:
                raise DaytonaError(
                    f"Daytona sandbox {sandbox_id} failed to start: {state}: "
                    f"{sandbox.error_reason or 'no reason given'}"
                )
            if time.monotonic() > deadline:
                raise DaytonaError(
                    f"Daytona sandbox {sandbox_id} not started after {timeout_s:.0f} s "
                    f"(state {state}); raise sandbox-fleet:daytonaTimeoutSeconds if it is slow"
                )
            time.sleep(delay)
            delay = min(delay * 2, 5.0)

    def read(self, id_: str, props: dict[str, Any]) -> dynamic.ReadResult:
        try:
            sandbox = _call(f"get sandbox {id_}", _api(props).get_sandbox, id_)
        except DaytonaError as e:
            if e.status == 404:  # deleted out of band: refresh drops it, the next up recreates it
                return dynamic.ReadResult(id_="", outs={})
            raise
        if sandbox.state is not None and sandbox.state.value == "destroyed":
            return dynamic.ReadResult(id_="", outs={})
        # Stopped or archived (Daytona does both to idle sandboxes) is still this sandbox, files
        # and all: it starts again on use. Its state is in the outputs.
        return dynamic.ReadResult(id_=id_, outs=_outputs(props, sandbox))

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.DiffResult:
        changed = [
            k
            for k in (*REPLACE_ON, *UPDATE_IN_PLACE)
            if (
                _labels_differ(olds.get(k) or {}, news.get(k) or {})
                if k == "labels"
                else olds.get(k) != news.get(k)
            )
        ]
        replaces = [k for k in changed if k in REPLACE_ON]
        return dynamic.DiffResult(
            changes=bool(changed),
            replaces=replaces,
            stables=["sandbox_id", "name"] if not replaces else [],
        )

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> dynamic.UpdateResult:
        from daytona_api_client import ResizeSandbox, SandboxLabels

        api = _api(news)
        if _labels_differ(olds.get("labels") or {}, news["labels"]):
            theirs = {k: v for k, v in (olds.get("labels") or {}).items() if not _ours(k)}
            labels = SandboxLabels(labels={**theirs, **news["labels"]})
            _call(f"replace labels of {id_}", api.replace_labels, id_, labels)
        if (olds.get("cpu"), olds.get("memory_gb")) != (news.get("cpu"), news.get("memory_gb")):
            resize = ResizeSandbox(cpu=int(news["cpu"]), memory=int(news["memory_gb"]))
            _call(f"resize {id_}", api.resize_sandbox, id_, resize)
        if olds.get("auto_stop_minutes") != news.get("auto_stop_minutes"):
            minutes = int(news["auto_stop_minutes"])
            _call(f"set auto-stop of {id_}", api.set_autostop_interval, id_, minutes)
        sandbox = _call(f"get sandbox {id_}", api.get_sandbox, id_)
        return dynamic.UpdateResult(outs=_outputs(news, sandbox))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        api = _api(props)
        try:
            if not props.get("keep_data", True):
                _call(f"delete sandbox {id_}", api.delete_sandbox, id_)
                return
            sandbox = _call(f"get sandbox {id_}", api.get_sandbox, id_)
            state = sandbox.state.value if sandbox.state is not None else "unknown"
            if state in ("archived", "archiving", "destroyed", "destroying"):
                return
            if state != "stopped":  # Daytona archives stopped sandboxes only
                _call(f"stop sandbox {id_}", api.stop_sandbox, id_)
                self._wait_state(api, id_, "stopped", float(props["timeout_seconds"]))
            _call(f"archive sandbox {id_}", api.archive_sandbox, id_)
        except DaytonaError as e:
            if e.status != 404:  # already gone is what delete wants
                raise

    @staticmethod
    def _wait_state(api: Any, sandbox_id: str, want: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        get = f"get sandbox {sandbox_id}"
        while (
            state := _call(get, api.get_sandbox, sandbox_id).state
        ) is None or state.value != want:
            if time.monotonic() > deadline:
                raise DaytonaError(f"Daytona sandbox {sandbox_id} not {want} after {timeout_s} s")
            time.sleep(0.5)


@dataclass(frozen=True, kw_only=True)
class DaytonaSandboxArgs:
    api_url: pulumi.Input[str]
    api_key: pulumi.Input[str]
    prefix: str
    entry: str  # the spec entry's name
    env: Mapping[str, str]
    secret_env: Mapping[str, pulumi.Output[str]]  # values of the entry's `secrets`
    labels: Mapping[str, str]
    cpus: float
    memory_bytes: int
    keep_data: bool
    snapshot: str = ""  # empty: the server's default snapshot
    target: str = ""  # empty: the organization's default region
    auto_stop_minutes: int = 30
    timeout_seconds: int = 600

    def props(self) -> dict[str, Any]:
        """The provider's plain inputs (the API key and secret env are added as Outputs)."""
        return {
            "api_url": self.api_url,
            "name_prefix": f"{self.prefix}{self.entry}",
            "snapshot": self.snapshot,
            "target": self.target,
            "env": dict(self.env),
            "labels": dict(self.labels),
            # Daytona sizes in whole CPUs and GB: round up, never below what the entry asked.
            "cpu": max(1, math.ceil(self.cpus)),
            "memory_gb": max(1, math.ceil(self.memory_bytes / GIB)),
            "auto_stop_minutes": self.auto_stop_minutes,
            "keep_data": self.keep_data,
            "timeout_seconds": self.timeout_seconds,
        }


class DaytonaSandbox(dynamic.Resource):
    """One sandbox on a Daytona server."""

    sandbox_id: pulumi.Output[str]
    """Daytona's id of the sandbox."""
    name: pulumi.Output[str]
    """Its name on the server (`daytona ssh NAME`)."""
    state: pulumi.Output[str]
    """Its state when last read (started, stopped, ...)."""

    def __init__(
        self, name: str, args: DaytonaSandboxArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        props: dict[str, Any] = {**args.props(), "api_key": args.api_key}
        props["env"] = env_with_secrets(args.env, args.secret_env)
        props |= {"sandbox_id": None, "name": None, "state": None}  # outputs
        secret = pulumi.ResourceOptions(additional_secret_outputs=["api_key", "env"])
        super().__init__(
            DaytonaSandboxProvider(), name, props, pulumi.ResourceOptions.merge(opts, secret)
        )
