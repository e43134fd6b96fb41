"""A per-client request limit in fixed windows (execution creations without an API key)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

__all__ = ["RateLimiter"]


class RateLimiter:
    """Fixed one-minute windows (aligned to the clock, like Appwrite's abuse limits)."""

    def __init__(
        self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.time
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._start = 0.0
        self._counts: dict[str, int] = {}

    def hit(self, key: str) -> tuple[bool, dict[str, str]]:
        """Count one request from ``key``: whether it is allowed, and the X-RateLimit-*."""
        start = math.floor(self._clock() / self.window) * self.window
        if start != self._start:
            self._start = start
            self._counts.clear()
        count = self._counts.get(key, 0) + 1
        self._counts[key] = count
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.limit - count)),
            "X-RateLimit-Reset": str(int(start + self.window)),
        }
        return count <= self.limit, headers
