"""Replies out to Telegram: the final delivery of an answer, and the outbox behind it.

A reply whose answer was drafted (`drafts`) is edited into the draft's message rather than sent again; the rest
of it (and every other reply) goes out as new messages, tried a few times while the conversation waits and
then left to the durable outbox. A chat with replies still queued gets new ones queued behind them, so the
order holds; a chat that blocked the bot gets nothing.
"""

from __future__ import annotations

import asyncio

import structlog
from aiogram import Bot
from sqlalchemy import select

from bot.cache import LRU
from bot.clock import Clock
from bot.messages import OutboundMessage
from bot.outbox import Blocklist, Outbox, Queued, backoff
from bot.store import tables as t
from bot.store.database import Database
from channels.telegram.drafts import Drafts, Shown
from channels.telegram.inbound import Target, parse_target
from channels.telegram.outbound import split_text
from channels.telegram.sender import Result, edit_text, send_text

log = structlog.get_logger("thinklio.telegram")

LIVE_ATTEMPTS = 3  # tries while the conversation waits; after that the outbox takes over
MAX_INLINE_WAIT = 10.0  # longer flood waits go to the outbox instead of holding the conversation


class TelegramDeliveryError(Exception):
    """A reply Telegram refused for good (blocked, bad request); the pipeline logs and counts it."""


class Replies:
    """Where replies go and how they get there. `closed` (the channel is stopped) sends everything to the
    outbox; `targets` is filled by the inbound side: interaction -> the chat (and message) its reply answers."""

    def __init__(self, bot: Bot, db: Database, clock: Clock, blocklist: Blocklist, *, channel_type: str,
                 timeout: float, retry_seconds: float) -> None:
        self._bot = bot
        self._db = db
        self._timeout = timeout
        self._retry = retry_seconds
        self.blocklist = blocklist
        self.closed = True
        self.targets: LRU[str, Target] = LRU(10_000)  # interaction -> where its reply goes
        self.outbox = Outbox(db, clock, channel_type, send=self._send_queued, recipient=_chat_of,
                             blocklist=blocklist, retry_seconds=retry_seconds)
        self.drafts = Drafts(bot, timeout=timeout, locate=self.target_of, may_send=self._may_draft)

    async def deliver(self, message: OutboundMessage) -> None:
        shown = await self.drafts.finish(message.interaction_id) if message.interaction_id else None
        target = await self.target_of(message)
        if str(target.chat_id) in self.blocklist:
            raise TelegramDeliveryError(f"chat {target.chat_id} has blocked the bot; reply not sent")
        if shown is not None and shown.target.chat_id != target.chat_id:
            target = shown.target  # the group became a supergroup while the draft was written
        chunks = split_text(message.text)
        if self.closed or self.outbox.has_pending(target.key):
            # Behind replies still waiting for this chat (or after shutdown): queue, so the order holds.
            await self._queue(target, chunks, message, shown, error=None)
            return
        start = 0
        if shown is not None and chunks:
            result = await self.drafts.replace(shown, chunks[0], attempts=LIVE_ATTEMPTS, max_wait=MAX_INLINE_WAIT)
            if result.verdict == "sent":
                start = 1
            elif result.verdict == "retry":
                await self._queue(target, chunks, message, shown, error=result.error, delay=self._delay(result))
                log.warning("telegram_reply_queued", chat_id=target.chat_id, chunks=len(chunks), edit=True,
                            error=result.error)
                return
            elif result.verdict == "blocked":
                await self.blocklist.block(str(target.chat_id), result.error)
                raise TelegramDeliveryError(result.error or result.verdict)
            else:  # the draft was deleted (or is too old to edit): the reply comes as a message of its own
                log.info("telegram_draft_lost", chat_id=target.chat_id, error=result.error)
        for index in range(start, len(chunks)):
            result = await self._send_live(target, chunks[index])
            if result.migrated_to is not None:
                target = Target(result.migrated_to)
            if result.verdict == "sent":
                continue
            if result.verdict == "retry":
                delay = self._delay(result)
                await self._queue(target, chunks[index:], message, None, error=result.error, delay=delay)
                log.warning("telegram_reply_queued", chat_id=target.chat_id, chunks=len(chunks) - index,
                            retry_in=delay, error=result.error)
                return
            if result.verdict == "blocked":
                await self.blocklist.block(str(target.chat_id), result.error)
            raise TelegramDeliveryError(result.error or result.verdict)

    async def _queue(self, target: Target, chunks: list[str], message: OutboundMessage, shown: Shown | None, *,
                     error: str | None, delay: float = 0.0) -> None:
        """Into the outbox; with a draft on the screen, its first part is an edit of that draft."""
        await self.outbox.add(target.key, target.options(), chunks, interaction_id=message.interaction_id,
                              error=error, delay=delay, first=None if shown is None else {"edit": shown.message_id})

    def _delay(self, result: Result) -> float:
        return result.retry_after if result.retry_after is not None else backoff(self._retry, LIVE_ATTEMPTS)

    async def _send_live(self, target: Target, text: str) -> Result:
        result = Result("retry")
        for attempt in range(LIVE_ATTEMPTS):
            result = await send_text(self._bot, target, text, timeout=self._timeout)
            if result.verdict != "retry":
                return result
            wait = result.retry_after if result.retry_after is not None else backoff(self._retry, attempt)
            if attempt == LIVE_ATTEMPTS - 1 or wait > MAX_INLINE_WAIT:
                return result
            log.info("telegram_send_retry", chat_id=target.chat_id, wait=wait, error=result.error)
            await asyncio.sleep(wait)
        return result

    async def _send_queued(self, item: Queued) -> Result:
        if self.closed:
            return Result("retry", error="the channel is stopped")
        target = Target.from_options(item.options)
        edit = item.options.get("edit")
        if edit is not None:
            result = await edit_text(self._bot, target.chat_id, int(edit), item.text, timeout=self._timeout)
            if result.verdict != "failed":
                return result
            # The draft is gone (deleted, too old to edit): this part goes out as a message of its own.
        return await send_text(self._bot, target, item.text, timeout=self._timeout)

    def _may_draft(self, target: Target) -> bool:
        """Drafts go only where a reply would go out at once: not behind queued replies, not to a blocked chat."""
        return not self.closed and str(target.chat_id) not in self.blocklist and not self.outbox.has_pending(
            target.key)

    async def target_of(self, message: OutboundMessage) -> Target:
        chat_id, thread_id = parse_target(message.conversation_key)
        return Target(chat_id, thread_id, await self._reply_to(message, chat_id))

    async def _reply_to(self, message: OutboundMessage, chat_id: int) -> int | None:
        """In groups, the user's message the reply answers (so it is clear whom the bot answers)."""
        if message.interaction_id is None:
            return None
        known = self.targets.get(message.interaction_id)
        if known is not None:
            return known.reply_to
        if chat_id > 0:  # private chats have positive ids and need no reply threading
            return None
        # After a restart: the message id is the second part of the stored external id "chat:message[:edit]".
        row = await self._db.one(
            select(t.message.c.external_id)
            .join(t.interaction, t.interaction.c.inbound_message_id == t.message.c.id)
            .where(t.interaction.c.id == message.interaction_id))
        if row is None or not row.external_id:
            return None
        parts = row.external_id.split(":")
        return int(parts[1]) if len(parts) > 1 and parts[1].lstrip("-").isdigit() else None


def _chat_of(item: Queued) -> str:
    return str(Target.from_options(item.options).chat_id)
