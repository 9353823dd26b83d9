"""Facts over time: supersede, forget, restart, reindex from SQL, crash recovery, user deletion, extraction."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.ids import new_id
from knowledge import tables as kt
from knowledge.extraction import extract
from knowledge.facts import Scopes
from knowledge.index import Partition
from server.app import App
from tests.fakes.scripted_provider import ScriptedProvider
from tests.knowledge.test_knowledge_helpers import knowledge_of, say, started, text

F = kt.knowledge_fact


async def alice_scopes(app: App) -> Scopes:
    default = await app.services.directory.account_by_slug("default")
    assert default is not None
    user = await app.services.directory.identify("http", _sender("alice"), default.id)
    return Scopes(default.id, (Partition(default.id, "user", user.id),))


def _sender(name: str):  # type: ignore[no-untyped-def]
    from bot.messages import Sender

    return Sender(name, name.title())


async def search_texts(app: App, query: str) -> list[str]:
    return [hit.text for hit in await knowledge_of(app).search(await alice_scopes(app), query, limit=10)]


async def test_supersede_and_forget(tmp_path: Path) -> None:
    app = await started(tmp_path)
    try:
        assert (await say(app, "remember that my wifi password is hunter2")).reply == \
            "Got it: your wifi password is hunter2."
        out = await say(app, "remember that my wifi password is swordfish")
        assert out.reply == "Updated: your wifi password is now swordfish (it was hunter2)."
        assert (await say(app, "remember that my wifi password is swordfish")).reply == \
            "I already knew that: your wifi password is swordfish."
        texts = await search_texts(app, "wifi")
        assert "wifi password is swordfish" in texts and not any("hunter2" in x for x in texts)
        listing = (await say(app, "/knowledge")).reply or ""
        assert "swordfish" in listing and "hunter2" not in listing
        old = await app.services.db.one(select(F).where(F.c.value == "hunter2"))
        assert old.archived == 1 and old.superseded_by is not None and old.index_state == "none"

        assert (await say(app, "call me Sam")).reply == "Nice to meet you, Sam! I'll remember your name."
        assert (await say(app, "what's my name")).reply == "Your name is Sam."
        assert (await say(app, "is joey my name")).reply == "No, your name is Sam, as far as I know."
        assert (await say(app, "my favourite colour is green")).tier == "triage"
        out = await say(app, "forget my favourite colour")
        assert out.tier == "triage", out
        assert out.reply == "Done: I've forgotten your favourite colour (it was green). Say /undo to bring it back."
        assert (await say(app, "what is my favourite colour")).reply.startswith("I don't know your favourite colour")
        assert not any("green" in x for x in await search_texts(app, "favourite colour"))

        fact_id = (await app.services.db.one(select(F.c.id).where(F.c.value == "swordfish", F.c.archived == 0)))[0]
        assert (await say(app, f"/forget {fact_id}")).reply == "Forgotten: wifi password is swordfish."
        assert not any("swordfish" in x for x in await search_texts(app, "wifi"))
    finally:
        await app.stop()


async def test_restart_keeps_facts_and_reindex_rebuilds_a_deleted_index(tmp_path: Path) -> None:
    app = await started(tmp_path)
    await say(app, "remember that my locker code is 4242")
    await app.stop()

    app = await started(tmp_path)  # restart: the index on disk is reused as it is
    try:
        state = await app.services.db.one(select(F.c.index_state).where(F.c.value == "4242"))
        assert state[0] == "indexed"
        assert "locker code is 4242" in await search_texts(app, "locker")
    finally:
        await app.stop()

    shutil.rmtree(tmp_path / "var" / "chroma")
    app = await started(tmp_path)  # start-up notices the lost index and rebuilds it from SQL
    try:
        assert "locker code is 4242" in await search_texts(app, "locker")
        seen: list[tuple[int, int]] = []
        assert await knowledge_of(app).reindex(progress=lambda done, total: seen.append((done, total))) == 1
        assert seen == [(1, 1)]
        assert "locker code is 4242" in await search_texts(app, "locker")
    finally:
        await app.stop()


async def test_a_crash_between_sql_and_index_is_finished_at_start(tmp_path: Path) -> None:
    app = await started(tmp_path)
    await say(app, "remember that my bike lock is 1111")
    scopes = await alice_scopes(app)
    owner = scopes.partitions[0]
    now = app.services.clock.now()
    # What a crash leaves: a committed fact never embedded, and an archived one whose vector was never removed.
    await app.services.db.run(lambda conn: conn.execute(F.insert(), {
        "id": new_id("kfa"), "account_id": owner.account_id, "scope": "user", "scope_id": owner.scope_id,
        "agent_id": None, "subject": "gate code", "predicate": "is", "value": "9876", "category": None,
        "confidence": 1.0, "locale": None, "source": "tool", "source_interaction_id": None,
        "superseded_by": None, "archived": 0, "index_state": "pending", "created_at": now, "updated_at": now}))
    await app.services.db.run(lambda conn: conn.execute(
        F.update().where(F.c.value == "1111").values(archived=1, index_state="delete")))
    await app.stop()

    app = await started(tmp_path)
    try:
        states = {r.value: r.index_state for r in await app.services.db.all(select(F.c.value, F.c.index_state))}
        assert states == {"9876": "indexed", "1111": "none"}
        knowledge = knowledge_of(app)
        raw = await knowledge.index.query(scopes.partitions, await knowledge.embedder.embed_one("code"), 10)
        ids = {r.id: r.value for r in await app.services.db.all(select(F.c.id, F.c.value))}
        assert sorted(ids[i] for i, _ in raw) == ["9876"]
    finally:
        await app.stop()


async def test_sync_over_many_batches_settles_every_row_and_survives_a_failed_embedding(tmp_path: Path) -> None:
    app = await started(tmp_path)
    try:
        knowledge = knowledge_of(app)
        owner = (await alice_scopes(app)).partitions[0]
        now = app.services.clock.now()
        for n in range(11):
            await knowledge.facts.remember(owner, f"code {n}", f"value {n}", now=now, source="tool")
        await knowledge.facts.remember(owner, "code 3", "value 3b", now=now, source="tool")  # a delete in the queue
        real_embed = knowledge.embedder.embed
        calls = 0

        async def failing_third_time(texts: Any) -> Any:
            nonlocal calls
            calls += 1
            if calls == 3:
                raise RuntimeError("embedding thread died")
            return await real_embed(texts)

        knowledge.embedder.embed = failing_third_time  # type: ignore[method-assign]
        with pytest.raises(RuntimeError):
            await knowledge.sync(batch=4)
        states = [r.index_state for r in await app.services.db.all(select(F.c.index_state).order_by(F.c.id))]
        assert states[:4] == ["indexed", "indexed", "indexed", "none"]  # the batch in flight was written
        assert "pending" in states  # the rest waits for the next sync
        knowledge.embedder.embed = real_embed  # type: ignore[method-assign]
        assert await knowledge.sync(batch=4) == len([s for s in states if s in ("pending", "delete")])
        rows = await app.services.db.all(select(F.c.value, F.c.index_state).order_by(F.c.id))
        assert all(r.index_state == ("none" if r.value == "value 3" else "indexed") for r in rows)
        raw = await knowledge.index.query([owner], await knowledge.embedder.embed_one("code"), 50)
        assert len(raw) == 11 and "code 3 is value 3b" in await search_texts(app, "code 3")
    finally:
        await app.stop()


async def test_deleting_a_user_hard_deletes_their_facts_and_vectors(tmp_path: Path) -> None:
    app = await started(tmp_path)
    try:
        await say(app, "remember that my wifi password is hunter2")
        await say(app, "remember that my wifi password is swordfish", user="bob")
        scopes = await alice_scopes(app)
        knowledge = knowledge_of(app)
        await knowledge.delete_user(scopes.partitions[0].scope_id)
        values = [r.value for r in await app.services.db.all(select(F.c.value))]
        assert values == ["swordfish"]
        vector = await knowledge.embedder.embed_one("wifi")
        assert await knowledge.index.query(scopes.partitions, vector, 5) == []
        assert "swordfish" in (await say(app, "/knowledge", user="bob")).reply
    finally:
        await app.stop()


async def test_facts_stated_in_a_model_turn_are_extracted(tmp_path: Path) -> None:
    app = await started(tmp_path, ScriptedProvider(lambda m, tools: text("Lovely, enjoy the trip!")))
    try:
        out = await say(app, "I'm off on holiday next week. My home city is Lisbon. What should I pack?")
        assert out.tier == "llm"
        await app.services.pipeline.drain()
        row = await app.services.db.one(select(F).where(F.c.subject == "home city"))
        assert (row.value, row.source, row.confidence) == ("Lisbon", "extraction", 0.7)
        assert "home city is Lisbon" in await search_texts(app, "where do I live")
    finally:
        await app.stop()


def test_extraction_rules() -> None:
    assert extract("My dog is Rex. my car is a red Fiat!") == [("dog", "Rex"), ("car", "a red Fiat")]
    assert extract("what is my name? my point is that it rains") == []
    assert extract("my mood is not great") == []


async def test_memory_store_tool_writes_the_callers_scope_and_guards_shared_ones(tmp_path: Path) -> None:
    from agents.llm.base import ChatResult, ToolCall, Usage

    script = [
        ChatResult(None, (ToolCall(new_id("call"), "memory_store", {"subject": "Gym Day", "value": "Tuesday"},
                                   None, ""),), Usage(1, 1), "m"),
        text("saved"),
        ChatResult(None, (ToolCall(new_id("call"), "memory_store", {"subject": "office", "value": "Main St",
                                                                     "scope": "account"}, None, ""),),
                   Usage(1, 1), "m"),
        text("tried"),
    ]
    provider = ScriptedProvider(script)
    app = await started(tmp_path, provider)
    try:
        reply = (await say(app, "please note down when I go to the gym, it's tuesdays")).reply or ""
        receipt = provider.calls[1][0][-1].content or ""
        assert receipt.startswith("Remembered that gym day is Tuesday"), receipt
        assert reply == f"saved\n\n{receipt}"  # the model's write is shown to the user
        assert "gym day is Tuesday" in await search_texts(app, "gym")
        assert (await say(app, "save our office address for everyone: Main St", user="bob")).reply == "tried"
        tool_output = provider.calls[-1][0][-1].content or ""
        assert "only an account admin" in tool_output
        rows = await app.services.db.all(select(F.c.subject, F.c.scope, F.c.source))
        assert [tuple(r) for r in rows] == [("gym day", "user", "tool")]
    finally:
        await app.stop()
