"""Questions triage asked and is waiting for the answer to: "When should I remind you?" -> "tomorrow at 9".

One per conversation, in the store (so a restart in between loses nothing), each with an expiry: an answer that
comes too late, or a message that is plainly about something else, starts afresh instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from bot.clock import Clock
from bot.store import tables as t
from bot.store.database import Database
from bot.turn import Turn

Q = t.pending_question


@dataclass(frozen=True, slots=True)
class Pending:
    conversation_id: str
    intent: str          # the triage intent the answer completes
    slot: str            # when | text | task | list | confirm
    entities: dict[str, Any] = field(default_factory=dict)
    asked_at: datetime | None = None


class Questions:
    def __init__(self, db: Database, clock: Clock, *, ttl_seconds: float) -> None:
        self._db = db
        self._clock = clock
        self._ttl = timedelta(seconds=ttl_seconds)

    async def ask(self, turn: Turn, intent: str, slot: str, entities: dict[str, Any], question: str) -> str:
        """Keep the question (replacing any other in this conversation) and return its text, for the reply."""
        now = self._clock.now()
        row = {"conversation_id": turn.conversation.id, "user_id": turn.user.id, "intent": intent, "slot": slot,
               "entities": entities, "asked_at": now, "expires_at": now + self._ttl}

        def work(conn: Connection) -> None:
            conn.execute(delete(Q).where(Q.c.conversation_id == turn.conversation.id))
            conn.execute(Q.insert().values(**row))

        await self._db.run(work)
        return question

    async def pending(self, conversation_id: str) -> Pending | None:
        """The question waiting in this conversation, unless it has expired."""
        row = await self._db.one(select(Q).where(Q.c.conversation_id == conversation_id))
        if row is None:
            return None
        if row.expires_at <= self._clock.now():
            await self.clear(conversation_id)
            return None
        return Pending(row.conversation_id, row.intent, row.slot, dict(row.entities or {}), row.asked_at)

    async def clear(self, conversation_id: str) -> None:
        await self._db.run(lambda conn: conn.execute(delete(Q).where(Q.c.conversation_id == conversation_id)))
