"""A private git repository over https with a token, standing in for GitHub: git's smart HTTP
protocol (`git http-backend`, the CGI program git ships) behind HTTP Basic authentication, on
TLS with a throwaway self-signed certificate. Only the token as the password gets in."""

from __future__ import annotations

import base64
import os
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.support.git_daemon import GitServer, answers, fixture_repository, local_port, wait_for


def _handler(root: Path, token: str, seen: list[str]) -> type[BaseHTTPRequestHandler]:
    wanted = "Basic " + base64.b64encode(f"x-access-token:{token}".encode()).decode()

    class GitHttp(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            seen.append(self.requestline)  # what a server log would hold

        def _serve(self) -> None:
            if self.headers.get("Authorization") != wanted:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="git"')
                self.end_headers()
                return
            path, _, query = self.path.partition("?")
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            env = {
                **os.environ, "GIT_PROJECT_ROOT": str(root), "GIT_HTTP_EXPORT_ALL": "1",
                "REQUEST_METHOD": self.command, "PATH_INFO": path, "QUERY_STRING": query,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)), "REMOTE_USER": "x-access-token",
                "REMOTE_ADDR": self.client_address[0],
            }  # fmt: skip
            out = subprocess.run(
                ["git", "http-backend"], input=body, env=env, capture_output=True, check=True
            ).stdout
            head, _, payload = out.partition(b"\r\n\r\n")
            headers = [line.split(": ", 1) for line in head.decode().split("\r\n") if line]
            status = next((int(v.split()[0]) for k, v in headers if k == "Status"), 200)
            self.send_response(status)
            for key, value in headers:
                if key != "Status":
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _serve

    return GitHttp


@contextmanager
def git_https(root: Path, address: str, token: str) -> Iterator[tuple[GitServer, list[str]]]:
    """proj.git (main, feature-a) on https://address:PORT/proj.git; yields the server and the
    request lines it logged."""
    heads = fixture_repository(root)
    cert, key = root / "cert.pem", root / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", f"/CN={address}", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    seen: list[str] = []
    server = ThreadingHTTPServer((address, local_port(address)), _handler(root, token, seen))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    try:
        wait_for(lambda: answers(address, port), "git https listening", 20, every_s=0.2)
        yield GitServer(f"https://{address}:{port}/proj.git", heads), seen
    finally:
        server.shutdown()
        server.server_close()
