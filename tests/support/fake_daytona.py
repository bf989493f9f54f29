"""A local fake of the Daytona REST API (the sandbox endpoints the Daytona plane calls).

No Daytona server is reachable from our machines. This fake speaks the real HTTP shapes: request
bodies are parsed with the published OpenAPI models of `daytona-api-client` (unknown fields are
refused, as a strict server would) and every answer is built from its `Sandbox` model, so a field
the client needs and the fake forgot fails the test. What it does not model: runners, snapshots,
regions, quotas, and of the toolbox API anything but `POST /process/execute` (recorded in
`executed`, answered with exit code 0, nothing run).

State machine as the real server reports it: create -> "creating" (for `start_polls` reads) ->
"started"; stop -> "stopped"; archive (stopped only) -> "archived"; delete -> gone (404).
Health as the real API answers it: `GET /health` for anyone, `GET /health/ready` with the
health-check key.

Run as a program (`python3 fake_daytona.py`), it stands in for the API container of the fleet's
own Daytona server (tests/support/daytona_server/): it reads the environment the fleet gives
Daytona's API image (PORT, ADMIN_API_KEY, HEALTH_CHECK_API_KEY, PROXY_PROTOCOL, PROXY_DOMAIN)
and serves under `/api`, as the real API does. Its toolbox URL is the proxy's, as the real one.
"""

from __future__ import annotations

import json
import os
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from daytona_api_client import CreateSandbox, ResizeSandbox, Sandbox, SandboxLabels
from daytona_toolbox_api_client import ExecuteRequest, ExecuteResponse

TOKEN = "fake-daytona-key"
ORG = "org-fake"


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class FakeDaytona:
    url: str = ""
    token: str = TOKEN  # the API key it accepts
    health_key: str = ""  # the key /health/ready asks for (empty: that route is refused)
    prefix: str = ""  # where its routes start ("/api" as a server)
    toolbox_url: str = ""  # what sandboxes report as their toolbox proxy (default: its own)
    start_polls: int = 2  # reads that still say "creating" after a create
    fail_start: str | None = None  # error_reason: the next sandbox ends in state "error"
    sandboxes: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> record
    calls: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    executed: list[tuple[str, ExecuteRequest]] = field(default_factory=list)  # (sandbox id, req)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- the endpoints -----------------------------------------------------------------
    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        request = CreateSandbox.from_dict(body)
        assert request is not None
        if request.additional_properties:
            raise Refused(400, f"unknown properties {sorted(request.additional_properties)}")
        name = request.name or ""
        if any(r["name"] == name for r in self.sandboxes.values()):
            raise Refused(409, f"sandbox with name {name} already exists")
        sid = str(uuid.uuid4())
        self.sandboxes[sid] = {
            "id": sid,
            "organizationId": ORG,
            "name": name or sid,
            "snapshot": request.snapshot or "daytonaio/sandbox:default",
            "user": request.user or "daytona",
            "env": request.env or {},
            "labels": request.labels or {},
            "public": bool(request.public),
            "networkBlockAll": bool(request.network_block_all),
            "kvm": False,
            "target": request.target or "us",
            "cpu": request.cpu or 1,
            "gpu": 0,
            "memory": request.memory or 1,
            "disk": request.disk or 3,
            "state": "creating",
            "autoStopInterval": request.auto_stop_interval or 15,
            "toolboxProxyUrl": self.toolbox_url or f"{self.url}/toolbox",
            "_polls": self.start_polls,
            "_fail": self.fail_start,
        }
        self.fail_start = None
        return self.view(sid)

    def get(self, key: str) -> dict[str, Any]:
        r = self.find(key)
        if r["state"] == "creating":
            if r["_polls"] > 0:
                r["_polls"] -= 1
            else:
                r["state"] = "error" if r["_fail"] else "started"
                r["errorReason"] = r["_fail"]
        return self.view(r["id"])

    def delete(self, key: str) -> dict[str, Any]:
        r = self.find(key)
        del self.sandboxes[r["id"]]
        return self.view_of({**r, "state": "destroyed"})

    def stop(self, key: str) -> dict[str, Any]:
        r = self.find(key)
        r["state"] = "stopped"
        return self.view(r["id"])

    def archive(self, key: str) -> dict[str, Any]:
        r = self.find(key)
        if r["state"] != "stopped":
            raise Refused(400, "sandbox must be stopped before archiving")
        r["state"] = "archived"
        return self.view(r["id"])

    def labels(self, key: str, body: dict[str, Any]) -> dict[str, Any]:
        labels = SandboxLabels.from_dict(body)
        assert labels is not None
        self.find(key)["labels"] = dict(labels.labels)
        return labels.to_dict()

    def resize(self, key: str, body: dict[str, Any]) -> dict[str, Any]:
        resize = ResizeSandbox.from_dict(body)
        assert resize is not None
        r = self.find(key)
        r["cpu"], r["memory"] = resize.cpu or r["cpu"], resize.memory or r["memory"]
        return self.view(r["id"])

    def autostop(self, key: str, minutes: int) -> dict[str, Any]:
        r = self.find(key)
        r["autoStopInterval"] = minutes
        return self.view(r["id"])

    def execute(self, key: str, body: dict[str, Any]) -> dict[str, Any]:
        """Toolbox: run a command in the sandbox (recorded, not run)."""
        request = ExecuteRequest.from_dict(body)
        assert request is not None
        if request.additional_properties:
            raise Refused(400, f"unknown properties {sorted(request.additional_properties)}")
        r = self.find(key)
        if r["state"] != "started":
            raise Refused(400, f"sandbox {key} is {r['state']}, not started")
        self.executed.append((r["id"], request))
        return ExecuteResponse(exit_code=0, result="").to_dict()

    def executed_commands(self) -> list[dict[str, Any]]:
        """Fake-only (no such route on a real server): what the toolbox was asked to run, for
        a test that runs this fake in a container."""
        return [{"sandboxId": sid, **request.to_dict()} for sid, request in self.executed]

    # --- helpers -----------------------------------------------------------------------
    def find(self, key: str) -> dict[str, Any]:
        for r in self.sandboxes.values():
            if key in (r["id"], r["name"]):
                return r
        raise Refused(404, f"sandbox {key} not found")

    def view(self, sid: str) -> dict[str, Any]:
        return self.view_of(self.sandboxes[sid])

    @staticmethod
    def view_of(record: dict[str, Any]) -> dict[str, Any]:
        public = {k: v for k, v in record.items() if not k.startswith("_")}
        model = Sandbox.from_dict(public)  # the published model must accept what we answer
        assert model is not None
        return model.to_dict()

    def by_name_prefix(self, prefix: str) -> list[dict[str, Any]]:
        return [r for r in self.sandboxes.values() if r["name"].startswith(prefix)]


ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(r"^/sandbox$"), "create"),
    ("GET", re.compile(r"^/sandbox/([^/]+)$"), "get"),
    ("DELETE", re.compile(r"^/sandbox/([^/]+)$"), "delete"),
    ("POST", re.compile(r"^/sandbox/([^/]+)/stop$"), "stop"),
    ("POST", re.compile(r"^/sandbox/([^/]+)/archive$"), "archive"),
    ("PUT", re.compile(r"^/sandbox/([^/]+)/labels$"), "labels"),
    ("POST", re.compile(r"^/sandbox/([^/]+)/resize$"), "resize"),
    ("POST", re.compile(r"^/sandbox/([^/]+)/autostop/(\d+)$"), "autostop"),
    ("POST", re.compile(r"^/toolbox/([^/]+)/process/execute$"), "execute"),
    ("GET", re.compile(r"^/_fake/executed$"), "executed_commands"),
]


