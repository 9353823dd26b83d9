"""Team-scoped knowledge: a fact or document filed under a team is seen by its members' turns (triage, /knowledge,
memory_search, the model's context), never by anyone outside it; a team's agent sees only its own team's; it is
written by `/knowledge team …`, memory_store scope "team", a file captioned `scope team` and the HTTP upload
`?scope=team&team=SLUG`, each refused to non-members and readonly members with nothing stored."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select

from agents.llm.base import ChatMessage, ChatResult, ToolCall, ToolSpec, Usage
from bot.governance import Actor
from bot.ids import new_id
from bot.messages import Attachment, InboundMessage, Sender
from bot.store import tables as t
from knowledge import tables as kt
from server.app import App
from tests.fakes.scripted_provider import ScriptedProvider
from tests.helpers import count
from tests.knowledge.test_knowledge_helpers import knowledge_of, say, started
from tests.knowledge.test_knowledge_scopes import FilesOutlet

CODE = "SPRING24"  # the sales team's discount code
OPS = "BLUEDOOR"  # the ops team's door code


def searching_model(query: str):  # type: ignore[no-untyped-def]
    """Asks memory_search once, then answers with what the tool said (so the reply shows what it saw)."""

    def model(messages: Sequence[ChatMessage], tools: Sequence[ToolSpec]) -> ChatResult:
        if messages[-1].role == "tool":
            return ChatResult(f"tool said: {messages[-1].content}", (), Usage(10, 5), "scripted-model")
        return ChatResult(None, (ToolCall(new_id("call"), "memory_search", {"query": query}, None, ""),),
                          Usage(10, 5), "scripted-model")

    return model


async def staffed(app: App) -> Actor:
    """Team "sales" (alice member, dave readonly) and team "ops" (alice member); bob is in no team."""
    for user in ("alice", "bob", "dave"):
        await say(app, "hello", user=user)
    await say(app, "hello", user="carol", channel="other-api")
    account = await app.services.directory.account_by_slug("default")
    assert account is not None
    owner = Actor("tests", account.id, "owner", is_platform_admin=True)
    teams = app.services.governance.teams
    await teams.create(owner, "Sales")
    await teams.create(owner, "Ops")
    await teams.add(owner, "sales", "http:alice")
    await teams.add(owner, "sales", "http:dave", "readonly")
    await teams.add(owner, "ops", "http:alice")
    return owner


async def test_team_facts_are_seen_by_members_only(tmp_path: Path) -> None:
    provider = ScriptedProvider(searching_model("discount code door code"))
    app = await started(tmp_path, provider)
    try:
        owner = await staffed(app)
        stored = await say(app, f"/knowledge team:sales discount code is {CODE}", user="alice")
        assert stored.error_code is None and CODE in (stored.reply or ""), stored
        assert (await say(app, f"/knowledge team:ops door code is {OPS}", user="alice")).error_code is None

        # triage's recall, /knowledge and the model's search all see it for members, for nobody else
        for user, channel, sees in (("alice", "api", True), ("dave", "api", True), ("bob", "api", False),
                                    ("carol", "other-api", False)):
            recall = (await say(app, "what is the discount code", user=user, channel=channel)).reply or ""
            listing = (await say(app, "/knowledge", user=user, channel=channel)).reply or ""
            provider.calls.clear()
            answer = await say(app, "can you look up our codes please", user=user, channel=channel)
            system = provider.calls[0][0][0].content or ""
            seen = [CODE in text for text in (recall, listing, answer.reply or "", system)]
            assert seen == [sees] * 4, (user, recall, listing, answer.reply, system)
        assert "your team's" in ((await say(app, "/knowledge", user="alice")).reply or "")

        # once the agent works for sales, its turns carry sales' knowledge only, not ops'
        await app.services.governance.teams.assign_agent(owner, "sales", "assistant")
        provider.calls.clear()
        answer = (await say(app, "can you look up our codes please", user="alice")).reply or ""
        assert CODE in answer and OPS not in answer
        bob = (await say(app, "can you look up our codes please", user="bob")).reply or ""
        assert CODE not in bob and OPS not in bob

        # the team's readonly member cannot forget its fact; bob cannot even see it; a member can
        fact_id = (stored.reply or "").split("/forget ")[1].split()[0]
        assert (await say(app, f"/forget {fact_id}", user="dave")).error_code == "forbidden"
        assert (await say(app, f"/forget {fact_id}", user="bob")).error_code == "not_found"
        assert (await say(app, f"/forget {fact_id}", user="alice")).error_code is None
        assert CODE not in ((await say(app, "/knowledge", user="alice")).reply or "")
        assert (await say(app, f"/knowledge team discount code is {CODE}", user="alice")).error_code is None

        # archived: the agent stops, the knowledge stays in the store
        await app.services.governance.teams.archive(owner, "sales")
        assert (await say(app, "what is the discount code", user="alice")).error_code == "team_archived"
        assert await count(app, kt.knowledge_fact, kt.knowledge_fact.c.value == CODE,
                           kt.knowledge_fact.c.archived == 0) == 1
    finally:
        await app.stop()


async def test_team_writes_need_a_seat_that_is_not_readonly(tmp_path: Path, aiohttp_client: Any) -> None:
    def model(messages: Sequence[ChatMessage], tools: Sequence[ToolSpec]) -> ChatResult:
        if messages[-1].role == "tool":
            return ChatResult(f"tool said: {messages[-1].content}", (), Usage(10, 5), "scripted-model")
        return ChatResult(None, (ToolCall(new_id("call"), "memory_store",
                                          {"subject": "printer", "value": "floor 3", "scope": "team"}, None, ""),),
                          Usage(10, 5), "scripted-model")

    app = await started(tmp_path, ScriptedProvider(model))
    pipeline = app.services.pipeline
    pipeline.outlets["http"] = FilesOutlet(pipeline.outlets["http"], {"f1": b"The sales playbook: call twice.",
                                                                      "f2": b"Bob's notes."})
    try:
        owner = await staffed(app)
        team_facts = kt.knowledge_fact.c.scope == "team"

        # /knowledge team: alice is in two teams, so she names one; dave is readonly, bob in none
        several = await say(app, "/knowledge team lunch is at noon", user="alice")
        assert several.error_code == "bad_request" and "ops, sales" in (several.reply or "")
        for user in ("dave", "bob"):
            refused = await say(app, "/knowledge team:sales lunch is at noon", user=user)
            assert refused.error_code == "forbidden", refused
        refusals = await app.services.db.all(select(t.audit_event.c.detail).where(
            t.audit_event.c.action == "command.knowledge"))
        assert len(refusals) == 2 and all(row.detail["outcome"] == "refused" for row in refusals)
        assert await count(app, kt.knowledge_fact, team_facts) == 0

        # memory_store scope "team": refused for a member of several teams without a team agent, then stored
        # once the agent works for sales
        out = await say(app, "team memo, printer: floor 3", user="alice")
        assert "several teams" in (out.reply or "") and await count(app, kt.knowledge_fact, team_facts) == 0
        await app.services.governance.teams.assign_agent(owner, "sales", "assistant")
        out = await say(app, "team memo, printer: floor 3", user="alice")
        assert "Remembered" in (out.reply or ""), out
        out = await say(app, "team memo, printer: floor 3", user="dave")
        assert "readonly" in (out.reply or "")
        assert await count(app, kt.knowledge_fact, team_facts) == 1

        # a file captioned "scope team": the team's document for a member, refused (nothing read) for bob
        read = await pipeline.handle(InboundMessage(channel="api", sender=Sender("alice", "Alice"), text="scope team",
                                                    attachments=(Attachment("f1", "playbook.txt", "text/plain"),)))
        assert read.reply is not None and read.reply.startswith("I've read 'playbook.txt' for the team"), read
        refused = await pipeline.handle(InboundMessage(channel="api", sender=Sender("bob", "Bob"), text="scope team",
                                                       attachments=(Attachment("f2", "bob.txt", "text/plain"),)))
        assert refused.error_code == "forbidden" and "haven't read" in (refused.reply or ""), refused
        documents = await app.services.db.all(select(kt.knowledge_document.c.title, kt.knowledge_document.c.scope))
        assert [(row.title, row.scope) for row in documents] == [("playbook.txt", "team")]
        assert "playbook.txt" not in ((await say(app, "/knowledge", user="bob")).reply or "")

        # the HTTP upload: ?scope=team&team=SLUG with an admin key; a team that is not there stores nothing
        client = await aiohttp_client(app.web)
        _, key = await app.services.api_keys.create(owner.account_id, "docs", ("admin",), actor="tests")
        auth = {"Authorization": f"Bearer {key}", "Content-Type": "text/plain"}
        bad = await client.post("/v1/knowledge/documents?scope=team&team=nope&title=x.txt", data=b"x", headers=auth)
        assert bad.status == 400 and (await bad.json())["error"]["code"] == "bad_request"
        made = await client.post("/v1/knowledge/documents?scope=team&team=sales&title=prices.txt",
                                 data=b"Prices rise in May.", headers=auth)
        assert made.status == 201 and (await made.json())["document"]["scope"] == "team"
        assert await count(app, kt.knowledge_document) == 2
        await knowledge_of(app).drain()
        listing = (await say(app, "/knowledge", user="alice")).reply or ""
        assert "prices.txt" in listing and "playbook.txt" in listing and "printer" in listing
        assert "prices.txt" not in ((await say(app, "/knowledge", user="bob")).reply or "")
    finally:
        await app.stop()
