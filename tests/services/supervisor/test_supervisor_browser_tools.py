"""The builtin runtime's browser tools, with Debian's real Chromium (headless, on loopback) as a
visual stand-in sandbox's desktop browser: open a page, screenshot it (saved to the logs), click
and type by selector. The pages come from a local HTTP server on loopback. The same tools on a
real desktop sandbox, through SSH: tests/e2e/test_agents_real_engine.py."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.integration.png import decode_png
from tests.support.fake_openai import FakeOpenAIServer, tool_call

from .conftest import LocalSandboxes, StartSupervisor, wait_until

PAGE = b"""<!doctype html><title>shop</title>
<style>body { background: rgb(200, 30, 30); margin: 0; height: 100vh }</style>
<input id="q"><button id="go" onclick="document.body.style.background='rgb(30, 160, 60)';
document.title = 'searched ' + document.getElementById('q').value">go</button>"""


@pytest.fixture
def page_url() -> Iterator[str]:
    class Page(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/shop.html"
    server.shutdown()


@pytest.fixture
def desktop(tmp_path: Path) -> Iterator[int]:
    """Debian's Chromium with DevTools on a loopback port, as a desktop sandbox runs it."""
    binary = shutil.which("chromium")
    if binary is None:
        pytest.fail("chromium is not installed (scripts/test installs Debian's chromium)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    browser = subprocess.Popen(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--remote-debugging-port={port}", f"--user-data-dir={tmp_path / 'profile'}",
         "--window-size=800,600", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until(lambda: _answers(port), "Chromium's DevTools")
        yield port
    finally:
        browser.kill()
        browser.wait(timeout=10)


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_a_visual_sandboxs_agent_opens_screenshots_clicks_and_types(
    start_supervisor: StartSupervisor, sandboxes: LocalSandboxes, desktop: int, page_url: str,
    tmp_path: Path,
) -> None:  # fmt: skip
    sandboxes.desktops["ui"] = desktop
    model = FakeOpenAIServer().start()
    model.scripts["look at the shop"] = [
        {"tool_calls": [tool_call("1", "browser_open", url=page_url)]},
        {"tool_calls": [tool_call("2", "browser_screenshot")]},
        {"tool_calls": [tool_call("3", "browser_type", selector="#q", text="shoes")]},
        {"tool_calls": [tool_call("4", "browser_click", selector="#go")]},
        {"tool_calls": [tool_call("5", "browser_click", selector="#missing")]},
        {"tool_calls": [tool_call("6", "browser_screenshot")]},
        {"tool_calls": [tool_call("7", "finish", summary="looked at the shop")]},
    ]
    try:
        _, api = start_supervisor(SUPERVISOR_RUNTIME="builtin", MODEL_URL=model.base_url)
        task = api.wait_status(api.submit("look at the shop", sandbox="ui"), "done", "failed")
    finally:
        model.stop()
    assert task["status"] == "done", task
    assert model.violations == []
    tools = [s for s in task["steps"] if s["kind"] == "tool"]
    assert tools[0]["output"] == f"opened {page_url} (title: 'shop')"
    assert tools[2]["output"] == "typed 5 characters into #q"
    assert tools[3]["output"] == "clicked #go"
    assert tools[4]["output"].startswith("error: no element matches '#missing'")
    shots = [s["screenshot"] for s in tools if "screenshot" in s]
    assert shots == [f"screenshots/task-{task['id']}-1.png", f"screenshots/task-{task['id']}-2.png"]
    before, after = (decode_png((tmp_path / "logs" / shot).read_bytes()) for shot in shots)
    assert tuple(before[300, 400][:3]) == (200, 30, 30), "the page before the click"
    assert tuple(after[300, 400][:3]) == (30, 160, 60), "the click changed the page"
    # The model was offered the browser tools only because this sandbox is visual.
    offered = {t["function"]["name"] for t in model.requests[0]["tools"]}
    assert {"browser_open", "browser_screenshot", "browser_click", "browser_type"} <= offered


def test_a_headless_sandboxs_agent_gets_no_browser_tools(
    start_supervisor: StartSupervisor, sandboxes: LocalSandboxes
) -> None:
    model = FakeOpenAIServer().start()
    try:
        _, api = start_supervisor(SUPERVISOR_RUNTIME="builtin", MODEL_URL=model.base_url)
        api.wait_status(api.submit("hello", sandbox="batch"), "done")
    finally:
        model.stop()
    offered = {t["function"]["name"] for t in model.requests[0]["tools"]}
    assert not any(name.startswith("browser_") for name in offered)
