"""Agents administered from chat: /agents and /agent show|create|prompt|model|tools|pause|resume|archive. Each is
allowed to the account's owners and admins (and platform admins anywhere), refused to members, readonly members
and across accounts, every refusal audited; bad input gets a clear reply and changes nothing. "boss" is the
platform admin (`THINKLIO_ADMINS=http:<account id>:boss`), "alice" an account admin, "bob" a member, "rita"
readonly."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from agents.llm.base import ChatMessage, ChatResult, TextSink, ToolSpec
from bot.commands.paging import LIMIT, paginate
from bot.commands.registry import CommandError
from bot.errors import ThinklioError
from bot.governance import Actor
from bot.ids import new_id
from bot.messages import InboundMessage, Sender
from bot.store import tables as t
from bot.store.seed import seed_catalogue
from config.catalogue import ASSISTANT, AccountSeed, ChannelSeed
from config.settings import Settings
from jobs import tables as jt
from knowledge.tables import knowledge_fact
from server.app import App
from tests.conftest import make_settings
from tests.fakes.clock import FakeClock
from tests.fakes.scripted_provider import ScriptedProvider
from tests.helpers import said, with_platform_admin
from tests.jobs.test_jobs import answer, started, tool_call
from tests.jobs.test_jobs import say as jobs_say

Body = dict[str, Any]


@pytest.fixture
async def settings(tmp_path: Path) -> Settings:
    return await with_platform_admin(tmp_path / "var")


say = said


@pytest.fixture
async def people(app: App, client: TestClient, auth: dict[str, str]) -> None:
    for user in ("alice", "bob", "rita", "boss"):
        await say(client, auth, "hello", user)
    await say(client, auth, "/grant http:alice admin", "boss")
    await say(client, auth, "/grant http:rita readonly", "boss")


async def agents_tables(app: App) -> tuple[list[Any], list[Any]]:
    """Every agent and tool assignment row, to show that a refusal or a bad input changed nothing."""
    agents = await app.services.db.all(select(t.agent).order_by(t.agent.c.id))
    tools = await app.services.db.all(select(t.agent_tool).order_by(t.agent_tool.c.id))
    return [tuple(row) for row in agents], [tuple(row) for row in tools]


async def refused(app: App, action: str) -> list[Any]:
    rows = await app.services.db.all(select(t.audit_event).where(t.audit_event.c.action == action))
    return [row for row in rows if (row.detail or {}).get("outcome") == "refused"]


async def agent_row(app: App, slug: str) -> Any:
    row = await app.services.db.one(select(t.agent).where(t.agent.c.slug == slug))
    assert row is not None
    return row


async def tools_of(app: App, slug: str) -> dict[str, str]:
    agent = await agent_row(app, slug)
    rows = await app.services.db.all(select(t.agent_tool).where(t.agent_tool.c.agent_id == agent.id))
    return {row.tool: row.permission for row in rows}


COMMANDS = ("/agents", "/agent show assistant", "/agent create helper", "/agent prompt assistant Be terse.",
            "/agent name assistant Boss Bot",
            "/agent model assistant some-model", "/agent tools assistant remove current_time",
            "/agent tools assistant add task_add write", "/agent pause assistant", "/agent archive assistant",
            "/agent resume assistant")


async def test_members_and_readonly_are_refused_every_agent_command_and_each_refusal_is_audited(
        app: App, client: TestClient, auth: dict[str, str], people: None) -> None:
    before = await agents_tables(app)
    for user in ("bob", "rita"):
        for text in COMMANDS:
            reply = await say(client, auth, text, user)
            assert reply["error_code"] == "forbidden", (user, text, reply)
    assert await agents_tables(app) == before
    assert len(await refused(app, "command.agents")) == 2
    assert len(await refused(app, "command.agent")) == 2 * (len(COMMANDS) - 1)
    # The service checks too (the HTTP door reaches it without the command route's check).
    service = app.services.governance.agents
    member = Actor("user:bob", (await agent_row(app, "assistant")).account_id, "member", channel="test")
    for call in (service.listing(member), service.show(member, "assistant"), service.create(member, "x1"),
                 service.set_status(member, "assistant", "paused"), service.add_tool(member, "assistant", "task_add")):
        with pytest.raises(ThinklioError) as caught:
            await call
        assert caught.value.code == "forbidden"
    assert {row.action for row in await app.services.db.all(select(t.audit_event).where(
        t.audit_event.c.actor == "user:bob", t.audit_event.c.action.startswith("agent.")))} == {
        "agent.list", "agent.show", "agent.create", "agent.pause", "agent.tools.add"}
    assert await agents_tables(app) == before


async def test_an_admin_runs_every_agent_command(app: App, client: TestClient, auth: dict[str, str],
                                                 people: None) -> None:
    listed = (await say(client, auth, "/agents", "alice"))["reply"]
    assert "assistant (Assistant) - active, model default" in listed

    shown = (await say(client, auth, "/agent show assistant", "alice"))["reply"]
    assert "in account default: active" in shown and "- current_time: read (needs read)" in shown
    assert "Recent interactions:" in shown and "Active jobs: 0." in shown and "Last 30 days:" in shown

    assert "Created agent helper" in (await say(client, auth, "/agent create helper", "alice"))["reply"]
    helper = await agent_row(app, "helper")
    assert (helper.name, helper.status, helper.system_prompt) == ("Helper", "active", ASSISTANT.system_prompt)
    assert await tools_of(app, "helper") == await tools_of(app, "assistant")  # the installed tools

    reply = await say(client, auth, "/agent prompt helper You answer in haiku.\nAlways.", "alice")
    assert reply["error_code"] is None
    assert (await agent_row(app, "helper")).system_prompt == "You answer in haiku.\nAlways."
    renamed = (await say(client, auth, "/agent name helper  Haiku   Bot ", "alice"))["reply"]
    assert renamed == "Agent helper is now called Haiku Bot (was Helper)."
    assert (await agent_row(app, "helper")).name == "Haiku Bot"
    await say(client, auth, "/agent model helper tiny-model", "alice")
    assert (await agent_row(app, "helper")).model == "tiny-model"
    await say(client, auth, "/agent tools helper remove task_add", "alice")
    assert "task_add" not in await tools_of(app, "helper")
    added = (await say(client, auth, "/agent tools helper add task_add admin", "alice"))["reply"]
    assert added == "Agent helper may use task_add (admin)."
    assert (await tools_of(app, "helper"))["task_add"] == "admin"
    changed = (await say(client, auth, "/agent tools helper add task_add", "alice"))["reply"]
    assert changed == "Agent helper may use task_add (write) (was admin)."

    # a copy of a customised agent of the account: its prompt, model and tools
    await say(client, auth, "/agent create twin from helper", "alice")
    twin = await agent_row(app, "twin")
    assert (twin.system_prompt, twin.model) == ("You answer in haiku.\nAlways.", "tiny-model")
    assert await tools_of(app, "twin") == await tools_of(app, "helper")
    await say(client, auth, "/agent model twin default", "alice")
    assert (await agent_row(app, "twin")).model is None

    audited = await app.services.db.all(select(t.audit_event.c.action, t.audit_event.c.actor, t.audit_event.c.detail)
                                        .where(t.audit_event.c.action.startswith("agent.")))
    assert {row.action for row in audited} >= {"agent.create", "agent.name", "agent.prompt", "agent.model",
                                               "agent.tools.add",
                                               "agent.tools.remove"}
    assert all(row.detail["outcome"] == "done" and row.detail["channel"] == "api" for row in audited)
    help_text = (await say(client, auth, "/help agent", "alice"))["reply"]
    assert "tools SLUG add TOOL [read|write|admin]" in help_text and "archive" in help_text


async def test_pause_cancels_the_agents_pending_jobs_and_resume_restores_new_work_only(
        app: App, client: TestClient, auth: dict[str, str], people: None) -> None:
    assert (await say(client, auth, "remind me to call mum in 2 hours", "bob"))["tier"] == "triage"
    (mine,) = await app.services.db.all(select(jt.job))
    alice = Actor("user:alice", mine.account_id, "admin", channel="test")
    helper = (await app.services.governance.agents.create(alice, "helper")).agent
    jobs = app.kit.extras["jobs"]
    theirs = await jobs.store.create(type="reminder", account_id=mine.account_id, user_id=mine.user_id,
                                     agent_id=helper.id, due_at=mine.due_at)
    assert "Active jobs: 1." in (await say(client, auth, "/agent show assistant", "alice"))["reply"]
    paused = (await say(client, auth, "/agent pause assistant", "alice"))["reply"]
    assert paused == "Agent assistant is paused: it takes no new messages. 1 pending job cancelled."
    states = {row.id: row.state for row in await app.services.db.all(select(jt.job))}
    assert states == {mine.id: "cancelled", theirs.id: "pending"}  # only the paused agent's
    blocked = await say(client, auth, "what time is it?", "bob")
    assert (blocked["status"], blocked["error_code"]) == ("rejected", "agent_paused")
    assert (await say(client, auth, "/agent pause assistant", "alice"))["reply"] == "Agent assistant is already paused."

    assert (await say(client, auth, "/agent resume assistant", "alice"))["reply"] == "Agent assistant is active again."
    assert (await say(client, auth, "what time is it?", "bob"))["error_code"] is None
    assert (await app.services.db.one(select(jt.job.c.state).where(jt.job.c.id == mine.id))) == ("cancelled",)


async def test_archive_blocks_new_interactions_and_keeps_knowledge_and_audit(
        app: App, client: TestClient, auth: dict[str, str], people: None) -> None:
    assistant = await agent_row(app, "assistant")
    await say(client, auth, "remind me to water the plants in 3 hours", "bob")
    fact = {"id": new_id("fct"), "account_id": assistant.account_id, "scope": "agent", "scope_id": assistant.id,
            "agent_id": assistant.id, "subject": "office wifi", "predicate": "is", "value": "guest", "confidence": 1.0,
            "source": "admin", "archived": 0, "index_state": "none", "created_at": app.services.clock.now(),
            "updated_at": app.services.clock.now()}
    await app.services.db.run(lambda conn: conn.execute(knowledge_fact.insert().values(fact)))
    tools_before = await tools_of(app, "assistant")

    archived = (await say(client, auth, "/agent archive assistant", "alice"))["reply"]
    assert archived.startswith("Agent assistant is archived") and "1 pending job cancelled" in archived
    blocked = await say(client, auth, "what time is it?", "bob")
    assert (blocked["status"], blocked["error_code"]) == ("rejected", "agent_archived")
    assert "no longer takes messages" in blocked["reply"]
    assert (await say(client, auth, "/agent pause assistant", "alice"))["error_code"] == "conflict"

    assert "Knowledge: 1 fact, 0 documents." in (await say(client, auth, "/agent show assistant", "alice"))["reply"]
    kept = await app.services.db.one(select(knowledge_fact.c.archived).where(knowledge_fact.c.id == fact["id"]))
    assert kept is not None and kept.archived == 0
    assert await tools_of(app, "assistant") == tools_before
    assert (await agent_row(app, "assistant")).status == "archived"
    assert "agent.archive" in (await say(client, auth, "/audit agent.", "alice"))["reply"]

    await say(client, auth, "/agent resume assistant", "alice")  # an admin's command still reaches it
    assert (await say(client, auth, "what time is it?", "bob"))["error_code"] is None


BAD = (
    ("/agent show nobody", "not_found"),
    ("/agent create Bad_Slug!", "bad_request"),
    ("/agent create assistant", "conflict"),
    ("/agent create helper from nowhere", "not_found"),
    ("/agent create helper from", "bad_request"),
    ("/agent prompt assistant", "bad_request"),
    ("/agent name assistant", "bad_request"),
    ("/agent name nobody New Name", "not_found"),
    ("/agent name assistant " + "n" * 201, "bad_request"),
    ("/agent prompt nobody Be kind.", "not_found"),
    ("/agent model assistant two words", "bad_request"),
    ("/agent model assistant bad\u00a7model", "bad_request"),
    ("/agent tools assistant add no_such_tool", "not_found"),
    ("/agent tools assistant add task_add superuser", "bad_request"),
    ("/agent tools assistant add task_add read", "bad_request"),  # it needs write: read could never use it
    ("/agent tools assistant remove no_such_tool", "not_found"),
    ("/agent tools assistant drop task_add", "bad_request"),
    ("/agent tools nobody add task_add", "not_found"),
    ("/agent pause", "bad_request"),
    ("/agent explode assistant", "bad_request"),
    ("/agents everything", "bad_request"),
    ("/agents 2", "not_found"),
)


async def test_bad_inputs_get_a_clear_reply_and_change_nothing(app: App, client: TestClient, auth: dict[str, str],
                                                               people: None) -> None:
    before = await agents_tables(app)
    for text, code in BAD:
        reply = await say(client, auth, text, "alice")
        assert reply["error_code"] == code, (text, reply)
        assert reply["reply"] and len(reply["reply"]) < 400, (text, reply)
    assert await agents_tables(app) == before
    unknown = (await say(client, auth, "/agent tools assistant add no_such_tool", "alice"))["reply"]
    assert "current_time" in unknown  # the reply names the tools there are


async def other_account(app: App) -> Any:
    seed = (AccountSeed(slug="other", name="Other", agents=(ASSISTANT,)),)
    await app.services.db.run(lambda conn: seed_catalogue(
        conn, seed, app.services.clock.now(),
        channels=(ChannelSeed(slug="other-api", type="http", agent="assistant", account="other"),)))
    app.services.directory.invalidate()
    await app.services.pipeline.handle(InboundMessage(channel="other-api", sender=Sender("stranger"), text="hi"))
    account = await app.services.directory.account_by_slug("other")
    assert account is not None
    agent = await app.services.directory.agent_by_slug(account.id, "assistant")
    assert agent is not None
    return agent


async def test_another_accounts_agents_are_refused_to_account_admins_and_open_to_platform_admins(
        app: App, client: TestClient, auth: dict[str, str], people: None) -> None:
    theirs = await other_account(app)
    before = await agents_tables(app)
    for text in ("/agent show other/assistant", f"/agent pause {theirs.id}", "/agent create other/spy",
                 "/agent tools other/assistant remove current_time", "/agents all"):
        reply = await say(client, auth, text, "alice")
        assert reply["error_code"] == "forbidden", (text, reply)
    assert await agents_tables(app) == before
    refusals = [row for row in await app.services.db.all(select(t.audit_event).where(
        t.audit_event.c.actor.startswith("user:"))) if (row.detail or {}).get("outcome") == "refused"]
    assert {row.action for row in refusals} == {"agent.show", "agent.pause", "agent.create", "agent.tools.remove",
                                                "agent.list"}
    assert {row.detail["reason"] for row in refusals} >= {"the agent belongs to another account"}
    assert theirs.id in {row.target_id for row in refusals}

    # a platform administrator acts on any account's agents, audited under that account
    assert "in account other" in (await say(client, auth, "/agent show other/assistant", "boss"))["reply"]
    assert (await say(client, auth, f"/agent pause {theirs.id}", "boss"))["error_code"] is None
    assert (await agent_row_in(app, theirs.id)).status == "paused"
    everywhere = (await say(client, auth, "/agents all", "boss"))["reply"]
    assert "default/assistant" in everywhere and "other/assistant" in everywhere
    event = await app.services.db.one(select(t.audit_event).where(t.audit_event.c.action == "agent.pause",
                                                                  t.audit_event.c.target_id == theirs.id,
                                                                  t.audit_event.c.account_id == theirs.account_id))
    assert event is not None and event.detail["outcome"] == "done"


async def agent_row_in(app: App, agent_id: str) -> Any:
    row = await app.services.db.one(select(t.agent).where(t.agent.c.id == agent_id))
    assert row is not None
    return row


async def test_long_agent_lists_are_paged_to_fit_a_message(app: App, client: TestClient, auth: dict[str, str],
                                                           people: None) -> None:
    alice = Actor("user:alice", (await agent_row(app, "assistant")).account_id, "admin", channel="test")
    for number in range(80):
        await app.services.governance.agents.create(alice, f"helper-{number:03d}-with-a-rather-long-slug")
    first = (await say(client, auth, "/agents", "alice"))["reply"]
    assert len(first) <= LIMIT and "Page 1 of " in first and "/agents 2 for the next" in first
    pages = int(first.rsplit("Page 1 of ", 1)[1].split(";")[0])
    last = (await say(client, auth, f"/agents {pages}", "alice"))["reply"]
    assert len(last) <= LIMIT and f"Page {pages} of {pages}." in last
    seen = "\n".join([(await say(client, auth, f"/agents {n}", "alice"))["reply"] for n in range(1, pages + 1)])
    assert all(f"helper-{number:03d}" in seen for number in range(80))


def test_paginate_cuts_by_characters_and_says_where_you_are() -> None:
    lines = [f"line {n} " + "x" * 90 for n in range(100)]
    first = paginate(lines, 1, "/things", header="Things:", limit=1_000)
    assert len(first) <= 1_000 and first.startswith("Things:\nline 0 ")
    assert first.endswith("; /things 2 for the next.")
    total = int(first.rsplit("of ", 1)[1].split(";")[0])
    assert paginate(lines, total, "/things", limit=1_000).endswith(f"Page {total} of {total}.")
    assert "Page" not in paginate(lines[:2], 1, "/things")  # one page needs no footer
    assert len(paginate(["y" * 5_000], 1, "/things")) <= LIMIT  # a line too long alone is shortened
    with pytest.raises(CommandError):
        paginate(lines, total + 1, "/things", limit=1_000)


async def test_a_tool_no_extension_provides_is_shown_as_such_and_not_copied(app: App, client: TestClient,
                                                                           auth: dict[str, str], people: None) -> None:
    assistant = await agent_row(app, "assistant")
    await app.services.db.run(lambda conn: conn.execute(t.agent_tool.insert().values(
        id=new_id("atl"), agent_id=assistant.id, tool="retired_tool", permission="write",
        created_at=app.services.clock.now())))
    shown = (await say(client, auth, "/agent show assistant", "alice"))["reply"]
    assert "- retired_tool: write (no installed extension provides it)" in shown
    await say(client, auth, "/agent create twin from assistant", "alice")
    copied = await tools_of(app, "twin")
    assert "retired_tool" not in copied and copied == {k: v for k, v in (await tools_of(app, "assistant")).items()
                                                       if k != "retired_tool"}
    assert (await say(client, auth, "/agent tools assistant remove retired_tool", "alice"))["error_code"] is None
    assert "retired_tool" not in await tools_of(app, "assistant")


async def test_a_paused_or_archived_agent_is_not_run_by_delegation_either(app: App, client: TestClient,
                                                                         auth: dict[str, str], people: None) -> None:
    from bot.records import AgentRecord, ChannelRecord, ConversationRecord, UserRecord, record
    from bot.turn import Turn

    reply = await say(client, auth, "hello", "bob")
    interaction = await app.services.db.one(select(t.interaction).where(t.interaction.c.id == reply["interaction_id"]))
    assert interaction is not None
    rows = {name: await app.services.db.one(select(table).where(table.c.id == interaction._mapping[column]))
            for name, table, column in (("channel", t.channel, "channel_id"), ("user", t.user_profile, "user_id"),
                                        ("conversation", t.conversation, "conversation_id"),
                                        ("agent", t.agent, "agent_id"))}
    turn = Turn("ix_test", "msg_test", "hi", record(ChannelRecord, rows["channel"]), record(AgentRecord, rows["agent"]),
                record(UserRecord, rows["user"]), record(ConversationRecord, rows["conversation"]), "bob",
                app.services.clock.now(), role="member")
    await say(client, auth, "/agent create helper", "alice")
    for action, code in (("pause", "agent_paused"), ("archive", "agent_archived")):
        await say(client, auth, f"/agent {action} helper", "alice")
        run = await app.kit.agents.run(turn, agent="helper")
        assert (run.reply.status, run.reply.error_code, run.steps) == ("rejected", code, [])
    await say(client, auth, "/agent resume helper", "alice")
    assert (await app.kit.agents.run(turn, agent="helper")).reply.error_code != "agent_archived"


class ArchivedMidTurn(ScriptedProvider):
    """An administrator archives the agent while the model's first step is being answered."""

    def __init__(self, script: Sequence[ChatResult]) -> None:
        super().__init__(script)
        self.app: App | None = None

    async def chat(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = (), *, model: str | None = None,
                   max_tokens: int | None = None, on_text: TextSink | None = None,
                   repeat_penalty: float | None = None) -> ChatResult:
        result = await super().chat(messages, tools, model=model, max_tokens=max_tokens, on_text=on_text,
                                    repeat_penalty=repeat_penalty)
        if len(self.calls) == 1 and self.app is not None:
            account = await self.app.services.directory.account_by_slug("default")
            assert account is not None
            admin = Actor("user:admin", account.id, "admin", channel="test")
            await self.app.services.governance.agents.set_status(admin, "assistant", "archived")
        return result


