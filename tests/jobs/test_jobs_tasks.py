"""Tasks: named per-user lists, through chat (direct triage answers) and through the harness's tools."""

from __future__ import annotations

from sqlalchemy import select

from config.settings import Settings
from jobs import tables as jt
from tests.fakes.clock import FakeClock
from tests.fakes.scripted_provider import ScriptedProvider
from tests.jobs.test_jobs import answer, say, started, tool_call


async def test_lists_through_chat(settings: Settings) -> None:
    app, _ = await started(settings, FakeClock())
    try:
        chat = [
            ("add milk to my shopping list", "Added milk to your shopping list (1 item)."),
            ("add eggs to my shopping list", "Added eggs to your shopping list (2 items)."),
            ("add milk to my shopping list", "milk is already on your shopping list."),
            ("add call the plumber to my todo list", "Added call the plumber to your to-do list (1 item)."),
            ("what's on my shopping list", "Your shopping list:\n1. milk\n2. eggs"),
            ("mark milk as done on my shopping list", "Done: milk, ticked off your shopping list."),
            ("what's on my shopping list", "Your shopping list:\n1. eggs\n(1 done)"),
            ("remove bread from shopping list", "bread is not on your shopping list; nothing was changed."),
            ("remove eggs from shopping list", "Removed eggs from your shopping list. Say /undo to put it back."),
            ("clear my shopping list",
             "Cleared your shopping list: removed milk (1 item). Say /undo to bring them back."),
            ("what's on my shopping list", "Your shopping list is empty."),
            ("show my todo list", "Your to-do list:\n1. call the plumber"),
        ]
        for message, expected in chat:
            outcome = await say(app, message)
            assert (outcome.tier, outcome.reply) == ("triage", expected), message
        other = await say(app, "show my todo list", user="acc:someone-else")
        assert other.reply == "Your to-do list is empty."  # lists are per user
    finally:
        await app.stop()


async def test_lists_through_tools(settings: Settings) -> None:
    provider = ScriptedProvider([
        tool_call("task_add", {"task": "Book club reading", "list_name": "Reading List"}),
        tool_call("task_list", {"list_name": "reading"}),
        answer("Added it."),
    ])
    app, _ = await started(settings, FakeClock(), provider)
    try:
        outcome = await say(app, "could you note that I need to finish the book club reading?")
        assert outcome.reply == "Added it.\n\nAdded Book club reading to your reading list (1 item)."
        results = [m.content for m in provider.calls[2][0] if m.role == "tool"]
        assert results == ["Added Book club reading to your reading list (1 item).",
                           "Your reading list:\n1. Book club reading"]
        rows = await app.services.db.all(select(jt.task.c.list_name, jt.task.c.text, jt.task.c.status))
        assert [tuple(row) for row in rows] == [("reading", "Book club reading", "open")]
    finally:
        await app.stop()
