"""A local fake of Modal's control plane, speaking Modal's real gRPC protocol.

Modal's servers (api.modal.com) are not reachable from our machines. This fake serves the
`modal.client.ModalClient` service with `grpclib`, using the route table, request and reply
types that ship inside the client (`modal_proto.api_grpc.ModalClientBase`, `modal_proto.api_pb2`),
so the real `modal` client (1.6.4, V2 sandboxes, the default) runs its normal code paths
against it. Every RPC the fake does not implement answers gRPC UNIMPLEMENTED (the client raises
`modal.exception.UnimplementedError`) and is recorded in `FakeModal.unimplemented`.

What it models: credentials (a wrong token id/secret answers UNAUTHENTICATED, the client raises
`modal.exception.AuthError`); apps by name; image builds (every build succeeds at once); named
volumes (get/create/delete, NOT_FOUND / ALREADY_EXISTS as requested); secrets created through
`SecretGetOrCreate` (note: V2 sandboxes send `Secret.from_dict` contents and `env=` inline in the
create request, see `FakeSandbox.env`); sandboxes: create (name unique among running sandboxes of
an app, else ALREADY_EXISTS), tags, wait/poll, terminate (exit code 137), lookup by id (unknown id
-> NOT_FOUND) and by app name + sandbox name. What it does not model: running anything (no
container, exec, stdio, filesystem, tunnels, task ids), timeouts expiring, volume contents,
functions/deployments, environments other than by name, quotas.

Usage: the client caches one client per process (`modal.client._Client._client_from_env`);
`fake_modal()` closes it on entry and exit. Call `reset_modal_client()` after changing MODAL_* vars.

    with fake_modal() as fake:   # sets MODAL_SERVER_URL, MODAL_TOKEN_ID/SECRET, MODAL_ENVIRONMENT
        app = modal.App.lookup("my-app", create_if_missing=True)
        sb = modal.Sandbox.create("sleep", "infinity", app=app, name="x")
        assert fake.sandboxes[sb.object_id].name == "x"
"""

from __future__ import annotations

import asyncio
import base64
import inspect
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import empty_pb2
from google.protobuf.message import Message
from grpclib import GRPCError, Status
from grpclib.const import Handler
from grpclib.server import Server, Stream
from modal_proto import api_pb2
from modal_proto.api_grpc import ModalClientBase

TOKEN_ID = "ak-fake"
TOKEN_SECRET = "as-fake"
ENVIRONMENT = "main"
IMAGE_BUILDER_VERSION = "2025.06"
TERMINATED = api_pb2.GenericResult.GENERIC_STATUS_TERMINATED
CREATE_IF_MISSING = api_pb2.OBJECT_CREATION_TYPE_CREATE_IF_MISSING
FAIL_IF_EXISTS = api_pb2.OBJECT_CREATION_TYPE_CREATE_FAIL_IF_EXISTS


def new_id(prefix: str) -> str:
    # 24 alphanumerics: a V1 sandbox id has exactly 22, so the client routes ours to the V2 RPCs.
    return f"{prefix}-{uuid.uuid4().hex[:24]}"


@dataclass
class FakeSandbox:
    sandbox_id: str
    app_id: str
    request: api_pb2.SandboxCreateV2Request  # everything the client sent
    tags: dict[str, str] = field(default_factory=dict)
    result: api_pb2.GenericResult | None = None  # set once the sandbox has finished
    created_at: float = field(default_factory=time.time)

    @property
    def definition(self) -> api_pb2.Sandbox:
        return self.request.definition

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def running(self) -> bool:
        return self.result is None

    @property
    def exit_code(self) -> int | None:
        if self.result is None:
            return None
        return 137 if self.result.status == TERMINATED else self.result.exitcode

    @property
    def env(self) -> dict[str, str]:
        """Inline env: `Secret.from_dict` contents and `env=`, merged in the order sent."""
        merged: dict[str, str] = {}
        for source in self.request.secret_sources:
            merged.update(source.env.contents)
        return merged

    @property
    def secret_ids(self) -> list[str]:
        """Secrets referenced by id (`Secret.from_name`), from the definition and the sources."""
        ids = list(self.definition.secret_ids)
        return ids + [s.secret_id for s in self.request.secret_sources if s.secret_id]

    @property
    def volume_mounts(self) -> dict[str, str]:
        return {m.mount_path: m.volume_id for m in self.definition.volume_mounts}


