"""Host ports for each sandbox, derived from its name so they stay put as entries come and go.

Each sandbox owns a contiguous block: SSH first, then noVNC, then its app ports in order. The
block's start is a hash of the name (or `ssh_port:` when pinned). Two blocks that overlap are a
spec error, never silently shifted: shifting one would move a port users already rely on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
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


def held(block: PortBlock, ports: Iterable[int]) -> list[int]:
    """The ports of `ports` that fall inside `block`."""
    return sorted(p for p in ports if block.start <= p <= block.end)


def free_start(size: int, taken: Iterable[PortBlock], near: int) -> int:
    """The first start at or after `near` (else from FIRST_PORT) whose block overlaps nothing
    taken and ends by LAST_PORT: a suggestion, so it is searched, never assumed."""
    busy = sorted((b.start, b.end) for b in taken)
    for start in (near, FIRST_PORT):
        for lo, hi in busy:
            if hi < start:
                continue
            if lo > start + size - 1:
                break
            start = hi + 1
        if start + size - 1 <= LAST_PORT:
            return start
    return FIRST_PORT  # every port is taken: nothing better to say
