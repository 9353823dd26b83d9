"""The durable outbox on its own: order per destination, backoff honouring retry-after, a bound on trying,
blocked recipients, and one sender per row when two workers share the database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.outbox import LEASE, MAX_AGE, MAX_ATTEMPTS, Blocklist, Delivery, Outbox, Queued
from bot.store import tables as t
from bot.store.database import Database
from bot.store.migrate import upgrade_async
from server.settings import migration_folders
from tests.fakes.clock import FakeClock


class Platform:
    """The far side: answers each send with the next scripted verdict (default: sent) and records what went."""

    def __init__(self, *verdicts: Delivery) -> None:
        self.verdicts = list(verdicts)
        self.sent: list[str] = []
        self.tries = 0

    async def send(self, item: Queued) -> Delivery:
        self.tries += 1
        verdict = self.verdicts.pop(0) if self.verdicts else Delivery("sent")
        if verdict.verdict == "sent":
            self.sent.append(item.text)
        return verdict


def recipient(item: Queued) -> str:
    return str(item.options["chat"])


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    await upgrade_async(url, migration_folders())
    database = Database(url)
    database.start()
    yield database
    await database.close()


def outbox(db: Database, clock: FakeClock, platform: Platform) -> Outbox:
    return Outbox(db, clock, "test", send=platform.send, recipient=recipient,
                  blocklist=Blocklist(db, clock, "test"), retry_seconds=1.0)


async def statuses(db: Database) -> list[tuple[str, str, int]]:
    rows = await db.all(select(t.outbox.c.text, t.outbox.c.status, t.outbox.c.attempts).order_by(t.outbox.c.id))
    return [(row.text, row.status, row.attempts) for row in rows]


async def test_rows_go_out_in_order_and_a_retry_holds_back_the_rest(db: Database) -> None:
    clock = FakeClock()
    platform = Platform(Delivery("sent"), Delivery("retry", retry_after=7.0, error="flood"))
    box = outbox(db, clock, platform)
    await box.add("c1", {"chat": 1}, ["one", "two", "three"], interaction_id=None, error=None)
    assert box.has_pending("c1")
    wait = await box.flush()
    assert platform.sent == ["one"] and wait == 7.0  # the platform's own wait, not our backoff
    assert await box.flush() == 7.0 and platform.tries == 2  # not due yet: nothing tried
    clock.advance(seconds=7)
    assert await box.flush() is None
    assert platform.sent == ["one", "two", "three"]
    assert await statuses(db) == [("one", "sent", 1), ("two", "sent", 2), ("three", "sent", 1)]
    assert not box.has_pending("c1") and box.waiting == 0


async def test_without_retry_after_the_pause_grows(db: Database) -> None:
    clock = FakeClock()
    box = outbox(db, clock, Platform(*[Delivery("retry", error="down")] * 3))
    await box.add("c1", {"chat": 1}, ["hi"], interaction_id=None, error=None)
    waits = []
    for _ in range(3):
        waits.append(await box.flush())
        clock.advance(seconds=waits[-1] or 0)
    assert waits == [2.0, 4.0, 8.0]


async def test_it_gives_up_after_the_bound_and_records_why(db: Database) -> None:
    clock = FakeClock()
    platform = Platform(*[Delivery("retry", error="still down")] * (MAX_ATTEMPTS + 5))
    box = outbox(db, clock, platform)
    await box.add("c1", {"chat": 1}, ["doomed"], interaction_id=None, error=None)
    for _ in range(MAX_ATTEMPTS + 3):
        clock.advance(seconds=(await box.flush()) or 0)
    assert platform.tries == MAX_ATTEMPTS
    [row] = await db.all(select(t.outbox))
    assert (row.status, row.attempts, row.last_error, row.lease_owner) == ("failed", MAX_ATTEMPTS, "still down", None)


async def test_stale_rows_expire_unsent(db: Database) -> None:
    clock = FakeClock()
    platform = Platform()
    box = outbox(db, clock, platform)
    await box.add("c1", {"chat": 1}, ["old news"], interaction_id=None, error="down", delay=60)
    clock.advance(seconds=MAX_AGE.total_seconds() + 1)
    assert await box.flush() is None
    assert platform.tries == 0 and await statuses(db) == [("old news", "expired", 1)]


async def test_a_recipient_that_blocked_the_bot_is_recorded_and_not_retried(db: Database) -> None:
    clock = FakeClock()
    platform = Platform(Delivery("blocked", error="403: bot was blocked"))
    box = outbox(db, clock, platform)
    await box.add("c1", {"chat": 5}, ["a", "b"], interaction_id=None, error=None)
    await box.add("c2", {"chat": 6}, ["c"], interaction_id=None, error=None)
    assert await box.flush() is None
    assert platform.tries == 2 and platform.sent == ["c"]  # "b" was never tried
    assert await statuses(db) == [("a", "blocked", 1), ("b", "blocked", 0), ("c", "sent", 1)]
    restarted = Blocklist(db, clock, "test")
    await restarted.load()
    assert "5" in restarted and "6" not in restarted


async def test_a_notice_is_queued_once_per_key(db: Database) -> None:
    box = outbox(db, FakeClock(), Platform())
    assert await box.add_notice("c1", {"chat": 1}, "slow down", "rate:1")
    assert not await box.add_notice("c1", {"chat": 1}, "slow down", "rate:1")
    await box.flush()
    assert await statuses(db) == [("slow down", "sent", 1)]


async def test_a_row_leased_by_another_worker_waits_for_it(db: Database) -> None:
    clock = FakeClock()
    mine, theirs = Platform(), Platform()
    first, second = outbox(db, clock, mine), outbox(db, clock, theirs)
    await first.add("c1", {"chat": 1}, ["one", "two"], interaction_id=None, error=None)
    [head, _] = await db.all(select(t.outbox.c.id).order_by(t.outbox.c.id))
    assert await second._claim(head.id, clock.now())  # the other worker is sending "one" right now
    await first.flush()
    assert mine.tries == 0  # neither "one" (leased) nor "two" (behind it) went out twice or out of order
    clock.advance(seconds=LEASE.total_seconds() + 1)  # the other worker died holding it
    await first.flush()
    assert mine.sent == ["one", "two"]


async def test_two_workers_racing_send_each_row_once(db: Database) -> None:
    clock = FakeClock()
    platforms = [Platform(), Platform()]
    workers = [outbox(db, clock, platform) for platform in platforms]
    for chat in range(20):
        await workers[chat % 2].add(f"c{chat}", {"chat": chat}, [f"{chat}-a", f"{chat}-b"], interaction_id=None,
                                    error=None)
    for _ in range(3):
        await asyncio.gather(*(worker.flush() for worker in workers))
    sent: list[str] = platforms[0].sent + platforms[1].sent
    assert sorted(sent) == sorted(f"{chat}-{part}" for chat in range(20) for part in "ab")
    for platform in platforms:  # each destination's rows left in order, whoever sent them
        for chat in range(20):
            mine = [text for text in platform.sent if text.startswith(f"{chat}-")]
            assert mine in ([], [f"{chat}-a"], [f"{chat}-b"], [f"{chat}-a", f"{chat}-b"])
