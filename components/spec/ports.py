"""Host ports for each sandbox, derived from its name so they stay put as entries come and go.

Each sandbox owns a contiguous block: SSH first, then noVNC, then its app ports in order. The
block's start is a hash of the name (or `ssh_port:` when pinned). Two blocks that overlap are a
spec error, never silently shifted: shifting one would move a port users already rely on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

FIRST_PORT = 20000
LAST_PORT = 59999
BLOCK_OVERHEAD = 2  # SSH and noVNC come before the app ports
MAX_APP_PORTS = 16


@dataclass(frozen=True)
class PortBlock:
    name: str
    start: int
    size: int

    @property
    def end(self) -> int:
        return self.start + self.size - 1


def block_size(app_ports: int) -> int:
    return BLOCK_OVERHEAD + app_ports


def derived_start(name: str) -> int:
    """From the name alone: adding an app port grows the block but never moves its start."""
    span = LAST_PORT - FIRST_PORT + 2 - block_size(MAX_APP_PORTS)
    return FIRST_PORT + int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") % span


def overlaps(blocks: Iterable[PortBlock]) -> list[tuple[PortBlock, PortBlock]]:
    """Pairs (earlier, later) of overlapping blocks, by start port."""
    ordered = sorted(blocks, key=lambda b: (b.start, b.name))
    found = []
    reach: PortBlock | None = None  # the block reaching furthest so far
    for block in ordered:
        if reach is not None and block.start <= reach.end:
            found.append((reach, block))
        if reach is None or block.end > reach.end:
            reach = block
    return found


def free_start(size: int, taken: Mapping[str, PortBlock], near: int) -> int:
    """The first start at or after `near` whose block overlaps nothing taken (a suggestion)."""
    busy = sorted((b.start, b.end) for b in taken.values())
    start = near
    for lo, hi in busy:
        if hi < start:
            continue
        if lo > start + size - 1:
            break
        start = hi + 1
    return start if start + size - 1 <= LAST_PORT else FIRST_PORT
