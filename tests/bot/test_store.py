"""The store: migrations match the tables, SQLite is in WAL mode, and the group-commit writer isolates failures."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.engine import Connection

from bot.clock import SystemClock
from bot.ids import new_id
from bot.store import tables as t
from bot.store.batch import Insert, Update
from bot.store.database import Database
from bot.store.migrate import upgrade_async
from bot.store.seed import seed_catalogue
from config.catalogue import ASSISTANT, CATALOGUE
from server.settings import CHANNELS, migration_folders  # loads every extension, so their tables are on the metadata


async def _database(tmp_path: Path) -> Database:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    await upgrade_async(url, migration_folders())
    db = Database(url)
    db.start()
    return db


async def test_migrations_produce_exactly_the_tables(tmp_path: Path) -> None:
    db = await _database(tmp_path)
    try:
        diff = await db.read(lambda conn: compare_metadata(MigrationContext.configure(conn), t.metadata))
        mode = await db.read(lambda conn: conn.exec_driver_sql("PRAGMA journal_mode").scalar())
        foreign_keys = await db.read(lambda conn: conn.exec_driver_sql("PRAGMA foreign_keys").scalar())
        assert diff == []
        assert mode == "wal"
        assert foreign_keys == 1
    finally:
        await db.close()


def _account(slug: str) -> Insert:
    return Insert(t.account, {"id": new_id("acc"), "slug": slug, "name": slug, "status": "active",
                              "created_at": SystemClock().now()})


async def test_concurrent_writes_share_commits(tmp_path: Path) -> None:
    db = await _database(tmp_path)
    try:
        await asyncio.gather(*(db.write([_account(f"a{i}")]) for i in range(200)))
        assert db.writer.units == 200
        assert db.writer.batches < 200  # grouped, not one commit each
        rows = await db.all(select(t.account.c.slug))
        assert len(rows) == 200
    finally:
        await db.close()


async def test_a_failing_unit_does_not_sink_its_batch(tmp_path: Path) -> None:
    db = await _database(tmp_path)
    try:
        duplicate = _account("dup")
        await db.write([duplicate])
        clash = Insert(t.account, {**duplicate.row, "id": new_id("acc")})  # same slug: unique violation
        results = await asyncio.gather(db.write([_account("ok1")]), db.write([clash]), db.write([_account("ok2")]),
                                       return_exceptions=True)
        assert results[0] is True and results[2] is True
        assert isinstance(results[1], Exception)
        slugs = {row.slug for row in await db.all(select(t.account.c.slug))}
        assert slugs == {"dup", "ok1", "ok2"}
    finally:
        await db.close()


async def test_guarded_unit_is_skipped_when_its_guard_conflicts(tmp_path: Path) -> None:
    db = await _database(tmp_path)
    try:
        first = _account("guarded")
        assert await db.write([], guard=first) is True
        again = Insert(t.account, {**first.row, "id": new_id("acc")})
        follower = _account("follower")
        assert await db.write([follower], guard=again) is False
        slugs = {row.slug for row in await db.all(select(t.account.c.slug))}
        assert slugs == {"guarded"}  # the follower was not written either
        await db.write([Update(t.account, first.row["id"], {"name": "renamed"})])
        row = await db.one(select(t.account.c.name).where(t.account.c.id == first.row["id"]))
        assert row is not None and row.name == "renamed"
    finally:
        await db.close()


async def test_seeding_twice_creates_nothing_new(tmp_path: Path) -> None:
    db = await _database(tmp_path)
    try:
        now = SystemClock().now()
        installed = [("current_time", "read"), ("memory_store", "write")]

        def seed(conn: Connection) -> int:
            return seed_catalogue(conn, CATALOGUE, now, installed_tools=installed, channels=CHANNELS.seeds())

        created = await db.run(seed)
        again = await db.run(seed)
        # the account, its agent, one row per channel, and the agent's tools: its own and the installed ones
        assert created == 2 + len(CHANNELS.seeds()) + len(ASSISTANT.tools) + len(installed) and again == 0
        tools = await db.all(select(t.agent_tool.c.tool))
        assert sorted(row.tool for row in tools) == ["current_time", "memory_store"]
    finally:
        await db.close()
