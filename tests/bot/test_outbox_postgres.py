"""Two outbox workers, each with its own connection pool (two server processes), on one Postgres database:
every pending reply is sent exactly once, and each destination's replies leave in order."""

from __future__ import annotations

import asyncio

from bot.clock import SystemClock
from bot.outbox import Blocklist, Delivery, Outbox, Queued
from bot.store.database import Database
from bot.store.migrate import upgrade_async
from server.settings import migration_folders
from tests.fakes import postgres

pytestmark = postgres.required()


class SlowPlatform:
    """Each send takes a moment, so the two workers really overlap."""

    def __init__(self, log: list[tuple[int, str]], worker: int) -> None:
        self._log = log
        self._worker = worker

    async def send(self, item: Queued) -> Delivery:
        await asyncio.sleep(0.002)
        self._log.append((self._worker, item.text))
        return Delivery("sent")


async def test_two_workers_on_postgres_send_each_reply_once(database_url: str) -> None:
    await upgrade_async(database_url, migration_folders())
    clock = SystemClock()
    databases = [Database(database_url), Database(database_url)]
    sent: list[tuple[int, str]] = []
    workers = []
    for number, db in enumerate(databases):
        db.start()
        workers.append(Outbox(db, clock, "test", send=SlowPlatform(sent, number).send,
                              recipient=lambda item: item.destination, blocklist=Blocklist(db, clock, "test"),
                              retry_seconds=0.1))
    try:
        for chat in range(40):
            await workers[chat % 2].add(f"c{chat}", {}, [f"{chat}:{part}" for part in range(3)],
                                        interaction_id=None, error=None)
        for _ in range(4):
            await asyncio.gather(*(worker.flush() for worker in workers))
        texts = [text for _, text in sent]
        assert sorted(texts) == sorted(f"{chat}:{part}" for chat in range(40) for part in range(3))
        assert len(texts) == len(set(texts))  # none twice
        for chat in range(40):  # in order across both workers, by the time each was sent
            assert [text for text in texts if text.startswith(f"{chat}:")] == [f"{chat}:{part}" for part in range(3)]
        assert {worker for worker, _ in sent} == {0, 1}  # both took part
    finally:
        for db in databases:
            await db.close()
