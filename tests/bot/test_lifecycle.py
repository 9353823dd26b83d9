"""Restarts, recovery of unfinished work, gates and admin state, health and metrics."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.ids import new_id
from bot.messages import InboundMessage, Sender
from bot.store import tables as t
from bot.store.batch import Insert, Update
from channels.base import BaseChannel
from config.settings import Settings
from server.app import App
from tests.helpers import count, post


async def _start(make_app: Any, settings: Settings) -> App:
    app = make_app(settings)
    await app.start()
    return app


async def test_restart_keeps_conversations(settings: Settings, make_app: Any) -> None:
    first = await _start(make_app, settings)
    inbound = InboundMessage(channel="api", sender=Sender("acc:u1", "Sam"), text="hi")
    outcome = await first.services.pipeline.handle(inbound)
    await first.stop()

    second = await _start(make_app, settings)
    try:
        again = await second.services.pipeline.handle(InboundMessage(channel="api", sender=Sender("acc:u1"),
                                                                     text="thanks"))
        assert again.conversation_id == outcome.conversation_id
        texts = [row.text for row in await second.services.db.all(
            select(t.message.c.text).where(t.message.c.conversation_id == outcome.conversation_id)
            .order_by(t.message.c.id))]
        assert texts[0] == "hi" and texts[2] == "thanks" and len(texts) == 4
        assert await count(second, t.account) == 1  # seeding is idempotent
        assert await count(second, t.channel) == 5  # api, console, telegram, slack, email
    finally:
        await second.stop()


async def _stored_but_unfinished(app: App, status: str, text: str) -> str:
    """Write a message and its interaction as a crashed run would have left them."""
    directory = app.services.directory
    channel = await directory.channel("api")
    assert channel is not None
    user = await directory.identify("http", Sender("acc:crash", "Crash"), channel.account_id)
    conversation = await directory.conversation(channel, user, "acc:crash")
    now = app.services.clock.now()
    message_id, interaction_id = new_id("msg"), new_id("ix")
    await app.services.db.write([
        Insert(t.message, {"id": message_id, "conversation_id": conversation.id, "channel_id": channel.id,
                           "external_id": None, "direction": "in", "user_id": user.id, "text": text,
                           "created_at": now}),
        Insert(t.interaction, {"id": interaction_id, "account_id": channel.account_id, "agent_id": channel.agent_id,
                               "user_id": user.id, "conversation_id": conversation.id, "channel_id": channel.id,
                               "inbound_message_id": message_id, "status": status, "cost_usd": 0.0,
                               "created_at": now}),
    ])
    return interaction_id


async def _interaction(app: App, interaction_id: str) -> Any:
    for _ in range(200):
        row = await app.services.db.one(select(t.interaction).where(t.interaction.c.id == interaction_id))
        if row is not None and row.status not in ("received", "running"):
            return row
        await asyncio.sleep(0.01)
    raise AssertionError(f"{interaction_id} never finished")


async def test_start_up_resumes_unstarted_and_closes_interrupted_work(settings: Settings, make_app: Any) -> None:
    crashed = await _start(make_app, settings)
    await crashed.services.platform.stop()
    never_started = await _stored_but_unfinished(crashed, "received", "what time is it")
    cut_off = await _stored_but_unfinished(crashed, "running", "tell me a long story")
    await crashed.services.db.close()  # no drain, no goodbye: as if the process died

    restarted = await _start(make_app, settings)
    try:
        resumed = await _interaction(restarted, never_started)
        assert resumed.status == "completed" and resumed.tier == "triage"
        closed = await _interaction(restarted, cut_off)
        assert closed.status == "interrupted"
        reply = await restarted.services.db.one(
            select(t.message.c.text).where(t.message.c.id == closed.reply_message_id)
        )
        assert reply is not None and "restarted" in reply.text
    finally:
        await restarted.stop()


async def test_pause_rejects_and_resume_restores(client: TestClient, auth: dict[str, str], app: App) -> None:
    await app.services.platform.set_status("paused", actor="tests")
    status, body = await post(client, auth, "hi")
    assert status == 200
    assert (body["status"], body["error_code"], body["tier"]) == ("rejected", "platform_paused", "gate")
    assert "paused" in body["reply"]
    await app.services.platform.set_status("online", actor="tests")
    _, body = await post(client, auth, "hi")
    assert body["status"] == "completed"


async def test_maintenance_queues_and_answers_when_it_ends(
    client: TestClient, auth: dict[str, str], app: App
) -> None:
    await app.services.platform.set_status("maintenance", actor="tests")
    status, body = await post(client, auth, "what time is it")
    assert status == 202
    assert body["status"] == "queued" and body["reply"] is None
    assert "maintenance" in body["notice"]  # the caller learns why the answer waits
    await app.services.platform.set_status("online", actor="tests")
    for _ in range(200):
        row = await app.services.db.one(select(t.interaction).where(t.interaction.c.id == body["interaction_id"]))
        if row.status == "completed":
            break
        await asyncio.sleep(0.01)
    assert row.status == "completed" and row.tier == "triage"
    response = await client.get(f"/v1/interactions/{body['interaction_id']}", headers=auth)
    assert (await response.json())["reply"]


async def test_cli_change_reaches_the_server_through_the_revision(
    client: TestClient, auth: dict[str, str], app: App, settings: Settings, make_app: Any
) -> None:
    other_process = make_app(settings, channels=())
    await other_process.open_store()
    await other_process.services.platform.set_status("paused", actor="cli")
    await other_process.close_store()
    for _ in range(100):  # the server polls every 50 ms in tests
        if app.services.platform.status == "paused":
            break
        await asyncio.sleep(0.02)
    _, body = await post(client, auth, "hi")
    assert body["error_code"] == "platform_paused"
    audit = await app.services.db.all(select(t.audit_event.c.action, t.audit_event.c.actor))
    assert ("platform.paused", "cli") in [(a.action, a.actor) for a in audit]


async def test_agent_paused_and_user_suspended_gates(client: TestClient, auth: dict[str, str], app: App) -> None:
    _, first = await post(client, auth, "hi")
    agent = await app.services.directory.agent_by_slug((await app.services.directory.account_by_slug("default")).id,
                                                        "assistant")
    await app.services.platform.change([Update(t.agent, agent.id, {"status": "paused"})], actor="test",
                                       action="agent.pause")
    _, body = await post(client, auth, "hi")
    assert (body["status"], body["error_code"]) == ("rejected", "agent_paused")
    await app.services.platform.change([Update(t.agent, agent.id, {"status": "active"})], actor="test",
                                       action="agent.resume")

    user_id = (await app.services.db.one(select(t.interaction.c.user_id)
                                         .where(t.interaction.c.id == first["interaction_id"]))).user_id
    await app.services.directory.update_user(user_id, status="suspended")
    _, body = await post(client, auth, "hi")
    assert (body["status"], body["error_code"]) == ("rejected", "user_suspended")
    _, other = await post(client, auth, "hi", user="u2")
    assert other["status"] == "completed"


async def test_health_and_metrics(client: TestClient, auth: dict[str, str]) -> None:
    await post(client, auth, "what time is it")
    health = await (await client.get("/health")).json()
    assert health["status"] == "ok"
    assert health["store"]["status"] == "ok"
    assert health["channels"]["http"]["status"] == "running"
    assert health["uptime_seconds"] >= 0 and health["version"]
    metrics = await (await client.get("/metrics")).text()
    assert 'thinklio_triage_intent_total{intent="time"} 1.0' in metrics
    assert 'thinklio_interaction_duration_seconds_count{tier="triage"} 1.0' in metrics


async def test_server_started_messages_and_follow_ups(settings: Settings, make_app: Any) -> None:
    from agents.llm.base import ChatResult
    from tests.fakes.scripted_provider import ScriptedProvider

    delivered: list[str] = []

    class Outlet(BaseChannel):
        type = "http"

        async def deliver(self, message: Any) -> None:
            delivered.append(message.text)

    provider = ScriptedProvider(lambda messages, tools: ChatResult(f"saw: {messages[-1].content}"))
    app = App(settings, channels=None, provider=provider)
    await app.start()
    try:
        app.services.pipeline.outlets["http"] = Outlet()
        first = await app.services.pipeline.handle(InboundMessage("api", Sender("acc:f"), "hi"))
        await app.services.pipeline.outlets.send(first.conversation_id, "Reminder: stretch")
        ticket = await app.services.pipeline.follow_up(first.conversation_id, "/pause the weather report is ready",
                                                       parent_interaction_id=first.interaction_id)
        outcome = await ticket.done
        assert outcome.tier == "llm"  # not a command, not triage: the harness answers the event
        assert delivered[-2:] == ["Reminder: stretch", "saw: /pause the weather report is ready"]
        row = await app.services.db.one(select(t.interaction).where(t.interaction.c.id == outcome.interaction_id))
        assert row.parent_interaction_id == first.interaction_id
        assert app.services.platform.status == "online"
    finally:
        await app.stop()
