"""Small helpers for tests: counting rows, posting messages."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot.store import tables as t
from server.app import App


async def count(app: App, table: Any, *where: Any) -> int:
    query = select(func.count()).select_from(table)
    if where:
        query = query.where(*where)
    row = await app.services.db.one(query)
    assert row is not None
    return int(row[0])


async def row_counts(app: App) -> dict[str, int]:
    return {table.name: await count(app, table) for table in (t.message, t.interaction, t.step,
                                                                t.user_profile, t.conversation)}


async def post(client: TestClient, auth: dict[str, str], text: str, *, user: str = "u1",
               channel: str = "api", **extra: Any) -> tuple[int, dict[str, Any]]:
    body = {"text": text, "user": {"id": user, "name": "Sam"}, **extra}
    response = await client.post(f"/v1/channels/{channel}/messages", json=body, headers=auth)
    return response.status, await response.json()
