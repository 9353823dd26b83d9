"""Per-user token buckets: `per_minute` sustained, `burst` at once. In memory, per process."""

from __future__ import annotations

import time

from bot.cache import LRU


class RateLimiter:
    def __init__(self, per_minute: float, burst: int, *, capacity: int = 100_000) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._buckets: LRU[str, list[float]] = LRU(capacity)

    def retry_after(self, key: str) -> float:
        """Take one token for `key`; 0 when allowed, else the seconds until a token is free."""
        now = time.monotonic()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = [self._burst, now]
            self._buckets.put(key, bucket)
        tokens = min(self._burst, bucket[0] + (now - bucket[1]) * self._rate)
        bucket[1] = now
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
            return 0.0
        bucket[0] = tokens
        return (1.0 - tokens) / self._rate