async def test_an_in_flight_turn_stops_after_its_step_when_its_agent_is_archived(tmp_path: Path) -> None:
    provider = ArchivedMidTurn([tool_call("task_add", {"task": "finish the book club reading",
                                                       "list_name": "reading"}),
                                answer("never sent: the turn stopped before this step")])
    app, _ = await started(make_settings(tmp_path / "var"), FakeClock(), provider)
    provider.app = app
    try:
        outcome = await jobs_say(app, "could you note that I need to finish the book club reading?")
        assert len(provider.calls) == 1 and outcome.error_code == "agent_archived"
        assert outcome.reply is not None and "retired by an administrator" in outcome.reply
        assert [row.text for row in await app.services.db.all(select(jt.task.c.text))] == [
            "finish the book club reading"]  # the step it was in completed
        account = await app.services.directory.account_by_slug("default")
        assert account is not None
        detail = await app.services.governance.agents.show(Actor("user:a", account.id, "admin"), "assistant")
        assert [(call.tool, call.status) for call in detail.tool_calls] == [("task_add", "ok")]
    finally:
        await app.stop()


MATRIX_CHANNELS = (("console", "console"), ("api", "http"), ("telegram", "telegram"), ("slack", "slack"))
MATRIX_COMMANDS = ("/agents", "/agent show assistant", "/agent model assistant model-{channel}",
                   "/agent tools assistant add memory_search read", "/jobs all", "/jobs cancel agent assistant")


