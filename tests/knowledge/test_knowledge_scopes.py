"""Knowledge never crosses scopes: two users of one account, one user of another, on every read path."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agents.llm.base import ChatMessage, ChatResult, ToolCall, ToolSpec, Usage
from bot.ids import new_id
from bot.messages import Attachment, InboundMessage
from channels.base import BaseChannel
from knowledge.extraction import PROPOSE_PROMPT
from knowledge.facts import Scopes
from knowledge.index import Partition
from server.app import App
from tests.fakes.scripted_provider import ScriptedProvider
from tests.knowledge.test_knowledge_helpers import knowledge_of, say, started

SECRETS = {"alice": "hunter2", "bob": "swordfish", "carol": "opensesame"}
CHANNEL = {"alice": "api", "bob": "api", "carol": "other-api"}
COLOUR = {"alice": "green", "bob": "blue", "carol": "red"}


def searching_model(messages: Sequence[ChatMessage], tools: Sequence[ToolSpec]) -> ChatResult:
    """Asks memory_search once, then answers with what the tool said (so the reply shows what it saw)."""
    if messages[-1].role == "tool":
        return ChatResult(f"tool said: {messages[-1].content}", (), Usage(10, 5), "scripted-model")
    return ChatResult(None, (ToolCall(new_id("call"), "memory_search", {"query": "wifi password"}, None, ""),),
                      Usage(10, 5), "scripted-model")


async def populated(tmp_path: Path, provider: Any) -> App:
    app = await started(tmp_path, provider)
    for user, secret in SECRETS.items():
        out = await say(app, f"remember that my wifi password is {secret}", user=user, channel=CHANNEL[user])
        assert out.tier == "triage" and secret in (out.reply or ""), out
        out = await say(app, f"my favourite colour is {COLOUR[user]}", user=user, channel=CHANNEL[user])
        assert out.tier == "triage", out
    knowledge = knowledge_of(app)
    default = await app.services.directory.account_by_slug("default")
    assert default is not None
    agent = await app.services.directory.agent_by_slug(default.id, "assistant")
    assert agent is not None
    await knowledge.facts.remember(Partition(default.id, "agent", agent.id), "office wifi", "guest-net",
                                   now=app.services.clock.now(), source="admin")
    await knowledge.sync()
    return app


def leaks(text: str, user: str) -> list[str]:
    return [secret for other, secret in SECRETS.items() if other != user and secret in text]


async def test_triage_recall_command_and_search_paths_stay_in_scope(tmp_path: Path) -> None:
    app = await populated(tmp_path, ScriptedProvider(lambda m, t: ChatResult("ok", (), Usage(1, 1), "m")))
    try:
        knowledge = knowledge_of(app)
        for user in SECRETS:
            out = await say(app, "what is my favourite colour", user=user, channel=CHANNEL[user])
            assert out.tier == "triage" and out.reply == f"Your favourite colour is {COLOUR[user]}.", out
            listing = (await say(app, "/knowledge", user=user, channel=CHANNEL[user])).reply or ""
            assert SECRETS[user] in listing and not leaks(listing, user)
            assert ("guest-net" in listing) == (user != "carol")  # the agent's fact: its own account only
        # the search API itself, with each user's scopes
        users = {u: await app.services.directory.identify("http", _sender(u), await _account(app, u))
                 for u in SECRETS}
        for user, record in users.items():
            account = await _account(app, user)
            scopes = Scopes(account, (Partition(account, "user", record.id),))
            hits = await knowledge.search(scopes, "wifi password", limit=20)
            texts = " ".join(hit.text for hit in hits)
            assert SECRETS[user] in texts and not leaks(texts, user)
        # a user cannot forget (or even see) another user's fact by id
        bob_fact = (await knowledge.facts.about(
            Scopes(await _account(app, "bob"), (Partition(await _account(app, "bob"), "user", users["bob"].id),)),
            "wifi password"))[0]
        out = await say(app, f"/forget {bob_fact.id}", user="alice")
        assert "no fact" in (out.reply or "").lower()
        out = await say(app, f"/forget {bob_fact.id}", user="carol", channel="other-api")
        assert "no fact" in (out.reply or "").lower()
        assert await knowledge.facts.by_ids(Scopes(bob_fact.account_id, (bob_fact.partition,)), [bob_fact.id])
    finally:
        await app.stop()


async def test_tool_and_context_paths_stay_in_scope(tmp_path: Path) -> None:
    provider = ScriptedProvider(searching_model)
    app = await populated(tmp_path, provider)
    try:
        for user in SECRETS:
            provider.calls.clear()
            out = await say(app, "can you look up the network details for me", user=user, channel=CHANNEL[user])
            assert out.tier == "llm" and SECRETS[user] in (out.reply or ""), out
            assert not leaks(out.reply or "", user)
            system = provider.calls[0][0][0].content or ""
            assert "What you know:" in system and SECRETS[user] in system and not leaks(system, user)
            assert ("guest-net" in (out.reply or "") + system) == (user != "carol")
    finally:
        await app.stop()


def _sender(user: str) -> Any:
    from bot.messages import Sender

    return Sender(user, user.title())


async def _account(app: App, user: str) -> str:
    record = await app.services.directory.account_by_slug("other" if user == "carol" else "default")
    assert record is not None
    return record.id


class FilesOutlet(BaseChannel):
    """The HTTP channel's outlet, able to hand over files as a chat channel does."""

    type = "http"

    def __init__(self, inner: Any, files: dict[str, bytes]) -> None:
        self._inner = inner
        self.files = files

    async def deliver(self, message: Any) -> None:
        await self._inner.deliver(message)

    async def fetch_attachment(self, attachment: Attachment, *, limit: int) -> bytes:
        return self.files[attachment.ref]


