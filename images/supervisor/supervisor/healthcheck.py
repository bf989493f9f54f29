"""``python3 -m supervisor.healthcheck``: exit 0 when GET /health answers 200.

Used by the image's Docker HEALTHCHECK; stdlib only, no curl in the image.
"""

from __future__ import annotations

import os
import sys
import urllib.request


def main() -> int:
    port = os.environ.get("SUPERVISOR_PORT", "").strip()  # set by the image
    if not port:
        print("unhealthy: SUPERVISOR_PORT is not set", file=sys.stderr)
        return 1
    url = f"http://127.0.0.1:{port}/health"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            ok = response.status == 200
    except Exception as exc:  # any failure is "unhealthy"; say why in `docker inspect`
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
