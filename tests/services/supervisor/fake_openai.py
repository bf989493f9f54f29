"""A local fake of an OpenAI-compatible chat-completions server (not the real llama-server).

It answers POST /v1/chat/completions with the documented response shape, records each request,
can be told to fail the next N requests with given HTTP statuses, to stall, and can be stopped
and started again on the same port to play a model server that was killed and came back.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeOpenAIServer:
    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.fail_next: list[int] = []
        self.raw_reply: bytes | None = None  # send this body instead of a well-formed reply
        self.stall = threading.Event()  # while set, requests hang until release
        self.release = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FakeOpenAIServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with fake._lock:
                    fake.requests.append(body)
                    fake.headers.append(dict(self.headers))
                    status = fake.fail_next.pop(0) if fake.fail_next else 200
                if fake.stall.is_set():
                    fake.release.wait(30)
                if self.path != "/v1/chat/completions":
                    status = 404
                payload = (
                    fake.reply(body)
                    if status == 200
                    else json.dumps(
                        {
                            "error": {
                                "code": status,
                                "message": "fake-openai failure",
                                "type": "server_error",
                            }
                        }
                    ).encode()
                )
                if status == 200 and fake.raw_reply is not None:
                    payload = fake.raw_reply
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(payload)  # the client may have timed out and left

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self.release.set()
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @staticmethod
    def reply(request: dict[str, Any]) -> bytes:
        user = [m["content"] for m in request["messages"] if m["role"] == "user"][-1]
        content = f"fake-openai reply to: {user}"
        return json.dumps(
            {
                "id": "chatcmpl-fake-1",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": request["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": len(user.split()),
                    "completion_tokens": 5,
                    "total_tokens": len(user.split()) + 5,
                },
            }
        ).encode()
