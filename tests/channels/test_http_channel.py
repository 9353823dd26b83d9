"""The HTTP channel end to end: a message in, its reply out, dedupe, reading back, and every error path."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient

from bot.store import tables as t
from server.app import App
from tests.helpers import count, post, row_counts


async def test_message_in_reply_out(client: TestClient, auth: dict[str, str], app: App) -> None:
    status, body = await post(client, auth, "hello there")
    assert status == 200
    assert body["status"] == "completed"
    assert body["tier"] == "triage"
    assert body["intent"] == "greeting"
    assert body["reply"]
    assert body["interaction_id"].startswith("ix_")
    # Both sides of the exchange and the triage step are stored.
    assert await count(app, t.message, t.message.c.conversation_id == body["conversation_id"]) == 2
    assert await count(app, t.step, t.step.c.interaction_id == body["interaction_id"]) >= 1


async def test_unanswerable_message_gets_an_honest_reply(client: TestClient, auth: dict[str, str]) -> None:
    status, body = await post(client, auth, "write me a poem about the sea")
    assert status == 200
    assert body["status"] == "unanswered"
    assert body["error_code"] == "no_model"
    assert "no language model is configured" in body["reply"]


async def test_same_message_id_three_times_gives_one_interaction(
    client: TestClient, auth: dict[str, str], app: App
) -> None:
    results = [await post(client, auth, "hi", message_id="m-1") for _ in range(3)]
    assert [status for status, _ in results] == [200, 200, 200]
    assert len({body["interaction_id"] for _, body in results}) == 1
    assert len({body["reply"] for _, body in results}) == 1
    assert [body["duplicate"] for _, body in results] == [False, True, True]
    assert await count(app, t.interaction) == 1
    assert await count(app, t.message, t.message.c.direction == "in") == 1


async def test_concurrent_redeliveries_share_one_interaction(
    client: TestClient, auth: dict[str, str], app: App
) -> None:
    results = await asyncio.gather(*(post(client, auth, "hello", message_id="same") for _ in range(10)))
    assert {body["interaction_id"] for _, body in results} == {results[0][1]["interaction_id"]}
    assert await count(app, t.interaction) == 1


async def test_redelivery_after_cache_loss_is_answered_from_the_store(
    client: TestClient, auth: dict[str, str], app: App
) -> None:
    _, first = await post(client, auth, "hi", message_id="m-x")
    app.services.pipeline._tickets.clear()  # as after a restart: only the store remembers
    status, again = await post(client, auth, "hi", message_id="m-x")
    assert status == 200
    assert again["interaction_id"] == first["interaction_id"]
    assert again["reply"] == first["reply"]
    assert again["duplicate"] is True
    assert await count(app, t.interaction) == 1


async def test_reused_message_id_with_other_text_is_a_conflict(
    client: TestClient, auth: dict[str, str], app: App
) -> None:
    await post(client, auth, "hi", message_id="m-2")
    before = await row_counts(app)
    status, body = await post(client, auth, "something else", message_id="m-2")
    assert status == 409
    assert body["error"]["code"] == "conflict"
    assert await row_counts(app) == before


async def test_slow_answer_gets_202_then_can_be_read(client: TestClient, auth: dict[str, str], app: App) -> None:
    app.services.settings.reply_wait_seconds = 0
    status, body = await post(client, auth, "what's the date today")
    assert status == 202
    assert set(body) >= {"interaction_id", "conversation_id"}
    for _ in range(100):
        response = await client.get(f"/v1/interactions/{body['interaction_id']}", headers=auth)
        detail = await response.json()
        if detail["status"] == "completed":
            break
        await asyncio.sleep(0.02)
    assert detail["status"] == "completed"
    assert detail["tier"] == "triage"
    assert detail["reply"]
    assert detail["steps"][0]["kind"] == "triage"


async def test_conversation_messages_paginate_with_a_cursor(
    client: TestClient, auth: dict[str, str]
) -> None:
    conversation_id = None
    for text in ("hi", "what time is it", "thanks"):
        _, body = await post(client, auth, text)
        conversation_id = body["conversation_id"]
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        response = await client.get(f"/v1/conversations/{conversation_id}/messages", params=query, headers=auth)
        assert response.status == 200
        page = await response.json()
        seen.extend(page["messages"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [m["direction"] for m in seen] == ["in", "out"] * 3
    assert [m["text"] for m in seen[::2]] == ["hi", "what time is it", "thanks"]


async def test_explicit_conversation_id_continues_it(client: TestClient, auth: dict[str, str]) -> None:
    _, first = await post(client, auth, "hi")
    status, second = await post(client, auth, "thanks", conversation_id=first["conversation_id"])
    assert status == 200
    assert second["conversation_id"] == first["conversation_id"]
    status, body = await post(client, auth, "thanks", user="someone-else",
                              conversation_id=first["conversation_id"])
    assert status == 404
    assert body["error"]["code"] == "not_found"


async def test_messages_of_one_conversation_are_answered_in_order(
    client: TestClient, auth: dict[str, str], app: App
) -> None:
    texts = [f"/whoami {i}" for i in range(12)]
    await asyncio.gather(*(post(client, auth, text, message_id=f"o-{i}") for i, text in enumerate(texts)))
    rows = await app.services.db.all(
        t.interaction.select().order_by(t.interaction.c.completed_at, t.interaction.c.id)
    )
    inbound_order = await app.services.db.all(
        t.message.select().where(t.message.c.direction == "in").order_by(t.message.c.id)
    )
    assert [r.inbound_message_id for r in rows] == [m.id for m in inbound_order]
