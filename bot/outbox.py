"""The durable outbox of every channel: messages not handed over yet, and recipients that refused the bot.

A channel writes a message here only when sending it failed in a way worth retrying (or when an earlier one to
the same destination is still waiting, so the order holds). The worker retries each destination's oldest row
with growing pauses, honours the platform's own retry-after, gives up after `MAX_ATTEMPTS` tries or `MAX_AGE`,
and starts with whatever a previous run left.

Several server processes may run the same channel on one database. A row is sent only by the worker holding
its lease (claimed by one conditional UPDATE, so two workers cannot both win it), and a destination's rows are
claimed one at a time, oldest first: a later row cannot go out while an earlier one is pending, whoever holds it.
A worker that dies holding a lease loses it after `LEASE`; its row is sent again then (at least once, in order).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import structlog
from sqlalchemy import delete, or_, select, update
from sqlalchemy.engine import Connection

from bot.clock import Clock
from bot.ids import new_id
from bot.store import tables as t
from bot.store.batch import Insert
from bot.store.database import Database

log = structlog.get_logger("thinklio.outbox")

Verdict = Literal["sent", "retry", "blocked", "failed"]
MAX_AGE = timedelta(days=1)  # older than this is stale news: given up on, and kept as `expired`
MAX_ATTEMPTS = 30  # then `failed`: with the backoff capped at a minute, about half an hour of trying
MAX_BACKOFF = 60.0
LEASE = timedelta(seconds=120)  # longer than any one send takes
IDLE_SECONDS = 30.0  # a pass at least this often, for rows other processes added
BATCH = 500


@dataclass(frozen=True, slots=True)
class Delivery:
    """What one send attempt came to: sent, try again (after `retry_after` when the platform said), refused by
    the recipient for good (`blocked`), or a message that will never go (`failed`)."""

    verdict: Verdict
    retry_after: float | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Queued:
    """A waiting message as the channel's sender gets it back."""

    destination: str  # the conversation key
    options: dict[str, Any]  # the channel's own addressing: chat id, topic, thread, message replied to
    text: str


Send = Callable[[Queued], Awaitable[Delivery]]
Recipient = Callable[[Queued], str]  # who may have blocked us (a chat, an address): the blocklist's key


def backoff(base: float, attempt: int) -> float:
    return min(MAX_BACKOFF, base * 2 ** max(0, attempt))


class Blocklist:
    """Recipients that refused the bot (Telegram's 403, a hard bounce): nothing goes there until they write
    to the bot again."""

    def __init__(self, db: Database, clock: Clock, channel_type: str) -> None:
        self._db = db
        self._clock = clock
        self._type = channel_type
        self._recipients: set[str] = set()

    async def load(self) -> None:
        table = t.blocked_chat
        rows = await self._db.all(select(table.c.chat_id).where(table.c.channel_type == self._type))
        self._recipients = {row.chat_id for row in rows}

    def __contains__(self, recipient: str) -> bool:
        return recipient in self._recipients

    def __len__(self) -> int:
        return len(self._recipients)

    async def block(self, recipient: str, reason: str | None) -> None:
        if recipient in self._recipients:
            return
        self._recipients.add(recipient)
        await self._db.write([], guard=Insert(t.blocked_chat, {
            "id": new_id("blk"), "channel_type": self._type, "chat_id": recipient, "reason": reason,
            "created_at": self._clock.now(),
        }))
        log.info("recipient_blocked", channel=self._type, recipient=recipient, reason=reason)

    async def unblock(self, recipient: str) -> None:
        if recipient not in self._recipients:
            return
        self._recipients.discard(recipient)
        table = t.blocked_chat
        await self._db.run(lambda conn: conn.execute(
            delete(table).where(table.c.channel_type == self._type, table.c.chat_id == recipient)))
        log.info("recipient_unblocked", channel=self._type, recipient=recipient)


