"""The workspace sync every plane runs: `images/headless/sandbox-sync`.

Clone into an empty workspace or fetch into a kept one, check out the entry's branch (created
from `base` when missing), retry while the remote is away, never discard local work. The host
sandboxes run it from their image; the cloud planes send the same script as their command.
"""

from __future__ import annotations

import shlex
from pathlib import Path

SYNC_SCRIPT = Path(__file__).resolve().parents[2] / "images" / "headless" / "sandbox-sync"


def sync_script() -> str:
    return SYNC_SCRIPT.read_text()


def background_sync_command() -> str:
    """A shell command line that starts the sync in the background and returns at once, for a
    sandbox whose user is not root: the workspace is ~/workspace, the status ~/.sandbox/status,
    the log ~/.sandbox/sync.log."""
    return (
        'mkdir -p "$HOME/workspace" "$HOME/.sandbox" && '
        'SANDBOX_WORKSPACE="$HOME/workspace" SANDBOX_STATE_DIR="$HOME/.sandbox" '
        f"nohup bash -c {shlex.quote(sync_script())} sandbox-sync "
        '>"$HOME/.sandbox/sync.log" 2>&1 </dev/null &'
    )
