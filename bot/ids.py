"""Time-ordered, prefixed identifiers (`ix_01J…`), generated in-process so writes can be batched.

Lexical order follows creation order within a process (a monotonic ULID), which is what cursor pagination
over messages relies on.
"""

from __future__ import annotations

import os
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_lock = threading.Lock()
_last_ms = 0
_last_rand = 0


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_ulid() -> str:
    global _last_ms, _last_rand
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms <= _last_ms:
            now_ms = _last_ms
            _last_rand = (_last_rand + 1) & ((1 << 80) - 1)
        else:
            _last_ms = now_ms
            _last_rand = int.from_bytes(os.urandom(10), "big") >> 1  # headroom for increments
        return _encode(now_ms, 10) + _encode(_last_rand, 16)


def new_id(prefix: str) -> str:
    return f"{prefix}_{new_ulid()}"
