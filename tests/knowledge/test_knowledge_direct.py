"""Memory questions triage is unsure of: the handler looks, answers when it finds the fact, else the model does."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge import tables as kt
from tests.fakes.scripted_provider import ScriptedProvider
from tests.knowledge.test_knowledge_helpers import say, started, text


async def test_unsure_recall_and_forget_are_answered_when_the_fact_is_known(tmp_path: Path) -> None:
    app = await started(tmp_path, provider=ScriptedProvider(lambda m, t: text("from the model")))
    try:
        stored = await say(app, "remember that my wifi password is hunter2")
        assert stored.tier == "triage"
        known = await say(app, "what do you know about the wifi")
        assert (known.tier, known.intent) == ("triage", "recall") and "hunter2" in (known.reply or "")
        unknown = await say(app, "what do you know about quantum physics")
        assert (unknown.tier, unknown.reply) == ("llm", "from the model")
        someone_else = await say(app, "what do you know about the wifi", user="bob")
        assert someone_else.tier == "llm"  # bob's agent knows nothing of alice's wifi
        forgotten = await say(app, "forget my wifi password")
        assert (forgotten.tier, forgotten.intent) == ("triage", "forget")
        again = await say(app, "forget my wifi password")
        assert again.tier == "llm"  # nothing left to forget: not answered from memory
        after = await say(app, "what do you know about the wifi")
        assert after.tier == "llm"
    finally:
        await app.stop()


async def active_facts(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    from sqlalchemy import select


    F = kt.knowledge_fact
    rows = await app.services.db.all(select(F.c.subject, F.c.value).where(F.c.archived == 0).order_by(F.c.subject))
    return [(r.subject, r.value) for r in rows]


@pytest.mark.parametrize("wording", ["forget my favourite colour", "please forget my favourite colour",
                                     "forget what i told you about my favourite colour"])
async def test_forget_acts_on_the_stored_subject_only_and_can_be_undone(tmp_path: Path, wording: str) -> None:
    app = await started(tmp_path)
    try:
        await say(app, "my favourite colour is green")
        await say(app, "remember that my wifi password is hunter2")
        before = await active_facts(app)
        assert ("favourite colour", "green") in before and len(before) == 2
        out = await say(app, wording)
        assert out.tier == "triage" and "forgotten your favourite colour (it was green)" in (out.reply or "")
        assert [s for s, _ in await active_facts(app)] == [s for s, _ in before if s != "favourite colour"]
        back = await say(app, "undo")
        assert back.reply == "Undone: I know your favourite colour again (green)."
        assert await active_facts(app) == before
        nothing = await say(app, "forget my favourite food")
        assert nothing.tier != "triage" or "nothing" in (nothing.reply or "").lower() or "don't have" in (
            nothing.reply or "")
        assert await active_facts(app) == before  # nothing stored under it: nothing forgotten
    finally:
        await app.stop()
