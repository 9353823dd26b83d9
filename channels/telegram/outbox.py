"""Delivery state that must survive a restart: replies not handed over yet (the outbox) and chats that blocked
the bot.

A reply is written here only when sending it failed in a way worth retrying (or when an earlier reply to the
same chat is still waiting, so the order holds). The worker retries the oldest row of each destination with
growing pauses, honours Telegram's flood waits, and starts with whatever a previous run left.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import delete, select

from bot.clock import Clock
from bot.ids import new_id
from bot.store import tables as t
from bot.store.batch import Insert, Update
from bot.store.database import Database
from channels.telegram.inbound import Target
from channels.telegram.sender import Result, backoff

log = structlog.get_logger("thinklio.telegram")

MAX_AGE = timedelta(days=1)  # a reply older than this is stale news: given up on, and kept as `expired`
IDLE_SECONDS = 30.0
BATCH = 500

Send = Callable[[Target, str], Awaitable[Result]]


class Blocklist:
    """Chats where Telegram answers 403: nothing goes there until the chat writes to the bot again."""

    def __init__(self, db: Database, clock: Clock, channel_type: str) -> None:
        self._db = db
        self._clock = clock
        self._type = channel_type
        self._chats: set[int] = set()

    async def load(self) -> None:
        rows = await self._db.all(select(t.blocked_chat.c.chat_id).where(t.blocked_chat.c.channel_type == self._type))
        self._chats = {int(row.chat_id) for row in rows}

    def __contains__(self, chat_id: int) -> bool:
        return chat_id in self._chats

    def __len__(self) -> int:
        return len(self._chats)

    async def block(self, chat_id: int, reason: str | None) -> None:
        if chat_id in self._chats:
            return
        self._chats.add(chat_id)
        await self._db.write([], guard=Insert(t.blocked_chat, {
            "id": new_id("blk"), "channel_type": self._type, "chat_id": str(chat_id), "reason": reason,
            "created_at": self._clock.now(),
        }))
        log.info("telegram_chat_blocked", chat_id=chat_id, reason=reason)

    async def unblock(self, chat_id: int) -> None:
        if chat_id not in self._chats:
            return
        self._chats.discard(chat_id)
        table = t.blocked_chat
        await self._db.run(lambda conn: conn.execute(
            delete(table).where(table.c.channel_type == self._type, table.c.chat_id == str(chat_id))))
        log.info("telegram_chat_unblocked", chat_id=chat_id)


class Outbox:
    def __init__(self, db: Database, clock: Clock, channel_type: str, *, send: Send, blocklist: Blocklist,
                 retry_seconds: float) -> None:
        self._db = db
        self._clock = clock
        self._type = channel_type
        self._send = send
        self._blocklist = blocklist
        self._retry = retry_seconds
        self._pending: set[str] = set()  # destinations with rows waiting: later replies queue behind them
        self._touched: set[str] = set()  # destinations added to since the current pass read its rows
        self._wake = asyncio.Event()
        self.waiting = 0  # rows pending after the last pass, for /health

    async def load(self) -> None:
        rows = await self._db.all(select(t.outbox.c.destination).where(
            t.outbox.c.channel_type == self._type, t.outbox.c.status == "pending"))
        self._pending = {row.destination for row in rows}
        self.waiting = len(rows)

    def has_pending(self, destination: str) -> bool:
        return destination in self._pending

    def wake(self) -> None:
        self._wake.set()

    async def add(self, target: Target, chunks: Sequence[str], *, interaction_id: str | None,
                  error: str | None, delay: float = 0.0) -> None:
        now = self._clock.now()
        self._pending.add(target.key)
        self._touched.add(target.key)
        await self._db.write([Insert(t.outbox, self._row(target, chunk, now, interaction_id=interaction_id,
                                                         error=error, delay=delay)) for chunk in chunks])
        self.waiting += len(chunks)
        self.wake()

    async def add_notice(self, target: Target, text: str, key: str) -> bool:
        """Queue a notice once per `key`; False when it was queued before (a redelivered update)."""
        self._pending.add(target.key)
        self._touched.add(target.key)
        row = self._row(target, text, self._clock.now(), interaction_id=None, error=None, delay=0.0)
        added = await self._db.write([], guard=Insert(t.outbox, {**row, "dedupe_key": key}))
        self.wake()
        return added

    def _row(self, target: Target, text: str, now: datetime, *, interaction_id: str | None, error: str | None,
             delay: float) -> dict[str, Any]:
        return {"id": new_id("obx"), "channel_type": self._type, "destination": target.key, "text": text,
                "options": target.options(), "interaction_id": interaction_id, "dedupe_key": None,
                "status": "pending", "attempts": 0 if error is None else 1,
                "next_attempt_at": now + timedelta(seconds=delay), "last_error": error, "created_at": now,
                "sent_at": None}

    async def run(self) -> None:
        """The worker: a pass now, then whenever woken or a row falls due."""
        while True:
            try:
                delay = await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("telegram_outbox_pass_failed")
                delay = backoff(self._retry, 3)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), IDLE_SECONDS if delay is None else max(0.0, delay))
            self._wake.clear()

    async def flush(self) -> float | None:
        """Send what is due, oldest first per destination; return seconds until the next row falls due."""
        self._touched = set()
        rows = await self._db.all(
            select(t.outbox).where(t.outbox.c.channel_type == self._type, t.outbox.c.status == "pending")
            .order_by(t.outbox.c.id).limit(BATCH))
        by_destination: dict[str, list[Any]] = defaultdict(list)
        for row in rows:
            by_destination[row.destination].append(row)
        next_due: float | None = None
        still_pending: set[str] = set()
        waiting = 0
        for destination, queue in by_destination.items():
            left = await self._drain(queue)
            if left is not None:
                still_pending.add(destination)
                waiting += left[1]
                next_due = left[0] if next_due is None else min(next_due, left[0])
        # Rows added while this pass ran were not read by it: their destinations stay pending for the next one.
        pending = still_pending | self._touched
        if len(rows) == BATCH:  # more waiting than one pass reads
            pending |= self._pending - set(by_destination)
        self._pending = pending
        self.waiting = waiting
        return next_due

    async def _drain(self, queue: list[Any]) -> tuple[float, int] | None:
        """Send one destination's rows in order until one must wait; (seconds to wait, rows left) or None."""
        for index, row in enumerate(queue):
            now = self._clock.now()
            if now - row.created_at > MAX_AGE:
                await self._mark(row.id, "expired", row.attempts, row.last_error)
                log.warning("telegram_outbox_expired", outbox_id=row.id, destination=row.destination)
                continue
            wait = (row.next_attempt_at - now).total_seconds()
            if wait > 0:
                return wait, len(queue) - index
            target = Target.from_options(row.options)
            if target.chat_id in self._blocklist:
                await self._mark(row.id, "blocked", row.attempts, row.last_error)
                continue
            result = await self._send(target, row.text)
            attempts = row.attempts + 1
            if result.verdict == "sent":
                await self._db.write([Update(t.outbox, row.id, {"status": "sent", "attempts": attempts,
                                                                "sent_at": self._clock.now()})])
            elif result.verdict == "blocked":
                await self._blocklist.block(target.chat_id, result.error)
                await self._mark(row.id, "blocked", attempts, result.error)
            elif result.verdict == "failed":
                log.error("telegram_outbox_send_failed", outbox_id=row.id, error=result.error)
                await self._mark(row.id, "failed", attempts, result.error)
            else:
                delay = result.retry_after if result.retry_after is not None else backoff(self._retry, attempts)
                await self._db.write([Update(t.outbox, row.id, {
                    "attempts": attempts, "last_error": result.error,
                    "next_attempt_at": self._clock.now() + timedelta(seconds=delay)})])
                log.warning("telegram_outbox_retry_later", outbox_id=row.id, attempts=attempts,
                            retry_in=round(delay, 3), error=result.error)
                return delay, len(queue) - index
        return None

    async def _mark(self, row_id: str, status: str, attempts: int, error: str | None) -> None:
        await self._db.write([Update(t.outbox, row_id, {"status": status, "attempts": attempts,
                                                        "last_error": error})])
