"""The harness loop with an in-process scripted model: tools, permissions, budgets, limits, failures."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from agents.llm.base import ChatMessage, ChatResult, ProviderError, ToolCall, ToolSpec, Usage
from agents.tools import ToolContext, tool
from bot.ids import new_id
from bot.messages import InboundMessage, Outcome, Sender
from bot.store import tables as t
from bot.store.batch import Insert
from server.app import App
from server.settings import CHANNELS
from tests.conftest import make_settings
from tests.fakes.scripted_provider import ScriptedProvider

PRICES = {"scripted-model": (2.0, 4.0)}  # USD per million tokens in / out


def call(name: str, arguments: dict[str, Any] | None, raw: str = "") -> ChatResult:
    return ChatResult(None, (ToolCall(new_id("call"), name, arguments, None if arguments is not None else "bad json",
                                      raw),), Usage(1000, 100), "scripted-model")


def text(answer: str) -> ChatResult:
    return ChatResult(answer, (), Usage(1500, 500), "scripted-model")


async def started(tmp_path: Path, provider: Any, **overrides: Any) -> App:
    settings = make_settings(tmp_path / "var", llm_prices=PRICES, **overrides)
    app = App(settings, channels=CHANNELS.builder(()), provider=provider)
    await app.start()
    return app


async def ask(app: App, message: str, user: str = "acc:u1") -> Outcome:
    return await app.services.pipeline.handle(InboundMessage(channel="api", sender=Sender(user, "Sam"), text=message))


async def steps(app: App, interaction_id: str) -> list[Any]:
    return await app.services.db.all(
        select(t.step).where(t.step.c.interaction_id == interaction_id).order_by(t.step.c.seq)
    )


async def assign(app: App, tool_name: str, permission: str) -> None:
    agent = await app.services.directory.agent_by_slug(
        (await app.services.directory.account_by_slug("default")).id, "assistant")
    await app.services.db.write([Insert(t.agent_tool, {"id": new_id("atl"), "agent_id": agent.id, "tool": tool_name,
                                                       "permission": permission,
                                                       "created_at": app.services.clock.now()})])
    app.services.directory.invalidate()


async def test_tool_round_trip_is_recorded_with_costs(tmp_path: Path) -> None:
    provider = ScriptedProvider([call("current_time", {"timezone": "Asia/Tokyo"}), text("It is evening in Tokyo.")])
    app = await started(tmp_path, provider)
    try:
        outcome = await ask(app, "should I ring my friend in Japan before dinner or after?")
        assert (outcome.status, outcome.tier, outcome.reply) == ("completed", "llm", "It is evening in Tokyo.")
        kinds = [(s.kind, s.name, s.status) for s in await steps(app, outcome.interaction_id)]
        assert kinds == [("triage", "none", "ok"), ("llm_call", "scripted-model", "ok"),
                         ("tool_call", "current_time", "ok"), ("llm_call", "scripted-model", "ok")]
        recorded = await steps(app, outcome.interaction_id)
        assert recorded[1].tokens_in == 1000 and recorded[1].tokens_out == 100
        assert recorded[1].cost_usd == pytest.approx(1000 * 2 / 1e6 + 100 * 4 / 1e6)
        interaction = await app.services.db.one(
            select(t.interaction).where(t.interaction.c.id == outcome.interaction_id)
        )
        assert interaction.cost_usd == pytest.approx(sum(s.cost_usd for s in recorded))
        # the model saw the tool schema, then the tool's answer
        first_tools = provider.calls[0][1]
        assert "current_time" in [spec.name for spec in first_tools]
        tool_message = provider.calls[1][0][-1]
        assert tool_message.role == "tool" and "Asia/Tokyo" in (tool_message.content or "")
    finally:
        await app.stop()


async def test_call_above_the_agents_permission_is_refused(tmp_path: Path) -> None:
    performed: list[str] = []

    @tool(trust="write")
    async def save_note(ctx: ToolContext, note: str) -> str:
        """Save a note for the user.

        Args:
            note: the text to keep.
        """
        performed.append(note)
        return "saved"

    provider = ScriptedProvider([call("save_note", {"note": "buy milk"}), text("I could not save that.")])
    app = await started(tmp_path, provider)
    try:
        app.tools.register(save_note)
        await assign(app, "save_note", "read")
        outcome = await ask(app, "keep a note: buy milk")
        assert outcome.reply == "I could not save that."
        refused = [s for s in await steps(app, outcome.interaction_id) if s.kind == "tool_call"]
        assert [(s.name, s.status, s.error) for s in refused] == [("save_note", "denied", "policy_denied")]
        assert performed == []
        assert "policy_denied" in (provider.calls[1][0][-1].content or "")
    finally:
        await app.stop()


async def test_over_budget_the_model_is_not_called(tmp_path: Path) -> None:
    provider = ScriptedProvider([text("first answer"), text("never")])
    app = await started(tmp_path, provider, user_monthly_budget_usd=0.003)
    try:
        first = await ask(app, "tell me something interesting")
        assert first.status == "completed"  # 1500 in + 500 out = $0.005 spent, over the $0.003 budget
        second = await ask(app, "and another thing")
        assert (second.status, second.error_code) == ("rejected", "budget_exceeded")
        assert "budget" in (second.reply or "")
        assert len(provider.calls) == 1
        other_user = await ask(app, "hello? tell me a story", user="acc:u2")
        assert other_user.status == "completed"
    finally:
        await app.stop()


async def test_account_budget_counts_everyone(tmp_path: Path) -> None:
    provider = ScriptedProvider(lambda messages, tools: text("ok"))
    app = await started(tmp_path, provider, account_monthly_budget_usd=0.006)
    try:
        assert (await ask(app, "write me a poem", user="acc:a")).status == "completed"
        assert (await ask(app, "write me a poem", user="acc:b")).status == "completed"
        third = await ask(app, "write me a poem", user="acc:c")
        assert third.error_code == "budget_exceeded"
    finally:
        await app.stop()


async def test_max_steps_stops_with_an_honest_answer(tmp_path: Path) -> None:
    zones = iter(["Asia/Tokyo", "Europe/Paris", "America/Lima", "Africa/Cairo"])
    provider = ScriptedProvider(lambda messages, tools: call("current_time", {"timezone": next(zones)}))
    app = await started(tmp_path, provider, harness_max_steps=3)
    try:
        outcome = await ask(app, "keep checking the time forever")
        assert outcome.error_code == "max_steps"
        assert outcome.reply == "I could not do that: I tried 'current_time' without getting to an answer."
        assert len(provider.calls) == 3
    finally:
        await app.stop()


async def test_a_repeated_call_is_not_run_again_and_the_loop_ends(tmp_path: Path) -> None:
    runs: list[str] = []

    @tool(trust="read")
    async def lookup(ctx: ToolContext, query: str) -> str:
        """Look something up.

        Args:
            query: what to look up.
        """
        runs.append(query)
        return f"found {query}"

    provider = ScriptedProvider(lambda messages, tools: call("lookup", {"query": "tides"}))
    app = await started(tmp_path, provider)
    try:
        app.tools.register(lookup)
        await assign(app, "lookup", "read")
        outcome = await ask(app, "when is high tide?")
        assert runs == ["tides"]  # run once; the repeats got the earlier result back
        repeated = provider.calls[2][0][-1].content or ""
        assert repeated.startswith("found tides") and "already called lookup" in repeated
        assert outcome.error_code == "no_progress" and "'lookup'" in (outcome.reply or "")
        assert len(provider.calls) == 4  # the call, then three steps that got nowhere
        statuses = [(s.name, s.status, s.error) for s in await steps(app, outcome.interaction_id)
                    if s.kind == "tool_call"]
        assert statuses == [("lookup", "ok", None)] + [("lookup", "skipped", "repeated_call")] * 3
    finally:
        await app.stop()


async def test_unknown_tool_bad_arguments_and_slow_tool_go_back_to_the_model(tmp_path: Path) -> None:
    @tool(trust="read", timeout=0.05)
    async def slow_lookup(ctx: ToolContext, query: str) -> str:
        """Look something up, slowly.

        Args:
            query: what to look up.
        """
        await asyncio.sleep(5)
        return "too late"

    script = [call("launch_rockets", {}), call("current_time", None, raw="{timezone: tokyo"), text("checking"),
              call("current_time", {"zone": "x"}), call("slow_lookup", {"query": "x"}), text("done")]
    provider = ScriptedProvider(script)
    app = await started(tmp_path, provider)
    try:
        app.tools.register(slow_lookup)
        await assign(app, "slow_lookup", "read")
        first = await ask(app, "do several things for me")
        assert first.reply == "checking"
        second = await ask(app, "and look this up")
        assert second.reply == "done"
        errors = [(s.name, s.error.split(":")[0]) for o in (first, second)
                  for s in await steps(app, o.interaction_id) if s.kind == "tool_call"]
        assert errors == [("launch_rockets", "unknown_tool"), ("current_time", "bad_arguments"),
                          ("current_time", "bad_arguments"), ("slow_lookup", "timeout")]
        results = [c[0][-1].content or "" for c in provider.calls[1:]]
        assert "no tool named" in results[0] and "not valid JSON" in results[1] and "unknown argument" in results[3]
        assert "did not answer" in results[4]
    finally:
        await app.stop()


async def test_provider_down_fails_the_turn_and_the_next_one_works(tmp_path: Path) -> None:
    answers: list[Any] = [ProviderError("provider_unavailable", "the model server answered 503"), text("back again")]

    def answer(messages: Sequence[ChatMessage], tools: Sequence[ToolSpec]) -> ChatResult:
        item = answers.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    app = await started(tmp_path, ScriptedProvider(answer))
    try:
        down = await ask(app, "tell me a joke")
        assert (down.status, down.error_code) == ("failed", "provider_unavailable")
        assert "not reachable" in (down.reply or "") and "try again" in (down.reply or "")
        up = await ask(app, "tell me a joke")
        assert (up.status, up.reply) == ("completed", "back again")
    finally:
        await app.stop()


async def test_context_has_the_prompt_time_zone_and_history(tmp_path: Path) -> None:
    provider = ScriptedProvider(lambda messages, tools: text("noted"))
    app = await started(tmp_path, provider)
    try:
        await ask(app, "my time zone is Europe/Berlin")
        await ask(app, "I am planning a trip to Rome")
        await ask(app, "what should I pack?")
        messages = provider.calls[-1][0]
        assert messages[0].role == "system" and "Europe/Berlin" in (messages[0].content or "")
        assert "Sam" in (messages[0].content or "")
        assert [(m.role, m.content) for m in messages[-3:]] == [
            ("user", "I am planning a trip to Rome"), ("assistant", "noted"), ("user", "what should I pack?")]
    finally:
        await app.stop()


async def test_a_long_answer_is_stored_whole(tmp_path: Path) -> None:
    long_answer = "word " * 5000
    app = await started(tmp_path, ScriptedProvider(lambda m, t_: text(long_answer)))
    try:
        outcome = await ask(app, "tell me everything")
        row = await app.services.db.one(select(t.message.c.text).where(t.message.c.direction == "out"))
        assert row.text == long_answer.strip() and outcome.reply == long_answer.strip()
    finally:
        await app.stop()
