"""The fleet's web page at headquarters, in Debian's real headless Chromium: it needs the API
token (from the URL fragment), then shows the hosts, their sandboxes, the tasks with their
transcripts and the tokens per hour. Screenshots go to the test's directory."""

from __future__ import annotations

import json
import shutil
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.integration.cdp import Chromium, Page
from tests.integration.png import decode_png

from .bus_fleet import FakeClock, TwoHosts
from .conftest import Http, StartSupervisor, wait_until


@pytest.fixture
def browser(tmp_path: Path) -> Any:
    if shutil.which("chromium") is None:
        pytest.fail("chromium is not installed (scripts/test installs Debian's chromium)")
    with Chromium(tmp_path / "profile") as chromium:
        yield chromium


def _text(page: Page, selector: str) -> str:
    return str(page.evaluate(f"document.querySelector({json.dumps(selector)})?.innerText ?? ''"))


def _shot(page: Page, path: Path) -> tuple[int, int]:
    png = page.screenshot()
    path.write_bytes(png)
    height, width, _ = decode_png(png).shape
    return width, height


def test_the_page_asks_for_the_token_and_refuses_a_wrong_one(
    hosts: TwoHosts, browser: Chromium, tmp_path: Path
) -> None:
    _, hq = hosts.start("hq")
    page = browser.new_page(1000, 500)
    page.navigate(f"{hq.base}/")  # `/` leads to /ui/
    wait_until(lambda: "API token" in _text(page, "#message"), "the page to ask for a token")
    assert page.evaluate("location.pathname") == "/ui/"
    assert _text(page, "#hosts tbody") == ""  # nothing of the fleet without the token
    page.navigate(f"{hq.base}/ui/#token=wrong")
    wait_until(lambda: "refused this token (401)" in _text(page, "#message"), "the 401 message")
    _shot(page, tmp_path / "fleet-refused.png")


def test_headquarters_page_shows_hosts_sandboxes_tasks_transcripts_and_tokens(
    hosts: TwoHosts, browser: Chromium, tmp_path: Path
) -> None:
    clock = FakeClock()
    _, hq = hosts.start("hq", clock=clock)
    hosts.start("desk", clock=clock)
    ids = _work(hq, clock)
    page = browser.new_page(1280, 1400)
    page.navigate(f"{hq.base}/ui/#token={hq.token}")
    wait_until(lambda: page.evaluate("document.body.dataset.loaded") == "yes", "the fleet view")
    rows = page.evaluate(
        "[...document.querySelectorAll('#hosts tbody tr')].map(r => [...r.cells].map(c => "
        "c.innerText.trim()))"
    )
    assert [r[0] for r in rows] == ["desk", "hq"]
    assert rows[0][1:5] == ["member", "headless visual gpu", "up", "2"]
    assert rows[0][5:] == ["0", "0", "2", "0", "240"]  # queued, running, done, failed, tokens
    assert rows[1][1:4] == ["headquarters", "headless model", "up"]
    bars = page.evaluate("[...document.querySelectorAll('#chart rect.bar')].map(b => "
                         "Number(b.getAttribute('height')))")  # fmt: skip
    assert len(bars) == 24 and bars[-1] > bars[-3] > 0 and bars[-2] == 0
    tasks = page.evaluate("[...document.querySelectorAll('#tasks tbody tr')].map(r => "
                          "r.dataset.id)")  # fmt: skip
    assert tasks == [str(i) for i in reversed(ids)]
    page.evaluate(f"document.querySelector('#tasks tr[data-id=\"{ids[0]}\"]').click()")
    wait_until(lambda: "run_command" in _text(page, "#steps"), "the task's transcript")
    assert f"#{ids[0]}" in _text(page, "#transcript h2")
    assert "<b>not html</b>" in _text(page, "#task-facts")  # a prompt shows as text
    assert page.evaluate("document.querySelectorAll('#task-facts b').length") == 0
    width, height = _shot(page, tmp_path / "fleet-headquarters.png")
    assert (width, height) == (1280, 1400)


def _work(hq: Http, clock: FakeClock) -> list[int]:
    """Two tasks on the desk three hours apart, one at headquarters: the chart has bars."""
    first = hq.submit("<b>not html</b>", sandbox="desk-box")
    hq.wait_status(first, "done")
    clock.advance(2)
    second = hq.submit("again", sandbox="desk-ui")
    hq.wait_status(second, "done")
    own = hq.submit("at home", sandbox="hq-box")
    hq.wait_status(own, "done")
    return [first, second, own]


def test_the_pages_files_are_served_with_a_strict_policy_and_nothing_else(
    start_supervisor: StartSupervisor,
) -> None:
    _, api = start_supervisor()
    anonymous = Http(api.base)
    with urllib.request.urlopen(f"{api.base}/ui/", timeout=10) as reply:
        policy, body = reply.headers["Content-Security-Policy"], reply.read().decode()
    assert "script-src 'self'" in policy and "default-src 'none'" in policy
    assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
    assert '<script src="fleet.js"' in body and "http" not in body  # no CDN, no other host
    for path in ("/ui/api.py", "/ui/../api.py", "/ui/web/fleet.js", "/ui/nothing.js"):
        assert anonymous.get(path)[0] == 404, path
    assert anonymous.get("/fleet")[0] == 401
