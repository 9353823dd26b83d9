"""Tickets: what the pipeline hands a channel for each message it accepted, resolved with the outcome once the
message is answered and delivered; a redelivered message gets the first one's ticket."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import aliased

from bot.errors import ThinklioError
from bot.messages import TERMINAL_STATUSES, Outcome
from bot.store import tables as t
from bot.store.database import Database


@dataclass(slots=True)
class Ticket:
    """A message accepted into the pipeline; `done` resolves once it is answered and delivered."""

    interaction_id: str
    conversation_id: str
    text: str
    user_id: str
    done: asyncio.Future[Outcome] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    duplicate: bool = False


async def stored_ticket(db: Database, channel_id: str, external_id: str | None) -> Ticket:
    """The ticket of a message already stored under (channel, external id), answered when its turn is."""
    reply = aliased(t.message)
    row = await db.one(
        select(t.message.c.text, t.message.c.user_id, t.message.c.conversation_id,
               t.interaction.c.id, t.interaction.c.status, t.interaction.c.tier, t.interaction.c.intent,
               t.interaction.c.error_code, reply.c.text.label("reply"))
        .join(t.interaction, t.interaction.c.inbound_message_id == t.message.c.id)
        .outerjoin(reply, reply.c.id == t.interaction.c.reply_message_id)
        .where(t.message.c.channel_id == channel_id, t.message.c.external_id == external_id)
    )
    if row is None:
        raise ThinklioError("conflict", "this message is being stored by another request; retry")
    ticket = Ticket(row.id, row.conversation_id, row.text, row.user_id)
    if row.status in TERMINAL_STATUSES:
        ticket.done.set_result(Outcome(row.id, row.conversation_id, row.status, row.tier, row.reply,
                                       row.error_code, row.intent))
    return ticket
