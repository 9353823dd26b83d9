"""Small helpers for tests: counting rows, posting messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot.store import tables as t
from config.settings import Settings
from server.app import App
from tests.conftest import make_settings


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


async def with_platform_admin(data_dir: Path, name: str = "boss", **settings: Any) -> Settings:
    """Settings in which the HTTP caller `name` of the default account is a platform admin: the account's id is
    known only once a first look at the seeded store tells it."""
    probe = App(make_settings(data_dir), channels=None)
    await probe.open_store()
    account = await probe.services.directory.account_by_slug("default")
    await probe.close_store()
    assert account is not None
    return make_settings(data_dir, admins=[f"http:{account.id}:{name}"], **settings)


async def said(client: TestClient, auth: dict[str, str], text: str, user: str) -> dict[str, Any]:
    """The answer to `text` from `user`, which must be a 200."""
    status, body = await post(client, auth, text, user=user)
    assert status == 200, body
    return body
