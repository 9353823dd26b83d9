"""The same code on Postgres: migrations, the pipeline over HTTP, dedupe, group commit, restart.

Runs against a throwaway server started by the test (tests/fakes/postgres.py); skipped, with the reason,
only where no PostgreSQL server binaries are installed (never in CI).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from bot.ids import new_id
from bot.messages import InboundMessage, Sender
from bot.store import tables as t
from bot.store.batch import Insert
from server.app import App
from tests.conftest import make_settings
from tests.fakes import postgres
from tests.helpers import count, post

pytestmark = postgres.required()




@pytest.fixture
def pg_settings(tmp_path: Path, database_url: str) -> Any:
    return make_settings(tmp_path / "var", database_url=database_url)


async def test_migrations_match_the_tables(pg_settings: Any, make_app: Any) -> None:
    app = make_app(pg_settings)
    await app.open_store()
    try:
        diff = await app.services.db.read(lambda conn: compare_metadata(MigrationContext.configure(conn), t.metadata))
        assert diff == []
        assert app.services.db.dialect == "postgresql"
    finally:
        await app.close_store()


async def test_http_round_trip_dedupe_and_conflict(aiohttp_client: Any, pg_settings: Any, make_app: Any) -> None:
    app = make_app(pg_settings)
    client = await aiohttp_client(app.web)
    account = await app.services.directory.account_by_slug("default")
    _, key = await app.services.api_keys.create(account.id, "pg", actor="tests")
    auth = {"Authorization": f"Bearer {key}"}
    results = await asyncio.gather(*(post(client, auth, "what time is it", message_id="pg-1") for _ in range(5)))
    assert {status for status, _ in results} == {200}
    assert len({body["interaction_id"] for _, body in results}) == 1
    assert results[0][1]["tier"] == "triage"
    app.services.pipeline._tickets.clear()
    status, again = await post(client, auth, "what time is it", message_id="pg-1")
    assert status == 200 and again["duplicate"] and again["reply"] == results[0][1]["reply"]
    status, body = await post(client, auth, "different", message_id="pg-1")
    assert status == 409 and body["error"]["code"] == "conflict"
    assert await count(app, t.interaction) == 1
    response = await client.get(f"/v1/interactions/{again['interaction_id']}", headers=auth)
    assert (await response.json())["status"] == "completed"


async def test_failing_unit_is_isolated_and_restart_keeps_conversations(pg_settings: Any, make_app: Any) -> None:
    app: App = make_app(pg_settings)
    await app.start()
    outcome = await app.services.pipeline.handle(InboundMessage("api", Sender("acc:pg"), "hello"))
    now = app.services.clock.now()
    good = Insert(t.account, {"id": new_id("acc"), "slug": "fine", "name": "x", "status": "active", "created_at": now})
    clash = Insert(t.account, {"id": new_id("acc"), "slug": "default", "name": "x", "status": "active",
                               "created_at": now})
    results = await asyncio.gather(app.services.db.write([good]), app.services.db.write([clash]),
                                   return_exceptions=True)
    assert results[0] is True and isinstance(results[1], Exception)
    await app.stop()

    again: App = make_app(pg_settings)
    await again.start()
    try:
        second = await again.services.pipeline.handle(InboundMessage("api", Sender("acc:pg"), "thanks"))
        assert second.conversation_id == outcome.conversation_id
        slugs = {row.slug for row in await again.services.db.all(select(t.account.c.slug))}
        assert slugs == {"default", "fine"}
    finally:
        await again.stop()
