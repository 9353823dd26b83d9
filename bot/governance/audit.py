"""The audit trail of administration: every change (written with it, by `PlatformState.change`) and every
refusal (written here), with who, through which channel, on what, and the outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

from sqlalchemy import Select, func, or_, select

from bot.clock import Clock
from bot.errors import ThinklioError
from bot.governance.actor import Actor
from bot.ids import new_id
from bot.store import tables as t
from bot.store.batch import Insert
from bot.store.database import Database


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: str
    created_at: datetime
    actor: str
    action: str
    target_type: str | None
    target_id: str | None
    detail: dict[str, Any]

    @property
    def outcome(self) -> str:
        return str(self.detail.get("outcome", "done"))


def done(actor: Actor, **detail: Any) -> dict[str, Any]:
    """The detail of a change that went through."""
    return {"outcome": "done", "channel": actor.channel, **detail}


class Audit:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def refused(self, actor: Actor, action: str, reason: str, *, target_type: str | None = None,
                      target_id: str | None = None) -> None:
        await self._db.write([Insert(t.audit_event, {
            "id": new_id("aud"), "account_id": actor.account_id or None, "actor": actor.label, "action": action,
            "target_type": target_type, "target_id": target_id,
            "detail": {"outcome": "refused", "reason": reason, "channel": actor.channel},
            "created_at": self._clock.now(),
        })])

    async def refuse(self, actor: Actor, action: str, reason: str, *, target_type: str | None = None,
                     target_id: str | None = None) -> NoReturn:
        """Audit the refusal and raise it: `forbidden`, "You can't do that: {reason}." (the one way a service
        refuses an actor; `refused` alone when the reply must say something else, or nothing: not_found)."""
        await self.refused(actor, action, reason, target_type=target_type, target_id=target_id)
        raise ThinklioError("forbidden", f"You can't do that: {reason}.")

    async def events(self, account_id: str | None, *, since: datetime | None = None, who: str | None = None,
                     actor: str | None = None, action: str | None = None, limit: int = 20,
                     offset: int = 0) -> list[AuditEvent]:
        """Newest first. `account_id` None: the whole platform. `who` matches the actor or the action prefix;
        `actor` the actor exactly, `action` the action's prefix."""
        table = t.audit_event
        query = self._filtered(select(table), account_id, since, who, actor, action)
        rows = await self._db.all(query.order_by(table.c.id.desc()).limit(limit).offset(offset))
        return [AuditEvent(row.id, row.created_at, row.actor, row.action, row.target_type, row.target_id,
                           dict(row.detail or {})) for row in rows]

    async def count(self, account_id: str | None, *, since: datetime | None = None, who: str | None = None,
                    actor: str | None = None, action: str | None = None) -> int:
        query = self._filtered(select(func.count()).select_from(t.audit_event), account_id, since, who, actor, action)
        row = await self._db.one(query)
        return int(row[0]) if row else 0

    @staticmethod
    def _filtered(query: Select[Any], account_id: str | None, since: datetime | None, who: str | None,
                  actor: str | None, action: str | None) -> Select[Any]:
        table = t.audit_event
        if account_id is not None:
            query = query.where(table.c.account_id == account_id)
        if since is not None:
            query = query.where(table.c.created_at >= since)
        if who:
            query = query.where(or_(table.c.actor == who, table.c.action.startswith(who)))
        if actor:
            query = query.where(table.c.actor == actor)
        if action:
            query = query.where(table.c.action.startswith(action))
        return query
