"""JSON HTTP API: submit tasks, read them back, and report the supervisor's own health."""

from __future__ import annotations

import hmac
import json
import logging
import re
import sys
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .queue import TaskQueue
from .task import ENDED, STATUSES, Status
from .worker import WorkerPool

log = logging.getLogger("supervisor.api")

MAX_BODY_BYTES = 1024 * 1024
MAX_SENDER_CHARS = 200
# Docker's container-name alphabet: safe to substitute into a cli argv (no leading '-').
SANDBOX_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
TASK_FIELDS = ("sender", "sandbox", "prompt")
LIST_PARAMS = ("status", "sandbox", "limit")
MAX_LIST_LIMIT = 1000


class BadRequest(ValueError):
    def __init__(self, message: str, status: HTTPStatus = HTTPStatus.BAD_REQUEST) -> None:
        super().__init__(message)
        self.status = status


def validate_task_body(body: Any) -> tuple[str, str, str]:
    """Return (sender, sandbox, prompt) of a POST /tasks body; BadRequest names the bad field."""
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object with fields sender, sandbox, prompt")
    unknown = sorted(set(body) - set(TASK_FIELDS))
    if unknown:
        raise BadRequest(
            f"unknown field(s): {', '.join(unknown)}; allowed: sender, sandbox, prompt"
        )
    for name in TASK_FIELDS:
        if name not in body:
            raise BadRequest(f"field '{name}' is required")
        if not isinstance(body[name], str):
            raise BadRequest(f"field '{name}' must be a string, got {type(body[name]).__name__}")
        if not body[name].strip():
            raise BadRequest(f"field '{name}' must not be empty")
    sender, sandbox, prompt = body["sender"], body["sandbox"], body["prompt"]
    if len(sender) > MAX_SENDER_CHARS:
        raise BadRequest(f"field 'sender' is longer than {MAX_SENDER_CHARS} characters")
    if not SANDBOX_NAME.fullmatch(sandbox):
        raise BadRequest(
            f"field 'sandbox' is not a valid sandbox name: {sandbox[:80]!r} "
            "(letters, digits, '_', '.', '-'; must start with a letter or digit; max 128)"
        )
    return sender, sandbox, prompt


