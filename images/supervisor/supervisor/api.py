"""JSON HTTP API: submit tasks and read them back, the workload and the fleet, the supervisor's
own health; and the web page of the fleet (its files carry no data: the page asks the API,
with the token it is given in the URL's fragment)."""

from __future__ import annotations

import hmac
import json
import logging
import sys
import urllib.parse
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .books import Book
from .validation import (
    BadRequest,
    MethodNotAllowed,
    Unauthorized,
    parse_hours,
    parse_list_query,
    task_id,
    validate_task_body,
)
from .views import Views

log = logging.getLogger("supervisor.api")

MAX_BODY_BYTES = 1024 * 1024
WEB = Path(__file__).resolve().parent / "web"
WEB_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
# The page runs only its own files and talks only to this server.
WEB_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}
Health = Callable[[], dict[str, Any]]  # {"status": "ok" | "unhealthy", ...}


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], book: Book, views: Views, health: Health, api_token: str
    ) -> None:
        self.book = book
        self.views = views
        self.health = health
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

    def _reply(
        self, status: HTTPStatus, body: bytes, content_type: str, headers: dict[str, str]
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _send(
        self, status: HTTPStatus, payload: Any, headers: dict[str, str] | None = None
    ) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self._reply(status, body, "application/json", headers or {})

    def _dispatch(self, method: str) -> None:
        url = urllib.parse.urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        try:
            self._route(method, path, url.query, url.path)
        except BadRequest as exc:
            extra = {"Allow": exc.allow} if isinstance(exc, MethodNotAllowed) else {}
            if isinstance(exc, Unauthorized):
                extra["WWW-Authenticate"] = "Bearer"
            self.close_connection = True  # the body may be unread
            self._send(exc.status, {"error": str(exc)}, extra)
        except Exception:
            log.exception("request failed", extra={"fields": {"method": method, "path": path}})
            self.close_connection = True
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "internal error"})

    def _route(self, method: str, path: str, query: str, raw_path: str) -> None:
        if path == "/health":
            self._only(method, "GET")
            payload = self.server.health()
            ok = payload["status"] == "ok"
            self._send(HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE, payload)
        elif path in ("/", "/ui") or path.startswith("/ui/"):
            self._only(method, "GET")
            self._web(raw_path)
        elif path in ("/stats", "/fleet"):
            self._only(method, "GET")
            self._authorize()
            views = self.server.views
            view = views.stats if path == "/stats" else views.fleet_view
            self._send(HTTPStatus.OK, view(parse_hours(query)))
        elif path == "/tasks":
            self._only(method, "GET", "POST")
            self._authorize()
            if method == "POST":
                self._create()
            else:
                status, sandbox, limit = parse_list_query(query)
                self._send(HTTPStatus.OK, {"tasks": self.server.book.list(status, sandbox, limit)})
        elif path.startswith("/tasks/") and path.endswith("/cancel"):
            self._only(method, "POST")
            self._authorize()
            ident = task_id(path.removeprefix("/tasks/").removesuffix("/cancel"))
            self._send(*self.server.book.cancel(ident))
        elif path.startswith("/tasks/"):
            self._only(method, "GET")
            self._authorize()
            ident = task_id(path.removeprefix("/tasks/"))
            if (task := self.server.book.get(ident)) is None:
                raise BadRequest(f"task {ident} not found", HTTPStatus.NOT_FOUND)
            self._send(HTTPStatus.OK, task)
        else:
            raise BadRequest(f"no route for {path}", HTTPStatus.NOT_FOUND)

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

    def _web(self, path: str) -> None:
        """The page's own files; `/` leads to it (a browser keeps the #token fragment)."""
        if not path.startswith("/ui/"):
            self._reply(HTTPStatus.FOUND, b"", "text/plain", {"Location": "/ui/"})
            return
        name = path.removeprefix("/ui/") or "index.html"
        file = WEB / name
        if "/" in name or file.suffix not in WEB_TYPES or not file.is_file():
            raise BadRequest(f"no route for {path}", HTTPStatus.NOT_FOUND)
        self._reply(HTTPStatus.OK, file.read_bytes(), WEB_TYPES[file.suffix], WEB_HEADERS)

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
        task = self.server.book.create(sender, sandbox, prompt)
        self._send(HTTPStatus.CREATED, task, {"Location": f"/tasks/{task['id']}"})
