"""Chat completions with tools against an OpenAI-compatible server (the fleet's llama-server, run
with --jinja for tool calls, or an external endpoint). Only the documented request and response
shapes are used: `messages`, `tools`, `choices[0].message` with `content` and `tool_calls`,
and `usage`."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from .errors import AgentError, TransientAgentError

# 408/429 mean "not now", like a 5xx; other 4xx mean the request itself is wrong.
_RETRYABLE_4XX = frozenset({408, 429})
_DETAIL_CHARS = 500


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON text, as the model wrote it


@dataclass(frozen=True)
class Reply:
    message: dict[str, Any]  # the assistant message, to send back with the next request
    content: str
    tool_calls: tuple[ToolCall, ...]
    prompt_tokens: int
    completion_tokens: int


def _detail(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace").strip()
    return text[-_DETAIL_CHARS:] if text else "(empty body)"


def parse_reply(payload: Any) -> Reply:
    """The assistant's message of a chat-completions response, or AgentError saying what is
    missing."""
    try:
        message = payload["choices"][0]["message"]
    except (KeyError, IndexError, TypeError):
        raise AgentError("malformed chat-completions response: no choices[0].message") from None
    if not isinstance(message, dict):
        raise AgentError("malformed chat-completions response: message is not an object")
    content = message.get("content") or ""
    if not isinstance(content, str):
        raise AgentError("malformed chat-completions response: content is not text")
    calls = []
    for raw in message.get("tool_calls") or []:
        try:
            function = raw["function"]
            calls.append(ToolCall(str(raw["id"]), str(function["name"]),
                                  str(function.get("arguments") or "{}")))  # fmt: skip
        except (KeyError, TypeError):
            raise AgentError(f"malformed tool call in the response: {raw!r:.200}") from None
    usage = payload.get("usage") or {}
    kept: dict[str, Any] = {"role": "assistant", "content": content}
    if calls:
        kept["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in calls
        ]
    return Reply(
        kept,
        content,
        tuple(calls),
        int(usage.get("prompt_tokens") or 0),
        int(usage.get("completion_tokens") or 0),
    )


class ChatClient:
    def __init__(
        self, base_url: str, model: str, api_key: str, timeout: float, max_tokens: int
    ) -> None:
        self.endpoint = f"{base_url.rstrip('/')}/chat/completions"
        self.model = model
        self.timeout = timeout
        self.max_tokens = max_tokens
        self._api_key = api_key

    def __repr__(self) -> str:  # never show the key
        return f"ChatClient(endpoint={self.endpoint!r}, model={self.model!r})"

    def check(self) -> None:
        parts = urllib.parse.urlsplit(self.endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise AgentError(f"MODEL_URL {self.endpoint!r} is not an http(s) URL with a host")

    def complete(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], timeout: float
    ) -> Reply:
        body = {
            "model": self.model,
            "messages": messages,
            "tools": tools,
            "stream": False,
            "max_tokens": self.max_tokens,
        }
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        request = urllib.request.Request(
            self.endpoint, data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=min(timeout, self.timeout)) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            message = f"model server returned HTTP {exc.code}: {_detail(exc.read())}"
            if exc.code >= 500 or exc.code in _RETRYABLE_4XX:
                raise TransientAgentError(message) from None
            raise AgentError(message) from None
        except urllib.error.URLError as exc:
            raise TransientAgentError(
                f"model server unreachable at {self.endpoint}: {exc.reason}"
            ) from None
        except (TimeoutError, ConnectionError, http.client.HTTPException) as exc:
            raise TransientAgentError(
                f"model server connection failed at {self.endpoint}: {type(exc).__name__}: {exc}"
            ) from None
        try:
            payload = json.loads(raw)
        except ValueError:
            raise AgentError(f"model server sent a non-JSON response: {_detail(raw)}") from None
        return parse_reply(payload)
