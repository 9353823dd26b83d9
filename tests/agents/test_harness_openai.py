"""The harness with the real `openai` provider talking HTTP to a fake OpenAI-compatible server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.store import tables as t
from server.app import App
from server.settings import CHANNELS
from tests.conftest import make_settings
from tests.fakes.fake_openai import FakeOpenAI
from tests.helpers import post

PRICES = {"fake-model": [3.0, 15.0]}


async def serve(aiohttp_client: Any, tmp_path: Path, fake: FakeOpenAI, **overrides: Any) -> tuple[Any, App, dict]:
    values = {"llm_provider": "openai", "llm_base_url": fake.url, "llm_api_key": "test", "llm_model": "fake-model",
              "llm_prices": PRICES, "llm_max_retries": 1, "llm_timeout_seconds": 2, **overrides}
    settings = make_settings(tmp_path / "var", **values)
    app = App(settings, channels=CHANNELS.builder(("http",)))
    client = await aiohttp_client(app.web)
    account = await app.services.directory.account_by_slug("default")
    _, key = await app.services.api_keys.create(account.id, "t", actor="tests")
    return client, app, {"Authorization": f"Bearer {key}"}


async def test_tool_calling_round_trip_over_http(aiohttp_client: Any, tmp_path: Path,
                                                 fake_openai: FakeOpenAI) -> None:
    fake_openai.tool_call("current_time", json.dumps({"timezone": "Europe/Paris"}), tokens_in=200, tokens_out=20)
    fake_openai.reply("It's a good time to call Paris.", tokens_in=300, tokens_out=40)
    client, _, auth = await serve(aiohttp_client, tmp_path, fake_openai)
    status, body = await post(client, auth, "is it a sensible hour to phone my aunt in France?")
    assert status == 200, body
    assert (body["tier"], body["status"], body["reply"]) == ("llm", "completed", "It's a good time to call Paris.")
    detail = await (await client.get(f"/v1/interactions/{body['interaction_id']}", headers=auth)).json()
    llm_steps = [s for s in detail["steps"] if s["kind"] in ("llm_call", "tool_call")]
    assert [(s["kind"], s["name"], s["status"]) for s in llm_steps] == [
        ("llm_call", "fake-model", "ok"), ("tool_call", "current_time", "ok"), ("llm_call", "fake-model", "ok")]
    assert llm_steps[0]["tokens_in"] == 200 and llm_steps[2]["tokens_out"] == 40
    expected = (200 * 3 + 20 * 15 + 300 * 3 + 40 * 15) / 1e6
    assert abs(detail["cost_usd"] - expected) < 1e-12
    # the request the server got carried the tool schema; the second one, the tool's result
    first, second = fake_openai.bodies
    assert first["tools"][0]["function"]["name"] == "current_time"
    assert second["messages"][-1]["role"] == "tool" and "Europe/Paris" in second["messages"][-1]["content"]
    metrics = await (await client.get("/metrics")).text()
    assert "thinklio_llm_call_duration_seconds_count" in metrics
    assert 'thinklio_tool_execution_duration_seconds_count{tool="current_time"} 1.0' in metrics
    assert "thinklio_interaction_cost_total" in metrics


async def test_tool_call_to_a_tool_that_does_not_exist(aiohttp_client: Any, tmp_path: Path,
                                                       fake_openai: FakeOpenAI) -> None:
    fake_openai.tool_call("delete_everything", "{}")
    fake_openai.reply("I can't do that.")
    client, _, auth = await serve(aiohttp_client, tmp_path, fake_openai)
    _, body = await post(client, auth, "please wipe the disk for me")
    assert body["reply"] == "I can't do that."
    assert "no tool named" in fake_openai.bodies[1]["messages"][-1]["content"]


async def test_provider_down_then_back(aiohttp_client: Any, tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    fake_openai.status(500).status(500)  # the first try and its one retry
    fake_openai.reply("I'm back.")
    client, app, auth = await serve(aiohttp_client, tmp_path, fake_openai)
    status, body = await post(client, auth, "write me a haiku about rain")
    assert status == 200
    assert (body["status"], body["error_code"]) == ("failed", "provider_unavailable")
    assert "try again" in body["reply"] and fake_openai.url not in body["reply"]  # operators' detail stays in logs
    row = await app.services.db.one(select(t.interaction.c.status).where(t.interaction.c.id == body["interaction_id"]))
    assert row.status == "failed"
    _, again = await post(client, auth, "write me a haiku about rain")
    assert (again["status"], again["reply"]) == ("completed", "I'm back.")


async def test_hang_past_the_timeout_is_a_clear_failure(aiohttp_client: Any, tmp_path: Path,
                                                        fake_openai: FakeOpenAI) -> None:
    fake_openai.hang(10).hang(10)
    client, _, auth = await serve(aiohttp_client, tmp_path, fake_openai, llm_timeout_seconds=0.3,
                                  reply_wait_seconds=10)
    _, body = await post(client, auth, "summarise the history of Rome")
    assert body["error_code"] == "provider_timeout"


async def test_budget_refusal_sends_nothing_to_the_model(aiohttp_client: Any, tmp_path: Path,
                                                         fake_openai: FakeOpenAI) -> None:
    client, _, auth = await serve(aiohttp_client, tmp_path, fake_openai, account_monthly_budget_usd=0.0)
    _, body = await post(client, auth, "compose a sonnet")
    assert (body["status"], body["error_code"]) == ("rejected", "budget_exceeded")
    assert fake_openai.bodies == []


async def test_max_steps_over_http(aiohttp_client: Any, tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    for _ in range(2):
        fake_openai.tool_call("current_time", "{}")
    client, _, auth = await serve(aiohttp_client, tmp_path, fake_openai, harness_max_steps=2)
    _, body = await post(client, auth, "keep asking the clock")
    assert body["error_code"] == "max_steps"
    assert len(fake_openai.bodies) == 2
