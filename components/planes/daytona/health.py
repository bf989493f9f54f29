"""Waiting for a Daytona server to be up, before the provider asks it for a sandbox."""

from __future__ import annotations

import time
import urllib.error
import urllib.request


class DaytonaUnhealthy(Exception):
    """The server did not answer its liveness endpoint in time."""


def wait_healthy(api_url: str, deadline: float) -> None:
    """Until the server's public liveness endpoint (`GET <api>/health`) answers 200: a server
    that is starting (or restarting) is waited for, not taken for a failed create."""
    url, delay, last = f"{api_url.rstrip('/')}/health", 0.2, "no answer yet"
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                if answer.status == 200:
                    return
                last = f"HTTP {answer.status}"
        except (urllib.error.URLError, OSError) as e:
            last = str(getattr(e, "reason", e))
        if time.monotonic() > deadline:
            raise DaytonaUnhealthy(
                f"Daytona server {api_url} not healthy ({url}: {last}); start it, or raise "
                "sandbox-fleet:daytonaTimeoutSeconds if it is slow to start"
            )
        time.sleep(delay)
        delay = min(delay * 2, 5.0)
