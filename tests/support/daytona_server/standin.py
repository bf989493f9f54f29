#!/usr/bin/env python3
"""A stand-in for a service of the fleet's own Daytona server (tests only; see standin.Dockerfile).

Listens on every port Daytona's services use and answers any GET with 200. With the proxy's
environment (DAYTONA_API_URL and PROXY_PORT), requests under /toolbox/ are forwarded to the API
at DAYTONA_API_URL + the path, as Daytona's proxy routes the toolbox (the fake API answers it).
Arguments are ignored: the fleet gives each service its own command.
"""

from __future__ import annotations

import os
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORTS = (2222, 3003, 4000, 5001, 5432, 5556, 6000, 6379, 9000)
API = os.environ.get("DAYTONA_API_URL", "") if os.environ.get("PROXY_PORT") else ""


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def _answer(self) -> None:
        if API and self.path.startswith("/toolbox/"):
            self._forward()
            return
        body = b'{"status":"ok"}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else None
        request = urllib.request.Request(API + self.path, data=data, method=self.command)
        for name in ("Authorization", "Content-Type"):
            if self.headers.get(name):
                request.add_header(name, self.headers[name])
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                status, body = answer.status, answer.read()
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = _answer


def main() -> None:
    servers = [ThreadingHTTPServer(("0.0.0.0", port), Handler) for port in PORTS]
    for server in servers[1:]:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    servers[0].serve_forever()


if __name__ == "__main__":
    main()