class Outbox:
    def __init__(self, db: Database, clock: Clock, channel_type: str, *, send: Send, recipient: Recipient,
                 blocklist: Blocklist, retry_seconds: float) -> None:
        self._db = db
        self._clock = clock
        self._type = channel_type
        self._send = send
        self._recipient = recipient
        self._blocklist = blocklist
        self._retry = retry_seconds
        self._worker = new_id("wrk")  # this process's name on the leases it holds
        self._pending: set[str] = set()  # destinations with rows waiting: later messages queue behind them
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

    async def add(self, destination: str, options: dict[str, Any], chunks: Sequence[str], *,
                  interaction_id: str | None, error: str | None, delay: float = 0.0,
                  first: dict[str, Any] | None = None) -> None:
        """Queue a message's parts in one write; `first`: options for the first part only (a channel's
        "edit the message already shown into this one")."""
        now = self._clock.now()
        self._pending.add(destination)
        self._touched.add(destination)
        await self._db.write([Insert(t.outbox, self._row(destination, {**options, **(first or {})} if not index
                                                         else options, chunk, now, interaction_id=interaction_id,
                                                         error=error, delay=delay))
                              for index, chunk in enumerate(chunks)])
        self.waiting += len(chunks)
        self.wake()

    async def add_notice(self, destination: str, options: dict[str, Any], text: str, key: str) -> bool:
        """Queue a notice once per `key`; False when it was queued before (a redelivered update)."""
        self._pending.add(destination)
        self._touched.add(destination)
        row = self._row(destination, options, text, self._clock.now(), interaction_id=None, error=None, delay=0.0)
        added = await self._db.write([], guard=Insert(t.outbox, {**row, "dedupe_key": key}))
        self.wake()
        return added

    def _row(self, destination: str, options: dict[str, Any], text: str, now: datetime, *,
             interaction_id: str | None, error: str | None, delay: float) -> dict[str, Any]:
        return {"id": new_id("obx"), "channel_type": self._type, "destination": destination, "text": text,
                "options": options, "interaction_id": interaction_id, "dedupe_key": None,
                "status": "pending", "attempts": 0 if error is None else 1,
                "next_attempt_at": now + timedelta(seconds=delay), "last_error": error, "created_at": now,
                "sent_at": None, "lease_owner": None, "lease_until": None}

    async def run(self) -> None:
        """The worker: a pass now, then whenever woken or a row falls due."""
        while True:
            try:
                delay = await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox_pass_failed", channel=self._type)
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
            wait = (row.next_attempt_at - now).total_seconds()
            if wait > 0 and now - row.created_at <= MAX_AGE:
                return wait, len(queue) - index
            if not await self._claim(row.id, now):
                return LEASE.total_seconds() / 4, len(queue) - index  # another worker is on this destination
            if now - row.created_at > MAX_AGE:
                await self._finish(row.id, "expired", row.attempts, row.last_error)
                log.warning("outbox_expired", channel=self._type, outbox_id=row.id, destination=row.destination)
                continue
            item = Queued(row.destination, row.options or {}, row.text)
            if self._recipient(item) in self._blocklist:
                await self._finish(row.id, "blocked", row.attempts, row.last_error)
                continue
            result = await self._send(item)
            attempts = row.attempts + 1
            if result.verdict == "sent":
                await self._finish(row.id, "sent", attempts, None, sent_at=self._clock.now())
            elif result.verdict == "blocked":
                await self._blocklist.block(self._recipient(item), result.error)
                await self._finish(row.id, "blocked", attempts, result.error)
            elif result.verdict == "failed" or attempts >= MAX_ATTEMPTS:
                log.error("outbox_send_failed", channel=self._type, outbox_id=row.id, attempts=attempts,
                          error=result.error)
                await self._finish(row.id, "failed", attempts, result.error)
            else:
                delay = result.retry_after if result.retry_after is not None else backoff(self._retry, attempts)
                await self._release(row.id, attempts, result.error, self._clock.now() + timedelta(seconds=delay))
                log.warning("outbox_retry_later", channel=self._type, outbox_id=row.id, attempts=attempts,
                            retry_in=round(delay, 3), error=result.error)
                return delay, len(queue) - index
        return None

    async def _claim(self, row_id: str, now: datetime) -> bool:
        table = t.outbox
        statement = (
            update(table)
            .where(table.c.id == row_id, table.c.status == "pending",
                   or_(table.c.lease_until.is_(None), table.c.lease_until < now, table.c.lease_owner == self._worker))
            .values(lease_owner=self._worker, lease_until=now + LEASE)
        )

        def claim(conn: Connection) -> bool:
            return bool(conn.execute(statement).rowcount)

        return await self._db.run(claim)

    async def _finish(self, row_id: str, status: str, attempts: int, error: str | None, *,
                      sent_at: datetime | None = None) -> None:
        await self._update(row_id, status=status, attempts=attempts, last_error=error, sent_at=sent_at)

    async def _release(self, row_id: str, attempts: int, error: str | None, next_attempt_at: datetime) -> None:
        await self._update(row_id, attempts=attempts, last_error=error, next_attempt_at=next_attempt_at)

    async def _update(self, row_id: str, **values: Any) -> None:
        table = t.outbox
        statement = (update(table).where(table.c.id == row_id, table.c.lease_owner == self._worker)
                     .values(lease_owner=None, lease_until=None, **values))
        await self._db.run(lambda conn: conn.execute(statement))