def parse_list_query(query: str) -> tuple[Status | None, str | None, int]:
    params = urllib.parse.parse_qs(query, keep_blank_values=True)
    unknown = sorted(set(params) - set(LIST_PARAMS))
    if unknown:
        raise BadRequest(
            f"unknown query parameter(s): {', '.join(unknown)}; allowed: {', '.join(LIST_PARAMS)}"
        )
    for name, values in params.items():
        if len(values) != 1:
            raise BadRequest(f"query parameter '{name}' given more than once")
    status = params.get("status", [None])[0]
    if status is not None and status not in STATUSES:
        raise BadRequest(f"query parameter 'status'={status!r} is not one of {', '.join(STATUSES)}")
    limit_text = params.get("limit", ["100"])[0]
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_LIST_LIMIT:
        raise BadRequest(f"query parameter 'limit' must be an integer 1..{MAX_LIST_LIMIT}")
    sandbox = params.get("sandbox", [None])[0]
    return status, sandbox, int(limit_text)


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        queue: TaskQueue,
        pool: WorkerPool,
        runtime_name: str,
        api_token: str = "",
    ) -> None:
        self.queue = queue
        self.pool = pool
        self.runtime_name = runtime_name
        self.api_token = api_token
        super().__init__(address, Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Instead of socketserver's multi-line traceback on stderr: one JSON line.
        exc = sys.exc_info()[1]
        log.warning(
            f"connection error: {exc!r}",
            extra={"fields": {"event": "http_error", "client": str(client_address)}},
        )


class Handler(BaseHTTPRequestHandler):
    server: ApiServer
    protocol_version = "HTTP/1.1"
    server_version = "sandbox-fleet-supervisor"
    timeout = 30  # a stalled client must not hold a thread forever

    def log_message(self, format: str, *args: Any) -> None:
        fields = {"event": "http", "client": self.client_address[0]}
        log.debug(format % args, extra={"fields": fields})

    def _send(
        self, status: HTTPStatus, payload: Any, headers: dict[str, str] | None = None
    ) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _error(
        self, status: HTTPStatus, message: str, headers: dict[str, str] | None = None
    ) -> None:
        self._send(status, {"error": message}, headers)

    def _dispatch(self, method: str) -> None:
        url = urllib.parse.urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        try:
            if path == "/health":
                self._only(method, "GET")
                self._health()
            elif path == "/tasks":
                self._only(method, "GET", "POST")
                self._authorize()
                if method == "POST":
                    self._create()
                else:
                    self._list(url.query)
            elif path.startswith("/tasks/") and path.endswith("/cancel"):
                self._only(method, "POST")
                self._authorize()
                self._cancel(path.removeprefix("/tasks/").removesuffix("/cancel"))
            elif path.startswith("/tasks/"):
                self._only(method, "GET")
                self._authorize()
                self._get(path.removeprefix("/tasks/"))
            else:
                self._error(HTTPStatus.NOT_FOUND, f"no route for {path}")
        except BadRequest as exc:
            extra = {"Allow": exc.allow} if isinstance(exc, MethodNotAllowed) else {}
            if isinstance(exc, Unauthorized):
                extra["WWW-Authenticate"] = "Bearer"
            self.close_connection = True  # the body may be unread
            self._error(exc.status, str(exc), extra)
        except Exception:
            log.exception("request failed", extra={"fields": {"method": method, "path": path}})
            self.close_connection = True
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error")

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def _only(self, method: str, *allowed: str) -> None:
        if method not in allowed:
            raise MethodNotAllowed(method, allowed)

    def _authorize(self) -> None:
        token = self.server.api_token
        if not token:
            return
        given = self.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise Unauthorized("missing or wrong bearer token")

    def _health(self) -> None:
        pool = self.server.pool
        payload: dict[str, Any] = {
            "status": "ok",
            "runtime": self.server.runtime_name,
            "workers": pool.alive(),
        }
        try:
            self.server.queue.ping()
        except Exception as exc:
            payload.update(status="unhealthy", reason=f"queue database: {exc}")
        if pool.alive() < pool.size:
            payload.update(
                status="unhealthy", reason=f"{pool.size - pool.alive()} worker thread(s) stopped"
            )
        ok = payload["status"] == "ok"
        self._send(HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE, payload)

    def _read_json(self) -> Any:
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            # Also stops browsers from posting cross-site "simple" (form/text) requests.
            raise BadRequest(
                "Content-Type must be application/json", HTTPStatus.UNSUPPORTED_MEDIA_TYPE
            )
        length_text = self.headers.get("Content-Length")
        if length_text is None or not length_text.isdigit():
            raise BadRequest("Content-Length is required", HTTPStatus.LENGTH_REQUIRED)
        length = int(length_text)
        if length > MAX_BODY_BYTES:
            raise BadRequest(
                f"body larger than {MAX_BODY_BYTES} bytes", HTTPStatus.REQUEST_ENTITY_TOO_LARGE
            )
        raw = self.rfile.read(length)
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise BadRequest(f"body is not valid JSON: {exc}") from None

    def _create(self) -> None:
        sender, sandbox, prompt = validate_task_body(self._read_json())
        task = self.server.queue.enqueue(sender, sandbox, prompt)
        self.server.pool.notify()
        log.info(
            "task queued",
            extra={
                "fields": {
                    "event": "queued",
                    "task_id": task.id,
                    "sandbox": sandbox,
                    "sender": sender,
                    "prompt_chars": len(prompt),
                }
            },
        )
        self._send(HTTPStatus.CREATED, task.to_json(), {"Location": f"/tasks/{task.id}"})

    def _list(self, query: str) -> None:
        status, sandbox, limit = parse_list_query(query)
        tasks = self.server.queue.list_tasks(status=status, sandbox=sandbox, limit=limit)
        self._send(HTTPStatus.OK, {"tasks": [t.to_json() for t in tasks]})

    def _get(self, ident: str) -> None:
        task = self.server.queue.get(_task_id(ident))
        if task is None:
            self._error(HTTPStatus.NOT_FOUND, f"task {ident} not found")
            return
        self._send(HTTPStatus.OK, {**task.to_json(), "steps": self.server.queue.steps(task.id)})

    def _cancel(self, ident: str) -> None:
        """202 while a running task stops, 200 once it is cancelled, 409 if it had ended."""
        task_id = _task_id(ident)
        before = self.server.queue.get(task_id)
        if before is None:
            self._error(HTTPStatus.NOT_FOUND, f"task {ident} not found")
            return
        if before.status in ENDED:
            self._error(HTTPStatus.CONFLICT, f"task {ident} has ended ({before.status})")
            return
        task = self.server.queue.request_cancel(task_id)
        assert task is not None
        if task.status == "running":
            self.server.pool.cancel(task_id)
            self._send(HTTPStatus.ACCEPTED, task.to_json())
        else:
            self._send(HTTPStatus.OK, task.to_json())


def _task_id(ident: str) -> int:
    if not (ident.isascii() and ident.isdigit() and len(ident) <= 18):
        raise BadRequest(f"task id must be a positive integer, got {ident[:40]!r}")
    return int(ident)


class MethodNotAllowed(BadRequest):
    def __init__(self, method: str, allowed: tuple[str, ...]) -> None:
        super().__init__(
            f"method {method} not allowed; use {', '.join(allowed)}", HTTPStatus.METHOD_NOT_ALLOWED
        )
        self.allow = ", ".join(allowed)


class Unauthorized(BadRequest):
    def __init__(self, message: str) -> None:
        super().__init__(message, HTTPStatus.UNAUTHORIZED)
