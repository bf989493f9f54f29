"""Capped exponential backoff with jitter from an injectable random source."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

_MAX_EXPONENT = 62  # 2**62 seconds is past any sane cap; keeps the float finite


@dataclass
class Backoff:
    base: float
    cap: float
    rng: random.Random = field(default_factory=random.Random)

    def ceiling(self, failures: int) -> float:
        """Upper bound of the wait after the ``failures``-th consecutive failure (1-based)."""
        exponent = min(max(failures, 1) - 1, _MAX_EXPONENT)
        return min(self.cap, self.base * 2.0**exponent)

    def delay(self, failures: int) -> float:
        # "Equal jitter": at least half the ceiling, so retries never stampede at zero delay,
        # and a random half on top so several supervisors do not retry in lockstep.
        half = self.ceiling(failures) / 2.0
        return half + self.rng.uniform(0.0, half)
