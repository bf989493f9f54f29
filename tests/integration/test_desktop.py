"""The visual sandbox's noVNC page, opened in a real (headless) Chromium, shows its desktop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.cdp import Chromium
from tests.integration.fleet import Fleet
from tests.integration.png import decode_png, distinct_colours, fraction_near
from tests.support import REPO_ROOT
from tests.support.git_daemon import wait_for

pytestmark = pytest.mark.docker

ARTIFACT = REPO_ROOT / "artifacts" / "novnc.png"
MAGENTA = (255, 0, 255)  # the fixture's DESKTOP_URL page background
VIEWPORT = (1280, 800)


def magenta_from_row(pixels: Any) -> int:
    """The first row that is mostly the page's magenta: where Chromium's page area begins."""
    for y in range(pixels.shape[0]):
        if fraction_near(pixels[y : y + 1], MAGENTA) > 0.9:
            return y
    return int(pixels.shape[0])


def test_novnc_without_the_password_shows_no_desktop(fleet: Fleet, tmp_path: Path) -> None:
    url, _, secret = fleet.sandboxes["vis"]["novnc"].partition("#password=")
    assert url.startswith("http://127.0.0.1:") and "autoconnect=1" in url and len(secret) == 8
    with Chromium(tmp_path / "profile") as browser:
        page = browser.new_page(*VIEWPORT)
        page.navigate(url)  # the same page, without the fragment that carries the password
        asked = "document.getElementById('noVNC_credentials_dlg').classList.contains('noVNC_open')"
        wait_for(lambda: page.evaluate(asked), "noVNC asks for the password", 60, every_s=0.5)
        page.evaluate(
            "document.getElementById('noVNC_password_input').value = 'wrong-pw';"
            "document.getElementById('noVNC_credentials_button').click()"
        )
        wait_for(
            lambda: not page.evaluate(
                "document.documentElement.classList.contains('noVNC_connecting')"
            ),
            "noVNC gave up", 30, every_s=0.5,
        )  # fmt: skip
        assert not page.evaluate("document.documentElement.classList.contains('noVNC_connected')")
        pixels = decode_png(page.screenshot())
    assert fraction_near(pixels, MAGENTA) < 0.01, "the sandbox's page showed without the password"


def test_novnc_page_shows_the_desktop(fleet: Fleet, tmp_path: Path) -> None:
    url = fleet.sandboxes["vis"]["novnc"]
    assert url.startswith("http://127.0.0.1:") and "autoconnect=1" in url and "#password=" in url
    shot: dict[str, Any] = {}
    with Chromium(tmp_path / "profile") as browser:
        page = browser.new_page(*VIEWPORT)
        page.navigate(url)
        # noVNC marks <html> once the VNC session is up; then frames arrive in real time.
        wait_for(
            lambda: page.evaluate("document.documentElement.classList.contains('noVNC_connected')"),
            "noVNC connected", 60, every_s=0.5,
        )  # fmt: skip

        def desktop_drawn() -> bool:
            shot["png"] = page.screenshot()
            shot["pixels"] = decode_png(shot["png"])
            return fraction_near(shot["pixels"], MAGENTA) > 0.25

        try:
            wait_for(desktop_drawn, "the sandbox's Chromium page visible through noVNC", 60, 2)
        finally:
            if "png" in shot:  # kept for people, whatever the outcome
                ARTIFACT.parent.mkdir(exist_ok=True)
                ARTIFACT.write_bytes(shot["png"])
    pixels = shot["pixels"]
    assert pixels.shape[:2] == (VIEWPORT[1], VIEWPORT[0])
    # Not blank: the remote Chromium window (tabs, toolbar, text) adds many colours.
    assert distinct_colours(pixels) > 50, f"only {distinct_colours(pixels)} colours; see {ARTIFACT}"
    # The page starts right under the toolbar (~88 px here): the "--no-sandbox" warning bar,
    # which the managed policy hides, pushed it ~55 px further down.
    assert magenta_from_row(pixels) < 120, f"something sits above the page; see {ARTIFACT}"
