"""Chat that changes data: lists as people speak of them, destructive requests that never act on a guess,
questions asked for a missing slot and answered in the next message (also across a restart), and /undo."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from config.settings import Settings
from jobs import tables as jt
from server.app import App
from tests.fakes.clock import FakeClock
from tests.jobs.test_jobs import job_rows, say, started


async def tasks_of(app: App) -> list[tuple[str, str, str]]:
    """(list, text, status) of every stored task, in the order they were made (these tests have one user)."""
    rows = await app.services.db.all(select(jt.task.c.list_name, jt.task.c.text, jt.task.c.status)
                                     .order_by(jt.task.c.created_at, jt.task.c.id))
    return [(r.list_name, r.text, r.status) for r in rows]


async def fill(app: App, items: list[tuple[str, str]]) -> None:
    for item, list_name in items:
        outcome = await say(app, f"add {item} to my {list_name} list")
        assert outcome.tier == "triage", outcome.reply


@pytest.mark.parametrize("wording", [
    "take the eggs off my shopping list", "remove eggs from my shopping list", "delete eggs from shopping list",
    "please take eggs off the shopping list", "remove the eggs from my list", "take eggs off my list",
    "delete eggs from list",
])
async def test_removing_an_item_removes_that_item_and_never_clears(settings: Settings, wording: str) -> None:
    app, _ = await started(settings, FakeClock())
    try:
        await fill(app, [("milk", "shopping"), ("eggs", "shopping"), ("bread", "shopping")])
        outcome = await say(app, wording)
        assert outcome.tier == "triage" and "Removed eggs from your shopping list" in (outcome.reply or "")
        assert await tasks_of(app) == [("shopping", "milk", "open"), ("shopping", "bread", "open")]
    finally:
        await app.stop()


@pytest.mark.parametrize("wording", [
    "take the cheese off my shopping list", "remove cheese from my list", "delete cheese from shopping list",
])
async def test_removing_what_is_not_there_changes_nothing(settings: Settings, wording: str) -> None:
    app, _ = await started(settings, FakeClock())
    try:
        await fill(app, [("milk", "shopping"), ("eggs", "shopping")])
        outcome = await say(app, wording)
        assert "not on your" in (outcome.reply or "") and "nothing was changed" in (outcome.reply or "")
        assert await tasks_of(app) == [("shopping", "milk", "open"), ("shopping", "eggs", "open")]
    finally:
        await app.stop()


async def test_an_item_on_two_lists_is_not_picked_by_a_guess(settings: Settings) -> None:
    app, _ = await started(settings, FakeClock())
    try:
        await fill(app, [("batteries", "shopping"), ("batteries", "camping")])
        outcome = await say(app, "take batteries off my list")
        assert "several lists" in (outcome.reply or "")
        assert len(await tasks_of(app)) == 2
    finally:
        await app.stop()


@pytest.mark.parametrize("wording", ["clear my shopping list", "empty the shopping list",
                                     "delete everything on my shopping list", "wipe my shopping list"])
async def test_clearing_a_long_list_asks_first(settings: Settings, wording: str) -> None:
    app, _ = await started(settings, FakeClock())
    try:
        items = [("milk", "shopping"), ("eggs", "shopping"), ("bread", "shopping"), ("tea", "shopping")]
        await fill(app, items)
        asked = await say(app, wording)
        if asked.tier != "triage":  # "delete everything on ..." is a compound the rules leave to the model
            assert len(await tasks_of(app)) == 4
            return
        assert "Clear them all? (yes/no)" in (asked.reply or "") and "milk, eggs, bread, tea" in (asked.reply or "")
        assert len(await tasks_of(app)) == 4  # nothing yet
        kept = await say(app, "no")
        assert "left your shopping list as it is" in (kept.reply or "")
        assert len(await tasks_of(app)) == 4
        await say(app, wording)
        done = await say(app, "yes")
        assert "Cleared your shopping list: removed milk, eggs, bread, tea (4 items)" in (done.reply or "")
        assert await tasks_of(app) == []
        back = await say(app, "/undo")
        assert "back on your shopping list" in (back.reply or "")
        assert [text for _, text, _ in await tasks_of(app)] == ["milk", "eggs", "bread", "tea"]
    finally:
        await app.stop()


@pytest.mark.parametrize("wording", ["clear my packing list", "empty the packing list"])
async def test_clearing_a_list_that_does_not_exist_changes_nothing(settings: Settings, wording: str) -> None:
    app, _ = await started(settings, FakeClock())
    try:
        await fill(app, [("milk", "shopping")])
        outcome = await say(app, wording)
        assert outcome.reply == "You have no packing list; nothing was changed."
        assert await tasks_of(app) == [("shopping", "milk", "open")]
    finally:
        await app.stop()


async def test_a_short_list_clears_at_once_and_says_what_went(settings: Settings) -> None:
    app, _ = await started(settings, FakeClock())
    try:
        await fill(app, [("milk", "shopping"), ("eggs", "shopping")])
        outcome = await say(app, "clear my shopping list")
        assert outcome.reply == ("Cleared your shopping list: removed milk, eggs (2 items). "
                                 "Say /undo to bring them back.")
        assert await tasks_of(app) == []
    finally:
        await app.stop()


async def test_lists_as_people_speak_of_them(settings: Settings) -> None:
    app, _ = await started(settings, FakeClock())
    try:
        nothing = await say(app, "show me my lists")
        assert "You have no lists yet" in (nothing.reply or "")
        await fill(app, [("milk", "shopping")])
        only = await say(app, "what's on the list")  # the only list
        assert only.reply == "Your shopping list:\n1. milk"
        made = await say(app, "make a new list called packing")
        assert made.reply is not None and made.reply.startswith("Made your packing list")
        asked = await say(app, "make a new list")
        assert asked.reply == "What should I call the new list?"
        named = await say(app, "camping")
        assert named.reply is not None and named.reply.startswith("Made your camping list")
        lists = await say(app, "show me my lists")
        assert lists.reply == ("Your lists:\n- camping list (0 items)\n- packing list (0 items)\n"
                               "- shopping list (1 item)")
        what = await say(app, "add to my packing list")
        assert what.reply == "What should I add to your packing list?"
        added = await say(app, "sun cream")
        assert added.reply == "Added sun cream to your packing list (1 item)."
        several = await say(app, "what's on my list")  # several lists, none named: the to-do list
        assert several.reply == "Your to-do list is empty."
        assert sorted(await tasks_of(app)) == [("packing", "sun cream", "open"), ("shopping", "milk", "open")]
    finally:
        await app.stop()


@pytest.mark.parametrize("wording", ["add this song to my playlist", "add to list",
                                     "add the song to my workout playlist"])
async def test_list_names_are_never_verbs_or_songs(settings: Settings, wording: str) -> None:
    app, _ = await started(settings, FakeClock())
    try:
        outcome = await say(app, wording)
        assert await tasks_of(app) == []
        lists = await app.services.db.all(select(jt.task_list))
        assert lists == []
        if outcome.tier == "triage":
            assert outcome.reply == "What should I add to your to-do list?"  # "add to list": asks, adds nothing
    finally:
        await app.stop()


async def test_reminder_asks_when_and_the_next_message_sets_it(settings: Settings) -> None:
    clock = FakeClock()
    app, _ = await started(settings, clock)
    try:
        asked = await say(app, "remind me to pay the bill")
        assert (asked.tier, asked.reply) == ("triage", "When should I remind you to pay the bill?")
        assert await job_rows(app) == []
        done = await say(app, "tomorrow at 9")
        assert done.tier == "triage" and "pay the bill, tomorrow at 09:00" in (done.reply or "")
        rows = await job_rows(app)
        assert len(rows) == 1 and rows[0].payload["text"] == "pay the bill"
        what = await say(app, "set a reminder")
        assert what.reply == "What should I remind you about?"
        when = await say(app, "water the plants")
        assert when.reply == "When should I remind you to water the plants?"
        set_ = await say(app, "in 10 minutes")
        assert "water the plants" in (set_.reply or "") and len(await job_rows(app)) == 2
    finally:
        await app.stop()


async def test_the_question_survives_a_restart(settings: Settings) -> None:
    clock = FakeClock()
    app, _ = await started(settings, clock)
    try:
        await say(app, "remind me to renew the passport")
    finally:
        await app.stop()
    app, _ = await started(settings, clock)
    try:
        done = await say(app, "on friday at 10am")
        assert done.tier == "triage" and "renew the passport" in (done.reply or "")
        assert len(await job_rows(app)) == 1
    finally:
        await app.stop()


async def test_another_request_abandons_the_question_and_late_answers_expire(settings: Settings) -> None:
    clock = FakeClock()
    app, _ = await started(settings, clock)
    try:
        await say(app, "remind me to pay the bill")
        other = await say(app, "add milk to my shopping list")
        assert other.reply == "Added milk to your shopping list (1 item)."
        late = await say(app, "tomorrow at 9")
        assert await job_rows(app) == [] and "pay the bill" not in (late.reply or "")
        await say(app, "remind me to call the bank")
        clock.advance(seconds=settings.triage_question_ttl_seconds + 1)
        expired = await say(app, "tomorrow at 9")
        assert await job_rows(app) == [] and "call the bank" not in (expired.reply or "")
    finally:
        await app.stop()


async def test_undo_takes_back_the_last_change_within_the_window(settings: Settings) -> None:
    clock = FakeClock()
    app, _ = await started(settings, clock)
    try:
        await fill(app, [("milk", "shopping"), ("eggs", "shopping")])
        await say(app, "remove milk from my shopping list")
        back = await say(app, "undo")
        assert back.reply == "Undone: milk back on your shopping list."
        assert sorted(x for _, x, _ in await tasks_of(app)) == ["eggs", "milk"]
        again = await say(app, "/undo")  # one change, one undo
        assert (again.reply or "").startswith("There is nothing to undo")
        await say(app, "remove eggs from my shopping list")
        clock.advance(seconds=settings.undo_window_seconds + 1)
        late = await say(app, "undo")
        assert (late.reply or "").startswith("There is nothing to undo")
        assert [x for _, x, _ in await tasks_of(app)] == ["milk"]
    finally:
        await app.stop()


async def test_cancelling_a_reminder_needs_one_clear_target_and_can_be_undone(settings: Settings) -> None:
    clock = FakeClock()
    app, _ = await started(settings, clock)
    try:
        await say(app, "remind me to call the dentist at 6pm")
        await say(app, "remind me to call the plumber at 7pm")
        vague = await say(app, "cancel my call reminder")
        assert "Several reminders match" in (vague.reply or "")
        missing = await say(app, "cancel my yoga reminder")
        assert "no reminder about 'yoga'" in (missing.reply or "")
        assert [r.state for r in await job_rows(app)] == ["pending", "pending"]
        done = await say(app, "cancel my dentist reminder")
        assert (done.reply or "").startswith("Cancelled reminder 1 (call the dentist)")
        assert [r.state for r in await job_rows(app)] == ["cancelled", "pending"]
        back = await say(app, "undo")
        assert "back on" in (back.reply or "")
        assert [r.state for r in await job_rows(app)] == ["pending", "pending"]
        clock.advance(hours=1)
    finally:
        await app.stop()

