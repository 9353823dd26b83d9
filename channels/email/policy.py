"""Who may write to an address, and how often: the sender policy and the per-sender rate limit.

A refusal is logged and audited, and never answered: a reply would confirm to a spammer that the address is
read. The rate limit is per sender address across every agent, so one sender cannot flood all of them.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.ratelimit import RateLimiter
from bot.store import tables as t
from bot.store.database import Database
from channels.email.routing import TYPE, Box


def allowed_by_list(address: str, allow: frozenset[str]) -> bool:
    """An address is on the list by itself or by its domain (`example.com` also covers `mail.example.com`)."""
    address = address.lower()
    if address in allow:
        return True
    domain = address.rpartition("@")[2]
    parts = domain.split(".")
    return any(".".join(parts[i:]) in allow for i in range(len(parts) - 1))


class SenderPolicy:
    def __init__(self, db: Database, *, per_hour: float, burst: int) -> None:
        self._db = db
        self._limiter = RateLimiter(per_hour / 60.0, burst)

    async def refusal(self, box: Box, sender: str) -> str | None:
        """Why `sender` may not write to `box`, or None."""
        if box.policy == "open":
            return None
        if box.policy == "allowlist":
            return None if allowed_by_list(sender, box.allow) else "not on the allowlist"
        known = await self._db.one(select(t.channel_identity.c.id).where(
            t.channel_identity.c.channel_type == TYPE, t.channel_identity.c.external_id == sender).limit(1))
        return None if known is not None else "not a known sender"

    def retry_after(self, sender: str) -> float:
        """0 when the sender may send one more mail now, else the seconds until they may."""
        return self._limiter.retry_after(sender)