class _Names:
    """Stands in for a servicer so `ModalClientBase.__mapping__` yields each route's method name."""

    def __getattr__(self, name: str) -> str:
        return name


@dataclass
class FakeModal:
    url: str = ""
    token_id: str = TOKEN_ID
    token_secret: str = TOKEN_SECRET
    apps: dict[str, str] = field(default_factory=dict)  # app name -> app id
    images: dict[str, api_pb2.Image] = field(default_factory=dict)  # image id -> definition
    volumes: dict[str, str] = field(default_factory=dict)  # volume name -> volume id
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)  # secret id -> env dict
    secret_names: dict[str, str] = field(default_factory=dict)  # secret name -> secret id
    sandboxes: dict[str, FakeSandbox] = field(default_factory=dict)  # sandbox id -> record
    calls: list[str] = field(default_factory=list)  # RPC method names, in order
    unimplemented: list[str] = field(default_factory=list)

    # --- test helpers --------------------------------------------------------------------
    def sandbox_named(self, name: str) -> FakeSandbox | None:
        matches = [s for s in self.sandboxes.values() if s.name == name]
        return max(matches, key=lambda s: (s.running, s.created_at)) if matches else None

    def finish(self, sandbox_id: str, exit_code: int = 0) -> None:
        """Make a sandbox exit on its own with `exit_code`, as if its command had ended."""
        ok = api_pb2.GenericResult.GENERIC_STATUS_SUCCESS
        status = ok if exit_code == 0 else api_pb2.GenericResult.GENERIC_STATUS_FAILURE
        self.sandboxes[sandbox_id].result = api_pb2.GenericResult(status=status, exitcode=exit_code)

    # --- gRPC plumbing -------------------------------------------------------------------
    def __mapping__(self) -> dict[str, Handler]:
        routes: dict[str, Handler] = ModalClientBase.__mapping__(_Names())  # type: ignore[arg-type]
        return {path: h._replace(func=self._handler(h.func)) for path, h in routes.items()}

    def _handler(self, name: str) -> Callable[[Stream[Any, Any]], Any]:
        impl = getattr(self, f"rpc_{name}", None)

        async def handle(stream: Stream[Any, Any]) -> None:
            self.calls.append(name)
            meta: Any = stream.metadata or {}
            if (meta.get("x-modal-token-id"), meta.get("x-modal-token-secret")) != (
                self.token_id, self.token_secret,
            ):  # fmt: skip
                raise GRPCError(Status.UNAUTHENTICATED, "Token ID or secret is invalid")
            if impl is None:
                self.unimplemented.append(name)
                raise GRPCError(Status.UNIMPLEMENTED, f"fake_modal does not implement {name}")
            reply = impl(await stream.recv_message())
            if inspect.isawaitable(reply):
                reply = await reply
            await stream.send_message(reply)

        return handle

    def _sandbox(self, sandbox_id: str) -> FakeSandbox:
        if sandbox_id not in self.sandboxes:
            raise GRPCError(Status.NOT_FOUND, f"Sandbox {sandbox_id} not found")
        return self.sandboxes[sandbox_id]

    def _result(self, sb: FakeSandbox) -> api_pb2.GenericResult:
        return sb.result if sb.result is not None else api_pb2.GenericResult()

    # --- RPCs (named rpc_<Method>; request in, reply out) --------------------------------
    def rpc_AuthTokenGet(self, req: api_pb2.AuthTokenGetRequest) -> Message:
        def b64(data: dict[str, Any]) -> str:
            return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

        jwt = f"{b64({'alg': 'none'})}.{b64({'exp': int(time.time()) + 3600})}.fake"
        return api_pb2.AuthTokenGetResponse(token=jwt)

    def rpc_ClientHello(self, req: Message) -> Message:
        return api_pb2.ClientHelloResponse()

    def rpc_EnvironmentGetOrCreate(self, req: api_pb2.EnvironmentGetOrCreateRequest) -> Message:
        settings = api_pb2.EnvironmentSettings(image_builder_version=IMAGE_BUILDER_VERSION)
        name = req.deployment_name or ENVIRONMENT
        return api_pb2.EnvironmentGetOrCreateResponse(
            environment_id=f"en-{name}",
            metadata=api_pb2.EnvironmentMetadata(name=name, settings=settings),
        )

    def rpc_AppGetOrCreate(self, req: api_pb2.AppGetOrCreateRequest) -> Message:
        if req.app_name not in self.apps:
            if req.object_creation_type != CREATE_IF_MISSING:
                raise GRPCError(Status.NOT_FOUND, f"App '{req.app_name}' not found")
            self.apps[req.app_name] = new_id("ap")
        return api_pb2.AppGetOrCreateResponse(app_id=self.apps[req.app_name])

    def rpc_ImageGetOrCreate(self, req: api_pb2.ImageGetOrCreateRequest) -> Message:
        image_id = new_id("im")
        self.images[image_id] = req.image
        success = api_pb2.GenericResult(status=api_pb2.GenericResult.GENERIC_STATUS_SUCCESS)
        return api_pb2.ImageGetOrCreateResponse(image_id=image_id, result=success)

    def rpc_VolumeGetOrCreate(self, req: api_pb2.VolumeGetOrCreateRequest) -> Message:
        name = req.deployment_name
        if name in self.volumes and req.object_creation_type == FAIL_IF_EXISTS:
            raise GRPCError(Status.ALREADY_EXISTS, f"Volume '{name}' already exists")
        if name not in self.volumes:
            if req.object_creation_type not in (CREATE_IF_MISSING, FAIL_IF_EXISTS):
                raise GRPCError(Status.NOT_FOUND, f"Volume '{name}' not found")
            self.volumes[name] = new_id("vo")
        version = req.version or api_pb2.VOLUME_FS_VERSION_V1
        return api_pb2.VolumeGetOrCreateResponse(
            volume_id=self.volumes[name],
            version=version,
            metadata=api_pb2.VolumeMetadata(name=name, version=version),
        )

    def rpc_VolumeDelete(self, req: api_pb2.VolumeDeleteRequest) -> Message:
        names = [n for n, vid in self.volumes.items() if vid == req.volume_id]
        if not names:
            raise GRPCError(Status.NOT_FOUND, f"Volume {req.volume_id} not found")
        del self.volumes[names[0]]
        return empty_pb2.Empty()

    def rpc_SecretGetOrCreate(self, req: api_pb2.SecretGetOrCreateRequest) -> Message:
        name = req.deployment_name
        if name and name in self.secret_names:
            if req.object_creation_type == FAIL_IF_EXISTS:
                raise GRPCError(Status.ALREADY_EXISTS, f"Secret '{name}' already exists")
            return api_pb2.SecretGetOrCreateResponse(secret_id=self.secret_names[name])
        if name and req.object_creation_type not in (CREATE_IF_MISSING, FAIL_IF_EXISTS):
            raise GRPCError(Status.NOT_FOUND, f"Secret '{name}' not found")
        secret_id = new_id("st")
        self.secrets[secret_id] = dict(req.env_dict)
        if name:
            self.secret_names[name] = secret_id
        return api_pb2.SecretGetOrCreateResponse(secret_id=secret_id)

    def rpc_SandboxCreateV2(self, req: api_pb2.SandboxCreateV2Request) -> Message:
        name = req.definition.name
        if name and any(
            s.running and s.app_id == req.app_id and s.name == name for s in self.sandboxes.values()
        ):
            raise GRPCError(Status.ALREADY_EXISTS, f"Sandbox with name '{name}' already exists")
        sb = FakeSandbox(new_id("sb"), req.app_id, req, {t.tag_name: t.tag_value for t in req.tags})
        self.sandboxes[sb.sandbox_id] = sb
        return api_pb2.SandboxCreateV2Response(
            sandbox_id=sb.sandbox_id, metadata=api_pb2.SandboxHandleMetadata(app_id=sb.app_id)
        )

    async def rpc_SandboxWaitV2(self, req: api_pb2.SandboxWaitRequest) -> Message:
        sb = self._sandbox(req.sandbox_id)
        deadline = time.monotonic() + min(req.timeout, 10.0)  # a long poll, held briefly
        while sb.running and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        metadata = api_pb2.SandboxHandleMetadata(app_id=sb.app_id, result=self._result(sb))
        return api_pb2.SandboxWaitResponse(result=self._result(sb), metadata=metadata)

    rpc_SandboxWait = rpc_SandboxWaitV2  # V1-shaped ids (22 characters): never ours

    def rpc_SandboxTerminateV2(self, req: api_pb2.SandboxTerminateRequest) -> Message:
        sb = self._sandbox(req.sandbox_id)
        existing = self._result(sb)
        if sb.running:
            sb.result = api_pb2.GenericResult(status=TERMINATED)
        return api_pb2.SandboxTerminateResponse(existing_result=existing)

    def rpc_SandboxTagsSetV2(self, req: api_pb2.SandboxTagsSetRequest) -> Message:
        self._sandbox(req.sandbox_id).tags = {t.tag_name: t.tag_value for t in req.tags}
        return empty_pb2.Empty()

    def rpc_SandboxTagsGetV2(self, req: api_pb2.SandboxTagsGetRequest) -> Message:
        tags = self._sandbox(req.sandbox_id).tags.items()
        return api_pb2.SandboxTagsGetResponse(
            tags=[api_pb2.SandboxTag(tag_name=k, tag_value=v) for k, v in tags]
        )

    def rpc_SandboxGetFromNameV2(self, req: api_pb2.SandboxGetFromNameRequest) -> Message:
        app_id = self.apps.get(req.app_name)
        name = req.sandbox_name
        found = [s for s in self.sandboxes.values() if s.app_id == app_id and s.name == name]
        found = [s for s in found if s.running] or (found if req.include_terminated else [])
        if app_id is None or not found:
            raise GRPCError(
                Status.NOT_FOUND, f"Sandbox '{req.sandbox_name}' not found in app '{req.app_name}'"
            )
        sb = max(found, key=lambda s: s.created_at)
        metadata = api_pb2.SandboxHandleMetadata(app_id=sb.app_id, result=self._result(sb))
        return api_pb2.SandboxGetFromNameResponse(sandbox_id=sb.sandbox_id, metadata=metadata)

    rpc_SandboxGetFromName = rpc_SandboxGetFromNameV2  # the client's V1 fallback after NOT_FOUND


