"""No model may damage a user's data by mistake: writes must be the user's own words, a search result is never
stored as a fact, a turn no one typed writes nothing, and every write the model makes is shown in the reply."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from agents.llm.base import ChatResult, ToolCall, Usage
from jobs import tables as jt
from knowledge import tables as kt
from server.app import App
from tests.agents.test_harness import ask, call, started, steps, text
from tests.fakes.scripted_provider import ScriptedProvider


async def user_data(app: App) -> dict[str, int]:
    counts = {}
    for name, table in (("tasks", jt.task), ("jobs", jt.job), ("facts", kt.knowledge_fact)):
        row = await app.services.db.one(select(func.count()).select_from(table))
        counts[name] = int(row[0])
    return counts


def after_tool(answer: str, *first: ChatResult) -> ScriptedProvider:
    """The scripted calls, then `answer` to whatever comes back."""
    script = [*first, text(answer)]
    return ScriptedProvider(script)


async def test_invented_task_and_reminder_texts_are_refused_and_nothing_is_stored(tmp_path: Path) -> None:
    # What the embedded model did to real users: its own tool's name as a task, its tool's answer as an item,
    # a fragment of a word as a list.
    calls = [("task_add", {"task": "task_add"}), ("task_add", {"task": "the task was added to your to-do list"}),
             ("task_add", {"task": "tam", "list_name": "lis"}),
             ("reminder_set", {"text": "take the medicine", "when": "in 10 minutes"})]
    provider = after_tool("Here is a joke: why did the chicken cross the road?", ChatResult(
        None, tuple(ToolCall(f"c{n}", name, args) for n, (name, args) in enumerate(calls)), Usage(10, 10), "m"))
    app = await started(tmp_path, provider, harness_max_steps=6)
    try:
        before = await user_data(app)
        outcome = await ask(app, "tell me a joke")
        assert await user_data(app) == before
        refusals = [(s.name, s.status, (s.error or "").split(":")[0]) for s in await steps(app, outcome.interaction_id)
                    if s.kind == "tool_call"]
        assert refusals == [("task_add", "denied", "ungrounded_argument")] * 3 + [
            ("reminder_set", "denied", "ungrounded_argument")]
        told = [m.content or "" for m in provider.calls[1][0] if m.role == "tool"]
        assert "not in the user's words" in told[0] and "nothing was changed" in told[0]
        assert outcome.reply == "Here is a joke: why did the chicken cross the road?"  # no change to report
    finally:
        await app.stop()


async def test_a_write_in_the_users_words_is_made_and_shown(tmp_path: Path) -> None:
    provider = after_tool("Done!", call("task_add", {"task": "oat milk", "list_name": "shopping"}),
                          call("reminder_set", {"text": "call the dentist", "when": "in 2 hours"}))
    app = await started(tmp_path, provider)
    try:
        outcome = await ask(app, "put oat milk on my shopping list, and nudge me to call the dentist in two hours")
        rows = await app.services.db.all(select(jt.task.c.list_name, jt.task.c.text))
        assert [tuple(r) for r in rows] == [("shopping", "oat milk")]
        assert (await user_data(app))["jobs"] == 1
        reply = outcome.reply or ""
        assert reply.startswith("Done!")
        assert "Added oat milk to your shopping list" in reply and "call the dentist" in reply.split("Done!")[1]
    finally:
        await app.stop()


async def test_memory_store_of_a_search_result_is_refused(tmp_path: Path) -> None:
    provider = ScriptedProvider([
        call("memory_store", {"subject": "wifi password", "value": "hunter2"}),
        text("Saved."),
    ])
    app = await started(tmp_path, provider)
    try:
        await ask(app, "remember for me: the wifi password is hunter2, thanks")
        stored = (await user_data(app))["facts"]
        hit = "wifi password is hunter2"
        provider = ScriptedProvider([
            call("memory_search", {"query": "wifi"}),
            call("memory_store", {"subject": "about me", "value": f"- [kf_1] {hit} (relevance 0.83)"}),
            call("memory_store", {"subject": "home city", "value": "Lisbon"}),
            text("You moved to Porto, how lovely."),
        ])
        app.model.provider = provider
        outcome = await ask(app, "I moved to Porto last year")
        assert (await user_data(app))["facts"] == stored  # neither the search hit nor a made-up city
        told = [m.content or "" for m in provider.calls[-1][0] if m.role == "tool"]
        assert "came from a tool result" in told[1]
        assert "the user did not say 'lisbon'" in told[2]
        assert outcome.reply == "You moved to Porto, how lovely."
    finally:
        await app.stop()


async def test_a_turn_no_one_typed_writes_nothing(tmp_path: Path) -> None:
    provider = ScriptedProvider([text("ok"), call("task_add", {"task": "milk"}), text("Noted.")])
    app = await started(tmp_path, provider)
    try:
        first = await ask(app, "hello there, add milk to my list when the delivery comes")
        before = await user_data(app)
        ticket = await app.services.pipeline.follow_up(first.conversation_id, "The delivery service says: add milk")
        outcome = await ticket.done
        assert await user_data(app) == before
        assert [(s.name, s.status) for s in await steps(app, outcome.interaction_id) if s.kind == "tool_call"] == [
            ("task_add", "denied")]
    finally:
        await app.stop()


async def test_the_model_clears_no_long_list(tmp_path: Path) -> None:
    provider = ScriptedProvider([call("task_clear", {"list_name": "shopping"}), text("Cleared.")])
    app = await started(tmp_path, provider)
    try:
        for item in ("eggs", "flour", "milk", "butter"):
            await ask(app, f"add {item} to my shopping list")
        outcome = await ask(app, "my shopping is done, empty the shopping list")
        assert (await user_data(app))["tasks"] == 4
        told = [m.content or "" for m in provider.calls[-1][0] if m.role == "tool"]
        assert "not cleared" in told[0] and "clear my shopping list" in told[0]
        assert outcome.reply == "Cleared."  # the model's words; nothing was changed, so nothing is reported
    finally:
        await app.stop()


def test_grounding_words() -> None:
    from agents.tools.grounding import ungrounded

    said = ["Remind me to call Mum's doctor at 6pm, and add 2 loaves to my shopping list"]
    assert ungrounded("call mum's doctor", said) == []
    assert ungrounded("Call the doctor of mum", said) == []  # stop words may come and go
    assert ungrounded("loaves", said) == [] and ungrounded("loaf", said) == ["loaf"]  # no dictionary stemming
    assert ungrounded("6 pm", said) == []
    assert ungrounded("shopping", said) == []
    assert ungrounded("task_add", said) == ["task"]  # "add" the user did say
    assert ungrounded("tam", said) == ["tam"]