async def test_documents_sent_in_chat_and_extracted_facts_stay_in_scope(tmp_path: Path) -> None:
    def model(messages: Sequence[ChatMessage], tools: Sequence[ToolSpec]) -> ChatResult:
        if messages[0].content == PROPOSE_PROMPT:
            employer = messages[-1].content.split()[-1]
            body = json.dumps({"facts": [{"subject": "employer", "value": employer, "confidence": 0.9}]})
            return ChatResult(body, (), Usage(1, 1), "m")
        return ChatResult("ok", (), Usage(1, 1), "m")

    app = await started(tmp_path, ScriptedProvider(model), knowledge_extract_with_model="on")
    pipeline = app.services.pipeline
    pipeline.outlets["http"] = FilesOutlet(pipeline.outlets["http"], {
        f"file-{user}": f"Notes of {user}: the alarm code is {secret}.".encode() for user, secret in SECRETS.items()})
    try:
        for user, secret in SECRETS.items():
            out = await pipeline.handle(InboundMessage(
                channel=CHANNEL[user], sender=_sender(user), text="",
                attachments=(Attachment(f"file-{user}", f"{user}-notes.txt", "text/plain"),)))
            assert out.reply is not None and out.reply.startswith(f"I've read '{user}-notes.txt'"), out
            await say(app, f"I work at Corp{secret}", user=user, channel=CHANNEL[user])
        await pipeline.drain()
        knowledge = knowledge_of(app)
        await knowledge.drain()
        documents = {}
        for user in SECRETS:
            account = await _account(app, user)
            record = await app.services.directory.identify("http", _sender(user), account)
            hits = await knowledge.search(Scopes(account, (Partition(account, "user", record.id),)),
                                          "alarm code and employer", limit=20)
            texts = " ".join(hit.text for hit in hits)
            assert f"alarm code is {SECRETS[user]}" in texts and f"Corp{SECRETS[user]}" in texts
            assert not leaks(texts, user)
            listing = (await say(app, "/knowledge", user=user, channel=CHANNEL[user])).reply or ""
            assert f"{user}-notes.txt" in listing and not [u for u in SECRETS if u != user and f"{u}-notes" in listing]
            documents[user] = listing.split(f"  document '{user}-notes.txt'")[0].split("\n")[-1]
        out = await say(app, f"/forget {documents['bob']}", user="alice")
        assert "no document" in (out.reply or "").lower()
        out = await say(app, f"/forget {documents['alice']}", user="alice")
        assert out.reply == "Forgotten: the document 'alice-notes.txt'."
    finally:
        await app.stop()