def reset_modal_client() -> None:
    """Close the modal client's cached per-process client, so the next call reads MODAL_* anew."""
    from modal._environments import ENVIRONMENT_CACHE
    from modal.client import Client, _Client

    if _Client._client_from_env is not None:
        Client.from_env().close()  # the cached one; closing it also clears the cache
        _Client._set_env_client(None)
    ENVIRONMENT_CACHE.clear()


@contextmanager
def fake_modal(*, token_secret: str = TOKEN_SECRET) -> Iterator[FakeModal]:
    """Serve a FakeModal on 127.0.0.1 (free port, own thread and event loop) and point the modal
    client at it. `token_secret` is what MODAL_TOKEN_SECRET is set to (the fake accepts only
    "as-fake"), to test auth failures."""
    fake = FakeModal()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fake-modal", daemon=True)
    thread.start()

    async def start() -> Server:
        server = Server([fake])
        await server.start("127.0.0.1", 0)
        return server

    async def stop(server: Server) -> None:
        server.close()
        await server.wait_closed()

    server = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=10)
    port = server._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.url = f"http://127.0.0.1:{port}"
    env = {
        "MODAL_SERVER_URL": fake.url,
        "MODAL_TOKEN_ID": TOKEN_ID,
        "MODAL_TOKEN_SECRET": token_secret,
        "MODAL_ENVIRONMENT": ENVIRONMENT,
    }
    saved = {key: os.environ.get(key) for key in env}
    reset_modal_client()
    os.environ.update(env)
    try:
        yield fake
    finally:
        try:
            reset_modal_client()
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            asyncio.run_coroutine_threadsafe(stop(server), loop).result(timeout=10)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            loop.close()
