"""Memory questions triage is unsure of: the handler looks, answers when it finds the fact, else the model does."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.scripted_provider import ScriptedProvider
from tests.test_knowledge_helpers import say, started, text


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
