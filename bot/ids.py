"""Time-ordered, prefixed identifiers (`ix_01J…`), generated in-process so writes can be batched.

48 bits of milliseconds then 80 bits that count up within a millisecond (a monotonic ULID), written in hex
(order-preserving, and done in C): lexical order follows creation order within a process, which is what
cursor pagination over messages relies on.
"""

from __future__ import annotations

import os
import threading
import time

_lock = threading.Lock()
_last_ms = 0
_last_rand = 0
_RAND_MASK = (1 << 80) - 1


def new_ulid() -> str:
    global _last_ms, _last_rand
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms <= _last_ms:
            now_ms = _last_ms
            _last_rand = (_last_rand + 1) & _RAND_MASK
        else:
            _last_ms = now_ms
            _last_rand = int.from_bytes(os.urandom(10), "big") >> 1  # headroom for increments
        value = (now_ms << 80) | _last_rand
    return value.to_bytes(16, "big").hex()


def new_id(prefix: str) -> str:
    return f"{prefix}_{new_ulid()}"
