"""Asynchronous tool calls: a tool starts a job, POST /v1/callbacks/{call_id} resolves it, and the originating
agent answers into the originating conversation; unknown and finished calls; timeouts."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from agents.llm.base import ChatMessage, ChatResult, ToolSpec
from agents.tools import ToolContext, tool
from bot.ids import new_id
from bot.store import tables as t
from bot.store.batch import Insert
from config.settings import Settings
from jobs import tables as jt
from server.app import App
from tests.fakes.clock import FakeClock
from tests.fakes.scripted_provider import ScriptedProvider
from tests.jobs.test_jobs import Outlet, answer, jobs, say, tool_call


def model(messages: Sequence[ChatMessage], tools: Sequence[ToolSpec]) -> ChatResult:
    last = messages[-1]
    if last.role == "tool":
        return answer("I've asked for the forecast; I'll tell you when it arrives.")
    if "finished; its result" in (last.content or ""):
        return answer(f"Here is your forecast: {last.content.split('its result: ')[1].split(']')[0]}")
    if "failed" in (last.content or ""):
        return answer("Sorry, the forecast service failed.")
    return tool_call("slow_forecast", {"city": "Paris"})


async def setup(settings: Settings, aiohttp_client: Any, clock: FakeClock) -> tuple[App, Outlet, TestClient,
                                                                                     list[str]]:
    from agents.core import CoreExtension
    from jobs.extension import JobsExtension

    app = App(settings, clock=clock, provider=ScriptedProvider(model),
              extensions=[CoreExtension(), JobsExtension()])
    client = await aiohttp_client(app.web)  # starts the app
    outlet = Outlet()
    app.services.pipeline.outlets["http"] = outlet
    call_ids: list[str] = []

    @tool(trust="read")
    async def slow_forecast(ctx: ToolContext, city: str) -> str:
        """Ask the forecast service for a city; it answers later through a callback.

        Args:
            city: the city.
        """
        job = await jobs(app).callbacks.start(ctx.turn, tool="slow_forecast", payload={"city": city},
                                              timeout_seconds=600)
        assert job.call_id is not None
        call_ids.append(job.call_id)
        return "requested; the forecast will arrive later"

    app.tools.register(slow_forecast)
    account = await app.services.directory.account_by_slug("default")
    agent = await app.services.directory.agent_by_slug(account.id, "assistant")
    if "slow_forecast" not in await app.services.directory.agent_tools(agent.id):  # a restart: already there
        await app.services.db.write([Insert(t.agent_tool, {"id": new_id("atl"), "agent_id": agent.id,
                                                           "tool": "slow_forecast", "permission": "read",
                                                           "created_at": clock.now()})])
        app.services.directory.invalidate()
    return app, outlet, client, call_ids


async def key(app: App, *scopes: str) -> dict[str, str]:
    account = await app.services.directory.account_by_slug("default")
    _, plaintext = await app.services.api_keys.create(account.id, "callbacks", scopes, actor="tests")
    return {"Authorization": f"Bearer {plaintext}"}


async def delivered(outlet: Outlet, count: int) -> list[str]:
    for _ in range(300):  # the follow-up turn runs in the background
        if len(outlet.messages) >= count:
            break
        await asyncio.sleep(0.01)
    return [m.text for m in outlet.messages]


async def job_row(app: App, call_id: str) -> Any:
    return await app.services.db.one(select(jt.job).where(jt.job.c.call_id == call_id))


async def test_callback_resolves_the_job_and_the_agent_follows_up(settings: Settings, aiohttp_client: Any) -> None:
    clock = FakeClock()
    app, outlet, client, call_ids = await setup(settings, aiohttp_client, clock)
    first = await say(app, "what will the weather be like in Paris this weekend?")
    assert first.reply == "I've asked for the forecast; I'll tell you when it arrives."
    (call_id,) = call_ids
    row = await job_row(app, call_id)
    assert (row.state, row.conversation_id, row.interaction_id) == ("waiting", first.conversation_id,
                                                                    first.interaction_id)
    clock.advance(minutes=5)
    response = await client.post(f"/v1/callbacks/{call_id}", headers=await key(app, "callbacks:write"), json={
        "job_reference": "fc-77", "status": "completed", "result": {"output": "sunny, 21 C"}})
    assert response.status == 200
    body = await response.json()
    assert (body["state"], body["has_useful_output"], body["job_id"]) == ("resolved", True, row.id)
    texts = await delivered(outlet, 2)
    assert texts[-1] == "Here is your forecast: sunny, 21 C"
    follow_up = outlet.messages[-1]
    assert follow_up.conversation_id == first.conversation_id
    interaction = await app.services.db.one(select(t.interaction).where(t.interaction.c.id == follow_up.interaction_id))
    assert interaction.parent_interaction_id == first.interaction_id and interaction.tier == "llm"
    row = await job_row(app, call_id)
    assert row.result["output"] == "sunny, 21 C" and row.result["job_reference"] == "fc-77"
    assert row.has_useful_output and row.observed_at is not None


async def test_failed_callback_is_told_too(settings: Settings, aiohttp_client: Any) -> None:
    clock = FakeClock()
    app, outlet, client, call_ids = await setup(settings, aiohttp_client, clock)
    await say(app, "forecast for Paris please")
    response = await client.post(f"/v1/callbacks/{call_ids[0]}", headers=await key(app, "callbacks:write"),
                                 json={"status": "failed", "result": {"error": "upstream 503"}})
    assert (await response.json())["state"] == "failed"
    assert (await delivered(outlet, 2))[-1] == "Sorry, the forecast service failed."
    row = await job_row(app, call_ids[0])
    assert row.error == "upstream 503" and not row.has_useful_output


async def test_unknown_or_finished_call_is_a_clear_error_and_changes_nothing(settings: Settings,
                                                                             aiohttp_client: Any) -> None:
    clock = FakeClock()
    app, outlet, client, call_ids = await setup(settings, aiohttp_client, clock)
    auth = await key(app, "callbacks:write")
    done = {"status": "completed", "result": {"output": "sunny"}}
    response = await client.post("/v1/callbacks/cb_nope", headers=auth, json=done)
    assert response.status == 404 and (await response.json())["error"]["code"] == "not_found"

    await say(app, "forecast for Paris please")
    (call_id,) = call_ids
    weak = await client.post(f"/v1/callbacks/{call_id}", headers=await key(app, "messages:write"), json=done)
    assert weak.status == 403
    bad = await client.post(f"/v1/callbacks/{call_id}", headers=auth, json={"status": "maybe"})
    assert bad.status == 400 and (await job_row(app, call_id)).state == "waiting"
    assert (await client.post(f"/v1/callbacks/{call_id}", headers=auth, json=done)).status == 200
    await delivered(outlet, 2)
    before = await job_row(app, call_id)
    again = await client.post(f"/v1/callbacks/{call_id}", headers=auth,
                              json={"status": "completed", "result": {"output": "rain"}})
    assert again.status == 409
    error = (await again.json())["error"]
    assert error["code"] == "conflict" and "already resolved" in error["message"]
    after = await job_row(app, call_id)
    assert after.result == before.result and after.updated_at == before.updated_at
    await asyncio.sleep(0.05)
    assert len(outlet.messages) == 2  # no second follow-up


async def test_overdue_call_times_out_and_the_conversation_is_told(settings: Settings, aiohttp_client: Any) -> None:
    clock = FakeClock()
    app, outlet, client, call_ids = await setup(settings, aiohttp_client, clock)
    first = await say(app, "forecast for Paris please")
    clock.advance(seconds=599)
    await jobs(app).scheduler.run_due()
    assert (await job_row(app, call_ids[0])).state == "waiting"
    clock.advance(seconds=2)
    await jobs(app).scheduler.run_due()
    row = await job_row(app, call_ids[0])
    assert row.state == "timed_out" and row.finished_at == clock.now()
    notice = outlet.sent()
    assert len(notice) == 1 and notice[0].conversation_id == first.conversation_id
    assert "slow_forecast (job 1), started at 10:00, timed out" in notice[0].text
    late = await client.post(f"/v1/callbacks/{call_ids[0]}", headers=await key(app, "callbacks:write"),
                             json={"status": "completed", "result": {"output": "sunny"}})
    assert late.status == 409 and (await job_row(app, call_ids[0])).state == "timed_out"
    assert (await say(app, "/jobs")).reply == "You have no active jobs."


async def test_follow_up_lost_in_a_crash_is_started_at_start_up(settings: Settings, aiohttp_client: Any) -> None:
    from sqlalchemy import update

    clock = FakeClock()
    app, _, _, call_ids = await setup(settings, aiohttp_client, clock)
    first = await say(app, "forecast for Paris please")
    # Resolved, but the process died before its observer ran: the row says so (observed_at unset).
    resolve = (update(jt.job).where(jt.job.c.call_id == call_ids[0])
               .values(state="resolved", has_useful_output=True, result={"output": "windy"}))
    await app.services.db.run(lambda conn: conn.execute(resolve))
    await app.stop()

    second, outlet, _, _ = await setup(settings, aiohttp_client, clock)  # start-up recovers it
    texts = await delivered(outlet, 1)
    assert await jobs(second).recover_follow_ups() == 0  # once only
    await asyncio.sleep(0.05)
    assert texts == ["Here is your forecast: windy"]
    assert outlet.messages[0].conversation_id == first.conversation_id
    assert (await job_row(second, call_ids[0])).observed_at is not None
