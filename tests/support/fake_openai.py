"""A local fake of an OpenAI-compatible chat-completions server (not the real llama-server).

It answers POST /v1/chat/completions with the documented response shape, records each request,
can be told to fail the next N requests with given HTTP statuses, to stall, and can be stopped
and started again on the same port to play a model server that was killed and came back.

Scripted: `scripts[prompt]` is the list of assistant messages (content and/or tool_calls) it
answers a task with that prompt, one per request, in order; after the last it answers with
text only. Every request is checked against the chat-completions shape (validate_request):
a bad one gets HTTP 400 and is kept in `violations`.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeOpenAIServer:
    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        self.port = port
        self.host = host  # loopback, or a test network's bridge address for containers
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.fail_next: list[int] = []
        self.raw_reply: bytes | None = None  # send this body instead of a well-formed reply
        self.scripts: dict[str, list[dict[str, Any]]] = {}
        self.violations: list[str] = []
        self.usage = (7, 5)  # (prompt, completion) tokens reported per reply
        self.stall = threading.Event()  # while set, requests hang until release
        self.release = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

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
                    problem = validate_request(body)
                    if problem:
                        fake.violations.append(problem)
                        status = 400
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

        server = ThreadingHTTPServer((self.host, self.port), Handler)
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

    def reply(self, request: dict[str, Any]) -> bytes:
        user = [m["content"] for m in request["messages"] if m["role"] == "user"][-1]
        message: dict[str, Any] = {"role": "assistant", "content": f"fake-openai reply to: {user}"}
        with self._lock:
            script = self.scripts.get(user)
            if script:
                message = {"role": "assistant", "content": "", **script.pop(0)}
        prompt_tokens, completion_tokens = self.usage
        return json.dumps(
            {
                "id": "chatcmpl-fake-1",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": request["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": message,
                        "finish_reason": "tool_calls" if message.get("tool_calls") else "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            }
        ).encode()


def tool_call(call_id: str, name: str, **arguments: Any) -> dict[str, Any]:
    """One entry of an assistant message's `tool_calls`, as the API writes it."""
    return {"id": call_id, "type": "function",
            "function": {"name": name, "arguments": json.dumps(arguments)}}  # fmt: skip


ROLES = {"system", "user", "assistant", "tool"}


def validate_request(body: Any) -> str | None:
    """What is wrong with a chat-completions request, or None: the model, the message list and
    its roles, each tool call answered by a tool message (by id, before the next turn), and the
    tools as function definitions with an object schema."""
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        return "no model"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages must be a non-empty list"
    pending: list[str] = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ROLES:
            return f"messages[{i}] has no valid role"
        if m["role"] == "tool":
            if m.get("tool_call_id") not in pending:
                return f"messages[{i}] answers no pending tool call"
            pending.remove(m["tool_call_id"])
            if not isinstance(m.get("content"), str):
                return f"messages[{i}] (tool) content must be text"
            continue
        if pending:
            return f"messages[{i}] comes before tool results for {pending}"
        if m["role"] == "assistant":
            pending = [c["id"] for c in m.get("tool_calls") or []]
        elif not isinstance(m.get("content"), str):
            return f"messages[{i}] content must be text"
    for j, tool in enumerate(body.get("tools") or []):
        fn = tool.get("function") if isinstance(tool, dict) else None
        if tool.get("type") != "function" or not isinstance(fn, dict) or not fn.get("name"):
            return f"tools[{j}] is not a function"
        if (fn.get("parameters") or {}).get("type") != "object":
            return f"tools[{j}] parameters are not an object schema"
    return None
