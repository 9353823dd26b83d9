"""Money by chat and over /v1/admin: usage from the stored interaction and step costs with token counts, spend
against the budgets, and setting a budget (owners and admins; platform administrators anywhere; members,
readonly members and other accounts refused, every refusal audited; a bad amount changes nothing). The platform
admin is "boss" (`THINKLIO_ADMINS=http:<account id>:boss`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from agents.llm.base import ChatResult, Usage
from bot.ids import new_id
from bot.store import tables as t
from bot.store.batch import Insert
from config.settings import Settings
from server.app import App
from server.settings import CHANNELS
from tests.fakes.scripted_provider import ScriptedProvider
from tests.helpers import count, said, with_platform_admin

Body = dict[str, Any]
PRICES = {"scripted-model": (2.0, 4.0)}  # 1000 in + 100 out: $0.0024 a model turn


@pytest.fixture
async def settings(tmp_path: Path) -> Settings:
    return await with_platform_admin(tmp_path / "var", llm_prices=PRICES)


@pytest.fixture
async def app(settings: Settings) -> App:
    provider = ScriptedProvider(lambda messages, tools: ChatResult("Once upon a time.", (), Usage(1000, 100),
                                                                   "scripted-model"))
    return App(settings, channels=CHANNELS.builder(("http",)), provider=provider)


say = said


async def user_id(app: App, name: str) -> str:
    account = await app.services.directory.account_by_slug("default")
    assert account is not None
    return (await app.services.governance.people.user(f"http:{name}", account.id)).id


async def audit(app: App, action: str, outcome: str) -> int:
    rows = await app.services.db.all(select(t.audit_event.c.detail).where(t.audit_event.c.action == action))
    return sum(1 for row in rows if (row.detail or {}).get("outcome") == outcome)


async def admin_headers(app: App, scopes: tuple[str, ...] = ("admin",)) -> dict[str, str]:
    account = await app.services.directory.account_by_slug("default")
    assert account is not None
    _, key = await app.services.api_keys.create(account.id, "admin", scopes, actor="tests")
    return {"Authorization": f"Bearer {key}"}


async def other_account(app: App) -> tuple[str, str]:
    """A second account with an agent: (its id, the agent's id)."""
    now, account, agent = app.services.clock.now(), new_id("acc"), new_id("agt")
    await app.services.db.write([
        Insert(t.account, {"id": account, "slug": "other", "name": "Other", "status": "active", "created_at": now}),
        Insert(t.agent, {"id": agent, "account_id": account, "slug": "helper", "name": "Helper", "system_prompt": "",
                         "status": "active", "config": {}, "created_at": now})])
    return account, agent


async def test_usage_comes_from_the_stored_costs_with_tokens(app: App, client: TestClient,
                                                             auth: dict[str, str]) -> None:
    for user in ("u1", "u1", "u2"):
        assert (await say(client, auth, "tell me a story", user))["reply"] == "Once upon a time."
    u1, u2 = await user_id(app, "u1"), await user_id(app, "u2")
    reply = (await say(client, auth, "/usage month user", "boss"))["reply"]
    assert f"Sam ({u1}): 2 interactions, 2 model calls, 2000 tokens in / 200 out, $0.0048" in reply
    assert f"Sam ({u2}): 1 interactions, 1 model calls, 1000 tokens in / 100 out, $0.0024" in reply
    assert reply.startswith("Usage this month (since ") and "Total: $0.0072" in reply

    by_agent = (await say(client, auth, "/usage day agent", "boss"))["reply"]
    assert "assistant: " in by_agent and "3 model calls, 3000 tokens in / 300 out, $0.0072" in by_agent

    # the same service over HTTP, figures equal to the steps stored
    response = await client.get("/v1/admin/usage?period=week&by=user", headers=await admin_headers(app))
    assert response.status == 200
    lines = {line["id"]: line for line in (await response.json())["lines"]}
    stored = await app.services.db.one(
        select(func.sum(t.step.c.tokens_in), func.sum(t.step.c.cost_usd))
        .join(t.interaction, t.interaction.c.id == t.step.c.interaction_id).where(t.interaction.c.user_id == u1))
    assert stored is not None
    assert (lines[u1]["tokens_in"], lines[u1]["cost_usd"]) == (stored[0], round(stored[1], 6))
    assert lines[u1]["model_calls"] == 2 and lines[u2]["interactions"] == 1


async def test_members_see_their_own_usage_and_bad_input_is_explained(app: App, client: TestClient,
                                                                     auth: dict[str, str]) -> None:
    await say(client, auth, "tell me a story", "u1")
    await say(client, auth, "tell me a story", "u2")
    own = (await say(client, auth, "/usage month account", "u1"))["reply"]
    assert own.startswith("Your usage this month") and await user_id(app, "u1") in own
    assert await user_id(app, "u2") not in own
    bad = await say(client, auth, "/usage year", "boss")
    assert bad["error_code"] == "bad_request" and bad["reply"].startswith("Usage: /usage [day|week|month]")
    response = await client.get("/v1/admin/usage?by=team", headers=await admin_headers(app))
    assert response.status == 400 and (await response.json())["error"]["code"] == "bad_request"
    response = await client.get("/v1/admin/usage", headers=await admin_headers(app, ("messages:write",)))
    assert response.status == 403 and (await response.json())["error"]["code"] == "forbidden"


async def test_budgets_are_set_by_the_right_people_only(app: App, client: TestClient, auth: dict[str, str]) -> None:
    for user in ("alice", "bob", "reader"):
        await say(client, auth, "hello", user)
    await say(client, auth, "/grant http:alice admin", "boss")
    await say(client, auth, "/grant http:reader readonly", "boss")
    for who in ("bob", "reader"):  # a member and a readonly member: refused, audited, nothing set
        refused = await say(client, auth, "/budget set user http:bob 5", who)
        assert refused["error_code"] == "forbidden" and "owners and admins" in refused["reply"]
    assert await audit(app, "budget.set.user", "refused") == 2
    assert await count(app, t.budget) == 0

    assert (await say(client, auth, "/budget set user http:bob 0.003", "alice"))["reply"] == (
        f"Sam ({await user_id(app, 'bob')})'s monthly budget is now $0.0030.")
    assert (await say(client, auth, "/budget set agent assistant 12.5", "alice"))["error_code"] is None
    assert (await say(client, auth, "/budget set account default $100", "alice"))["error_code"] is None
    assert await audit(app, "budget.set.user", "done") == 1 and await audit(app, "budget.set.account", "done") == 1

    # another account's budget: refused to the account admin, audited; allowed to a platform admin
    other, helper = await other_account(app)
    for target in ("account other 5", f"agent {helper} 5"):
        refused = await say(client, auth, f"/budget set {target}", "alice")
        assert refused["error_code"] == "forbidden" and "not in this account" in refused["reply"], refused
    assert await audit(app, "budget.set.account", "refused") == 1 and await audit(app, "budget.set.agent",
                                                                                   "refused") == 1
    assert (await say(client, auth, "/budget set account other 7", "boss"))["error_code"] is None
    stranger = new_id("usr")  # a member of the other account only
    now = app.services.clock.now()
    await app.services.db.write([
        Insert(t.user_profile, {"id": stranger, "display_name": "Kim", "status": "active", "created_at": now}),
        Insert(t.membership, {"id": new_id("mem"), "account_id": other, "user_id": stranger, "role": "member",
                              "created_at": now})])
    refused = await say(client, auth, f"/budget set user {stranger} 5", "alice")
    assert refused["error_code"] == "forbidden" and await audit(app, "budget.set.user", "refused") == 3
    assert (await say(client, auth, f"/budget set user {stranger} 3", "boss"))["error_code"] is None
    row = await app.services.db.one(select(t.budget.c.account_id).where(t.budget.c.subject_id == stranger))
    assert row is not None and row.account_id == other
    row = await app.services.db.one(select(t.budget.c.limit_usd).where(t.budget.c.account_id == other))
    assert row is not None and row.limit_usd == 7.0

    # bad amounts: a clear reply, nothing changed
    before = await count(app, t.budget), await count(app, t.audit_event)
    for amount in ("-5", "abc", "inf", "nan", "1e9", "5x"):
        bad = await say(client, auth, f"/budget set user http:bob {amount}", "alice")
        assert (bad["error_code"] == "bad_request" and "budget" in bad["reply"].lower()) or "amount" in bad["reply"]
    assert (await count(app, t.budget), await count(app, t.audit_event)) == before
    limit = await app.services.db.one(select(t.budget.c.limit_usd).where(t.budget.c.subject_id == await user_id(
        app, "bob")))
    assert limit is not None and limit.limit_usd == 0.003


async def test_a_budget_set_by_chat_is_enforced_and_shown(app: App, client: TestClient, auth: dict[str, str]) -> None:
    await say(client, auth, "hello", "bob")
    await say(client, auth, "/budget set user http:bob 0.004", "boss")
    assert (await say(client, auth, "tell me a story", "bob"))["reply"] == "Once upon a time."
    second = (await say(client, auth, "tell me a story", "bob"))["reply"]  # 0.0024 < 0.004: admitted, 120 %
    assert second.endswith("Note: You have used 120% of your monthly budget ($0.0048 of $0.0040).")
    third = await say(client, auth, "tell me a story", "bob")
    assert third["error_code"] == "budget_exceeded"
    standing = (await say(client, auth, "/budget", "bob"))["reply"].splitlines()
    assert standing[0] == "Account default: $0.0048 this month, no budget."
    assert standing[1] == f"User Sam ({await user_id(app, 'bob')}): $0.0048 of $0.0040, 120%."
    assert standing[2] == "Agent assistant: $0.0048 this month, no budget."
    # 'none' lifts it (no default applies either)
    await say(client, auth, "/budget set user http:bob none", "boss")
    assert (await say(client, auth, "tell me a story", "bob"))["reply"] == "Once upon a time."


async def test_budgets_over_http(app: App, client: TestClient, auth: dict[str, str]) -> None:
    headers = await admin_headers(app)
    response = await client.put("/v1/admin/budgets/agent/assistant", json={"amount_usd": 20}, headers=headers)
    assert response.status == 200, await response.json()
    body = await response.json()
    assert body["message"] == "Agent assistant's monthly budget is now $20.00."
    assert [(b["scope"], b["limit_usd"]) for b in body["budgets"]] == [("account", None), ("agent", 20.0)]
    for bad in ({"amount_usd": -1}, {"amount_usd": "lots"}, {"amount": 5}, {"amount_usd": 1e12}):
        response = await client.put("/v1/admin/budgets/agent/assistant", json=bad, headers=headers)
        assert response.status == 400 and (await response.json())["error"]["code"] == "bad_request", bad
    response = await client.put("/v1/admin/budgets/team/x", json={"amount_usd": 1}, headers=headers)
    assert response.status == 400
    response = await client.put("/v1/admin/budgets/agent/nobody", json={"amount_usd": 1}, headers=headers)
    assert response.status == 404 and (await response.json())["error"]["code"] == "not_found"
    response = await client.put("/v1/admin/budgets/account/other", json={"amount_usd": 1}, headers=headers)
    assert response.status == 404  # no such account
    await other_account(app)
    response = await client.put("/v1/admin/budgets/account/other", json={"amount_usd": 1}, headers=headers)
    assert response.status == 403 and (await response.json())["error"]["code"] == "forbidden"
    listed = await (await client.get("/v1/admin/budgets", headers=headers)).json()
    assert [(b["scope"], b["limit_usd"]) for b in listed["budgets"]] == [("account", None), ("agent", 20.0)]
    assert await audit(app, "budget.set.account", "refused") == 1
