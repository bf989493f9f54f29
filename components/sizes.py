"""Sizes as people write them ('512Mi', '4Gi') and as bytes: one parser for the spec's resources
and the stack settings' memory limits, so both accept and refuse the same text."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

SIZE = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|K|M|G|T)$")
FACTORS = {
    "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4,
    "K": 1000, "M": 1000**2, "G": 1000**3, "T": 1000**4,
}  # fmt: skip
MIB = FACTORS["Mi"]
GIB = FACTORS["Gi"]


def parse_size(value: Any) -> int:
    """'512Mi' -> bytes. Plain numbers are refused: is 4096 bytes or MiB? Nobody can tell."""
    match = SIZE.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{value!r} is not a size (use e.g. 512Mi or 4Gi)")
    return int(Decimal(match.group(1)) * FACTORS[match.group(2)])  # 4.1G is exact


def format_size(size: int) -> str:
    for unit in ("Ti", "Gi", "Mi", "Ki"):
        if size % FACTORS[unit] == 0:
            return f"{size // FACTORS[unit]}{unit}"
    return f"{size // 1024}Ki"
