"""Where messages leave the server: the running channel adapters, by channel type.

Replies to turns, messages the server starts (reminders, notices) and the files users sent all go through the
adapter of the conversation's channel. A channel with no adapter in this process (the CLI, a channel not
started) stores its messages and delivers nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog

from bot.channel import Channel
from bot.clock import Clock
from bot.directory import Directory
from bot.errors import ThinklioError
from bot.ids import new_id
from bot.messages import Attachment, OutboundMessage
from bot.metrics import Metrics
from bot.store import tables as t
from bot.store.batch import Insert
from bot.store.database import Database
from bot.turn import Turn

log = structlog.get_logger("thinklio.pipeline")


class Outlets:
    def __init__(self, *, db: Database, directory: Directory, clock: Clock, metrics: Metrics) -> None:
        self._db = db
        self._directory = directory
        self._clock = clock
        self._metrics = metrics
        self._adapters: dict[str, Channel] = {}

    def __setitem__(self, channel_type: str, adapter: Channel) -> None:
        self._adapters[channel_type] = adapter

    def __getitem__(self, channel_type: str) -> Channel:
        return self._adapters[channel_type]

    def draft(self, turn: Turn) -> Callable[[str], None] | None:
        """Where the turn's answer can be shown while it is written, when its channel can show drafts."""
        adapter = self._adapters.get(turn.channel.type)
        return None if adapter is None else adapter.draft(_reply_to(turn, ""))

    def working(self, turn: Turn) -> Callable[[], None]:
        """Show the turn's channel that the model is working on it, when the channel can; returns what ends the
        signal. A signal that fails is logged and forgotten: it never touches the reply."""
        adapter = self._adapters.get(turn.channel.type)
        try:
            end = None if adapter is None else adapter.working(_reply_to(turn, ""))
        except Exception as exc:
            log.warning("working_signal_failed", channel=turn.channel.slug, error=str(exc))
            end = None
        if end is None:
            return _nothing

        def finish() -> None:
            try:
                end()
            except Exception as exc:
                log.warning("working_signal_failed", channel=turn.channel.slug, error=str(exc))

        return finish

    async def reply(self, turn: Turn, text: str) -> None:
        """A turn's answer, into its conversation; a failure is counted and logged (the reply is stored)."""
        adapter = self._adapters.get(turn.channel.type)
        if adapter is None:
            return
        message = _reply_to(turn, text)
        try:
            await adapter.deliver(message)
        except Exception as exc:
            self._metrics.deliveries_failed.labels(turn.channel.slug).inc()
            log.warning("delivery_failed", channel=turn.channel.slug, error=str(exc))

    async def send(self, conversation_id: str, text: str, *, metadata: dict[str, Any] | None = None) -> str:
        """Put a message into a conversation on the server's own initiative (a reminder, a notice): stored, then
        delivered through the conversation's channel. Returns the message id."""
        conversation, channel = await self._directory.conversation_and_channel(conversation_id)
        message_id = new_id("msg")
        await self._db.write([Insert(t.message, {
            "id": message_id, "conversation_id": conversation.id, "channel_id": channel.id, "external_id": None,
            "direction": "out", "user_id": None, "text": text, "created_at": self._clock.now(),
        })])
        adapter = self._adapters.get(channel.type)
        if adapter is not None:
            await adapter.deliver(OutboundMessage(channel=channel.slug, channel_type=channel.type,
                                                  conversation_id=conversation.id,
                                                  conversation_key=conversation.external_key, text=text,
                                                  message_id=message_id, metadata=metadata or {}))
        return message_id

    async def fetch_attachment(self, turn: Turn, attachment: Attachment, *, limit: int) -> bytes:
        """The bytes of a file sent with the turn's message, from the channel it came through."""
        adapter = self._adapters.get(turn.channel.type)
        if adapter is None:
            raise ThinklioError("bad_request", f"the {turn.channel.type} channel is not running here", status=415)
        return await adapter.fetch_attachment(attachment, limit=limit)


def _nothing() -> None:
    return None


def _reply_to(turn: Turn, text: str) -> OutboundMessage:
    return OutboundMessage(channel=turn.channel.slug, channel_type=turn.channel.type,
                           conversation_id=turn.conversation.id, conversation_key=turn.conversation.external_key,
                           text=text, interaction_id=turn.interaction_id, metadata=turn.metadata)
