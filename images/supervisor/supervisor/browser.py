"""The desktop's own Chromium, driven through its DevTools protocol: the builtin runtime's
browser tools in a visual sandbox.

DevTools listens on 127.0.0.1 inside the sandbox only, and asks for no credential of its own:
the supervisor reaches it through its SSH channel (a local forward, SandboxShell.forward), so
the only ways in are being in that sandbox or holding the fleet's SSH key. The client is
websocket-client (Debian's python3-websocket); each tool call opens the page's connection,
does its work and closes it again, so a restarted browser costs one call nothing.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from .errors import AgentError
from .sandbox_shell import SandboxShell

TIMEOUT_S = 30.0
SETTLE_S = 0.5  # after `load`: let the page paint before a screenshot


class Browser:
    def __init__(
        self, shell: SandboxShell, devtools_port: int, save: Callable[[bytes], str]
    ) -> None:
        self.shell = shell
        self.devtools_port = devtools_port
        self.save = save  # PNG bytes -> where it was saved (for the transcript)

    def open(self, url: str) -> str:
        with self._page() as page:
            page.call("Page.navigate", url=url)
            state = page.wait_loaded()
            return f"opened {state['url']} (title: {state['title']!r})"

    def screenshot(self) -> tuple[str, str]:
        """(what the model is told, the saved file)."""
        with self._page() as page:
            page.wait_loaded()
            time.sleep(SETTLE_S)
            data = base64.b64decode(page.call("Page.captureScreenshot", format="png")["data"])
        saved = self.save(data)
        return f"saved a screenshot of {page.url} as {saved} ({len(data)} bytes)", saved

    def click(self, selector: str) -> str:
        with self._page() as page:
            return page.on_element(selector, "element.click(); return 'clicked';")

    def type(self, selector: str, text: str) -> str:
        with self._page() as page:
            page.on_element(selector, "element.focus(); return 'focused';")
            page.call("Input.insertText", text=text)
            return f"typed {len(text)} characters into {selector}"

    def _page(self) -> _Page:
        return _Page(self.shell, self.devtools_port)


class _Page:
    """One connection to the desktop's first page target."""

    def __init__(self, shell: SandboxShell, devtools_port: int) -> None:
        self.shell = shell
        self.devtools_port = devtools_port
        self.url = ""
        self._next = 0

    def __enter__(self) -> _Page:
        import websocket

        self._forward = self.shell.forward(self.devtools_port)
        port = self._forward.__enter__()
        listed = urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=TIMEOUT_S)
        pages = [t for t in json.load(listed) if t.get("type") == "page"]
        if not pages:
            raise AgentError("the desktop's browser has no page open")
        self.url = pages[0].get("url", "")
        ws_url = pages[0]["webSocketDebuggerUrl"].replace(f":{self.devtools_port}/", f":{port}/", 1)
        # No Origin header: Chromium refuses DevTools connections from origins it was not told.
        self._ws = websocket.create_connection(ws_url, timeout=TIMEOUT_S, suppress_origin=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self._ws.close()
        self._forward.__exit__(None, None, None)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._next += 1
        self._ws.send(json.dumps({"id": self._next, "method": method, "params": params}))
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            message = json.loads(self._ws.recv())
            if message.get("id") != self._next:
                continue  # an event
            if "error" in message:
                raise AgentError(f"browser: {method}: {message['error'].get('message')}")
            result: dict[str, Any] = message.get("result", {})
            return result
        raise AgentError(f"browser: {method} got no answer in {TIMEOUT_S:g} s")

    def evaluate(self, expression: str) -> Any:
        done = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in done:
            raise AgentError(f"browser: {done['exceptionDetails'].get('text', 'script error')}")
        return done.get("result", {}).get("value")

    def wait_loaded(self) -> dict[str, str]:
        deadline = time.monotonic() + TIMEOUT_S
        state = self.evaluate(_STATE)
        while state["ready"] != "complete" and time.monotonic() < deadline:
            time.sleep(0.2)
            state = self.evaluate(_STATE)
        self.url = state["url"]
        return dict(state)

    def on_element(self, selector: str, body: str) -> str:
        script = (
            f"(() => {{ const element = document.querySelector({json.dumps(selector)}); "
            f"if (!element) return null; {body} }})()"
        )
        done = self.evaluate(script)
        if done is None:
            return f"error: no element matches {selector!r} on {self.url}"
        return f"{done} {selector}"


_STATE = "({ready: document.readyState, url: location.href, title: document.title})"