def _handler(fake: FakeDaytona) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _serve(self) -> None:
            path = self.path.split("?", 1)[0]
            fake.calls.append((self.command, path))
            try:
                if not path.startswith(fake.prefix):
                    raise Refused(404, f"no route {self.command} {path}")
                path = path[len(fake.prefix) :]
                if (self.command, path) == ("GET", "/health"):  # public, as the real one
                    self._send(200, {"status": "ok"})
                    return
                if (self.command, path) == ("GET", "/health/ready"):
                    if not fake.health_key or self.headers.get("Authorization") != (
                        f"Bearer {fake.health_key}"
                    ):
                        raise Refused(401, "Unauthorized")
                    self._send(200, {"status": "ok"})
                    return
                if self.headers.get("Authorization") != f"Bearer {fake.token}":
                    raise Refused(401, "Unauthorized")
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                for method, pattern, action in ROUTES:
                    match = pattern.match(path)
                    if method == self.command and match:
                        args: list[Any] = list(match.groups())
                        if action == "autostop":
                            args[1] = int(args[1])
                        if body is not None:
                            args.append(body)
                        with fake.lock:
                            answer = getattr(fake, action)(*args)
                        self._send(200, answer)
                        return
                raise Refused(404, f"no route {self.command} {path}")
            except Refused as r:
                self._send(r.status, {"statusCode": r.status, "message": str(r)})

        def _send(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

    return Handler


@contextmanager
def fake_daytona(**options: Any) -> Iterator[FakeDaytona]:
    fake = FakeDaytona(**options)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def serve_from_environment() -> None:
    """The API container's stand-in: the environment the fleet gives Daytona's API image."""
    env = os.environ
    toolbox = f"{env.get('PROXY_PROTOCOL', 'http')}://{env['PROXY_DOMAIN']}/toolbox"
    fake = FakeDaytona(
        token=env["ADMIN_API_KEY"],
        health_key=env["HEALTH_CHECK_API_KEY"],
        prefix="/api",
        toolbox_url=toolbox,
        start_polls=1,
    )
    server = ThreadingHTTPServer(("0.0.0.0", int(env.get("PORT", "3000"))), _handler(fake))
    fake.url = env.get("DASHBOARD_BASE_API_URL", "") + "/api"
    server.serve_forever()


if __name__ == "__main__":
    serve_from_environment()
