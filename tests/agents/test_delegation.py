"""Delegation: an agent's model asks another agent through an `ask_<slug>` tool (agents/delegation.py). A scripted
model answers as whichever agent its system prompt names; no network."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from agents.llm.base import ChatMessage, ChatResult, ToolSpec
from bot.errors import ThinklioError
from bot.governance import Actor
from bot.ids import new_id
from bot.store import tables as t
from bot.store.batch import Insert
from jobs import tables as jt
from server.app import App
from tests.agents.test_harness import ask, call, started, steps, text
from tests.fakes.scripted_provider import ScriptedProvider

Script = Callable[[Sequence[ChatMessage], Sequence[ToolSpec]], ChatResult]


class Agents:
    """Answers as the agent named in the system prompt ("ROLE researcher"; the default agent otherwise)."""

    def __init__(self, scripts: dict[str, list[Script | ChatResult]]) -> None:
        self.scripts = scripts
        self.asked: list[tuple[str, list[str]]] = []  # (agent, tools offered)

    def __call__(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec]) -> ChatResult:
        system = messages[0].content or ""
        who = next((name for name in self.scripts if f"ROLE {name}" in system), "assistant")
        self.asked.append((who, [spec.name for spec in tools]))
        step = self.scripts[who].pop(0)
        return step(messages, tools) if callable(step) else step


async def setup(tmp_path: Path, agents: Agents, *names: str, **overrides: Any) -> tuple[App, Actor]:
    app = await started(tmp_path, ScriptedProvider(agents), **overrides)
    account = await app.services.directory.account_by_slug("default")
    assert account is not None
    owner = Actor("user:test-owner", account.id, "owner")
    for name in names:
        await app.services.governance.agents.create(owner, name)
        await app.services.governance.agents.set_prompt(owner, name, f"ROLE {name}. You help other agents.")
    return app, owner


def relay(messages: Sequence[ChatMessage], tools: Sequence[ToolSpec]) -> ChatResult:
    return text(f"Done: {messages[-1].content}")


async def test_a_delegate_answers_into_the_callers_reply_with_its_steps_and_cost(tmp_path: Path) -> None:
    agents = Agents({"assistant": [call("ask_researcher", {"task": "capital of Peru"}), relay],
                     "researcher": [text("Lima is the capital.")], "scheduler": []})
    app, owner = await setup(tmp_path, agents, "researcher", "scheduler")
    try:
        await app.services.governance.agents.add_delegate(owner, "assistant", "researcher")
        outcome = await ask(app, "please find out the capital of Peru")
        assert outcome.reply == "Done: Lima is the capital."
        # only the allowed delegate is offered; the delegate does not see a tool back to its caller
        assert "ask_researcher" in agents.asked[0][1] and "ask_scheduler" not in agents.asked[0][1]
        assert [who for who, _ in agents.asked] == ["assistant", "researcher", "assistant"]
        recorded = await steps(app, outcome.interaction_id)
        child = [s for s in recorded if (s.detail or {}).get("delegate") == "researcher"]
        assert [(s.kind, s.detail["depth"]) for s in child] == [("llm_call", 1)]
        assert child[0].cost_usd > 0
        interaction = await app.services.db.one(
            select(t.interaction).where(t.interaction.c.id == outcome.interaction_id))
        assert interaction is not None
        assert interaction.cost_usd == pytest.approx(sum(s.cost_usd for s in recorded))
        assert [s.seq for s in recorded] == list(range(1, len(recorded) + 1))
    finally:
        await app.stop()


async def test_depth_and_cycles_are_refused_as_tool_errors_and_the_turn_goes_on(tmp_path: Path) -> None:
    agents = Agents({
        "assistant": [call("ask_researcher", {"task": "look it up"}), relay],
        "researcher": [call("ask_scheduler", {"task": "when?"}), call("ask_assistant", {"task": "help"}), relay],
        "scheduler": []})
    app, owner = await setup(tmp_path, agents, "researcher", "scheduler")
    try:
        admin = app.services.governance.agents
        await admin.add_delegate(owner, "assistant", "researcher")
        await admin.add_delegate(owner, "researcher", "scheduler")
        with pytest.raises(ThinklioError, match="cycle"):  # refused at composition time
            await admin.add_delegate(owner, "scheduler", "assistant")
        # forced into the database anyway: refused at run time
        ids = {slug: (await app.services.directory.agent_by_slug(owner.account_id, slug)).id  # type: ignore[union-attr]
               for slug in ("assistant", "researcher")}
        await app.services.db.write([Insert(t.agent_delegation, {
            "id": new_id("adl"), "account_id": owner.account_id, "agent_id": ids["researcher"],
            "delegate_agent_id": ids["assistant"], "created_at": app.services.clock.now()})])
        app.services.directory.invalidate()
        await app.services.governance.settings.set(owner, {"delegation_depth": 1})
        outcome = await ask(app, "look something up for me")
        assert outcome.status == "completed" and outcome.reply is not None
        assert outcome.reply.startswith("Done: Done: error: delegation_cycle")  # each level answered anyway
        assert "scheduler" not in [who for who, _ in agents.asked]
        failed = [s for s in await steps(app, outcome.interaction_id) if s.kind == "tool_call" and s.status == "error"]
        assert {s.name for s in failed} == {"ask_scheduler", "ask_assistant"}
        errors = {s.name: s.error or "" for s in failed}
        assert "delegation_refused" in errors["ask_scheduler"] and "1 level deep" in errors["ask_scheduler"]
        assert "delegation_cycle" in errors["ask_assistant"]
    finally:
        await app.stop()


async def test_paused_delegates_and_the_per_turn_and_step_limits(tmp_path: Path) -> None:
    agents = Agents({"assistant": [call("ask_researcher", {"task": "a"}), relay], "researcher": []})
    app, owner = await setup(tmp_path, agents, "researcher", delegations_per_turn=0)
    try:
        admin = app.services.governance.agents
        await admin.add_delegate(owner, "assistant", "researcher")
        outcome = await ask(app, "ask the researcher about a")
        assert "delegation_limit" in (outcome.reply or "")  # no delegation allowed per turn: not run
        await admin.set_status(owner, "researcher", "paused")
        agents.scripts["assistant"] = [text("ok")]
        await ask(app, "ask the researcher about b")
        assert "ask_researcher" not in agents.asked[-1][1]  # a paused delegate is not offered
    finally:
        await app.stop()


async def test_a_delegate_gets_no_more_model_calls_than_its_caller_has_left(tmp_path: Path) -> None:
    agents = Agents({"assistant": [call("ask_researcher", {"task": "a"}), relay],
                     "researcher": [call("current_time", {}), text("never")]})
    app, owner = await setup(tmp_path, agents, "researcher", harness_max_steps=2)
    try:
        await app.services.governance.agents.add_delegate(owner, "assistant", "researcher")
        outcome = await ask(app, "ask the researcher about a")
        assert [who for who, _ in agents.asked] == ["assistant", "researcher", "assistant"]
        assert outcome.status == "completed"
    finally:
        await app.stop()


async def test_a_budget_used_up_by_the_delegate_stops_the_next_model_call(tmp_path: Path) -> None:
    agents = Agents({"assistant": [call("ask_researcher", {"task": "a"}), text("never")],
                     "researcher": [text("an expensive answer")]})
    # the assistant's call costs $0.0024, the researcher's $0.005: the budget is gone after the delegate's
    app, owner = await setup(tmp_path, agents, "researcher", user_monthly_budget_usd=0.004)
    try:
        await app.services.governance.agents.add_delegate(owner, "assistant", "researcher")
        outcome = await ask(app, "ask the researcher about a")
        assert (outcome.status, outcome.error_code) == ("rejected", "budget_exceeded")
        assert [who for who, _ in agents.asked] == ["assistant", "researcher"]
    finally:
        await app.stop()


async def test_delegation_is_administered_by_admins_only(tmp_path: Path) -> None:
    app, owner = await setup(tmp_path, Agents({}), "researcher")
    try:
        admin = app.services.governance.agents
        member = Actor("user:someone", owner.account_id, "member")
        with pytest.raises(ThinklioError, match="can't"):
            await admin.add_delegate(member, "assistant", "researcher")
        audit = await app.services.db.all(select(t.audit_event).where(
            t.audit_event.c.action == "agent.delegate.add"))
        assert [(row.detail or {}).get("outcome") for row in audit] == ["refused"]
        for bad in ("nobody", "assistant"):
            with pytest.raises(ThinklioError):
                await admin.add_delegate(owner, "assistant", bad)
        assert await app.services.db.all(select(t.agent_delegation)) == []
        assert "may now delegate" in (await admin.add_delegate(owner, "assistant", "researcher")).message
        assert (await admin.show(owner, "researcher")).delegated_by == ["assistant"]
        assert (await admin.show(owner, "assistant")).delegates == ["researcher"]
        await admin.remove_delegate(owner, "assistant", "researcher")
        assert (await admin.show(owner, "assistant")).delegates == []
        with pytest.raises(ThinklioError, match="does not delegate"):
            await admin.remove_delegate(owner, "assistant", "researcher")
    finally:
        await app.stop()


async def test_a_delegate_cannot_write_what_only_the_callers_model_said(tmp_path: Path) -> None:
    """The delegate's task is the calling model's words, not the person's: its write tools are grounded in what
    the person said, so a delegate can neither invent a list item nor take the caller's paraphrase for it."""
    invented = {"task": "caviar", "list_name": "shopping"}
    agents = Agents({"assistant": [call("ask_researcher", {"task": "add caviar to the shopping list"}), relay],
                     "researcher": [call("task_add", invented), text("I could not add it.")]})
    app, owner = await setup(tmp_path, agents, "researcher")
    try:
        await app.services.governance.agents.add_delegate(owner, "assistant", "researcher")
        outcome = await ask(app, "what should I cook tonight?")
        assert outcome.status == "completed"
        refused = [s for s in await steps(app, outcome.interaction_id) if s.name == "task_add"]
        assert [s.status for s in refused] == ["denied"] and "ungrounded_argument" in (refused[0].error or "")
        assert await app.services.db.all(select(jt.task)) == []  # nothing was written
    finally:
        await app.stop()
