"""Pending work and how revocation stops it. The kernel does not know what work an extension keeps waiting
(reminders, callbacks, ...); an extension registers a canceller, and the platform kill switch and agent pause
(reference 33.1, 40.2: "cancels pending jobs") cancel through all of them at once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class WorkScope:
    """Whose waiting work: every field None is the whole platform; set fields narrow it (all must match)."""

    account_id: str | None = None
    user_id: str | None = None
    agent_id: str | None = None


Canceller = Callable[[WorkScope, str], Awaitable[int]]  # (scope, reason) -> how many items were cancelled
Counter = Callable[[WorkScope], Awaitable[int]]  # scope -> how many items are waiting (for /agent show)


class PendingWork:
    def __init__(self) -> None:
        self._cancellers: list[Canceller] = []
        self._counters: list[Counter] = []

    def register(self, canceller: Canceller, counter: Counter | None = None) -> None:
        self._cancellers.append(canceller)
        if counter is not None:
            self._counters.append(counter)

    async def count(self, scope: WorkScope) -> int:
        return sum([await count(scope) for count in self._counters])

    async def cancel(self, scope: WorkScope, reason: str) -> int:
        return sum([await cancel(scope, reason) for cancel in self._cancellers])
