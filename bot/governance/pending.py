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


class PendingWork:
    def __init__(self) -> None:
        self._cancellers: list[Canceller] = []

    def register(self, canceller: Canceller) -> None:
        self._cancellers.append(canceller)

    async def cancel(self, scope: WorkScope, reason: str) -> int:
        return sum([await cancel(scope, reason) for cancel in self._cancellers])
