"""Chat completions against an OpenAI-compatible server (llama.cpp's llama-server by default)."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from ..task import Task
from .base import AgentError, TransientAgentError

# 408/429 mean "not now", like a 5xx; other 4xx mean the request itself is wrong.
_RETRYABLE_4XX = frozenset({408, 429})
_DETAIL_CHARS = 500


def _detail(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace").strip()
    return text[-_DETAIL_CHARS:] if text else "(empty body)"


def extract_content(payload: Any) -> str:
    """Return ``choices[0].message.content`` of a chat-completions response, or raise."""
    try:
        content = payload["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise AgentError(
            "malformed chat-completions response: no choices[0].message.content"
        ) from None
    if not isinstance(content, str):
        raise AgentError(
            f"malformed chat-completions response: content is {type(content).__name__}, not text"
        )
    return content


class OpenAIRuntime:
    name = "openai"

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str = "",
        timeout: float = 300.0,
        system_prompt: str = "",
        max_tokens: int = 1024,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.endpoint = f"{self.base_url}/chat/completions"
        self.model = model
        self.timeout = timeout
        self.system_prompt = system_prompt
        self.max_tokens = max_tokens
        self._api_key = api_key

    def __repr__(self) -> str:  # never show the key
        return f"OpenAIRuntime(endpoint={self.endpoint!r}, model={self.model!r})"

    def initialize(self) -> None:
        # The model server may legitimately still be loading: only the URL is checked here,
        # reachability is the retry loop's business.
        parts = urllib.parse.urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise AgentError(f"MODEL_URL={self.base_url!r} is not an http(s) URL with a host")

    def _request(self, task: Task) -> urllib.request.Request:
        messages = []
        if self.system_prompt:
            messages.append({"role": "system", "content": self.system_prompt})
        messages.append({"role": "user", "content": task.prompt})
        body = {
            "model": self.model,
            "messages": messages,
            "stream": False,
            "max_tokens": self.max_tokens,
        }
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return urllib.request.Request(
            self.endpoint, data=json.dumps(body).encode("utf-8"), headers=headers, method="POST"
        )

    def execute(self, task: Task) -> str:
        request = self._request(task)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            message = f"model server returned HTTP {exc.code}: {_detail(exc.read())}"
            if exc.code >= 500 or exc.code in _RETRYABLE_4XX:
                raise TransientAgentError(message) from None
            raise AgentError(message) from None
        except urllib.error.URLError as exc:
            # Connection refused, name not resolvable (container down), connect timeout.
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
        return extract_content(payload)

    def terminate(self) -> None:
        pass