async def test_role_by_command_by_channel(tmp_path: Path, make_app: Callable[..., App]) -> None:
    """Every channel the same: members and readonly members refused and audited with the channel, admins allowed."""
    app = make_app(make_settings(tmp_path / "matrix", admins=["console:root"]))
    await app.start()
    try:
        async def send(channel: str, user: str, text: str) -> Any:
            return await app.services.pipeline.handle(InboundMessage(channel, Sender(user, user), text))

        for channel, kind in MATRIX_CHANNELS:
            for user in ("adm", "mem", "ro"):
                await send(channel, f"{channel}-{user}", "hello")
            for user, role in (("adm", "admin"), ("ro", "readonly")):
                granted = await send("console", "root", f"/grant {kind}:{channel}-{user} {role}")
                assert granted.error_code is None, granted
        for channel, _ in MATRIX_CHANNELS:
            for template in MATRIX_COMMANDS:
                text = template.format(channel=channel)
                for user in ("mem", "ro"):
                    outcome = await send(channel, f"{channel}-{user}", text)
                    assert outcome.error_code == "forbidden", (channel, user, text, outcome)
                    assert (await agent_row(app, "assistant")).model in (None, *(f"model-{c}" for c, _ in
                                                                                 MATRIX_CHANNELS))
                allowed = await send(channel, f"{channel}-adm", text)
                assert allowed.error_code is None, (channel, text, allowed)
            assert (await agent_row(app, "assistant")).model == f"model-{channel}"
        refusals = [row for row in await app.services.db.all(select(t.audit_event))
                    if (row.detail or {}).get("outcome") == "refused"]
        by_channel = {channel: sum(1 for row in refusals if row.detail["channel"] == channel)
                      for channel, _ in MATRIX_CHANNELS}
        # /agents, /agent and /jobs all refused by the command route or the service; each one audited once
        assert by_channel == {channel: 2 * len(MATRIX_COMMANDS) for channel, _ in MATRIX_CHANNELS}
    finally:
        await app.stop()
