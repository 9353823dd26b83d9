"""Reminders end to end, with a controllable clock: delivery into the right conversation, restarts, late
delivery, recurrence, cancelling, and two schedulers on one database. No sleeps: the clock moves and the test
calls the scheduler's `run_due` itself."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from agents.core import CoreExtension
from agents.llm import Provider
from agents.llm.base import ChatResult, ToolCall, Usage
from bot.ids import new_id
from bot.messages import InboundMessage, OutboundMessage, Outcome, Sender
from bot.store import tables as t
from channels.base import BaseChannel
from config.settings import Settings
from jobs import tables as jt
from jobs.extension import JobsExtension
from jobs.service import JobsService
from server.app import App
from tests.conftest import make_settings
from tests.fakes.clock import START, FakeClock
from tests.fakes.scripted_provider import ScriptedProvider


class Outlet(BaseChannel):
    """Stands in for the HTTP channel: records what the pipeline delivers."""

    type = "http"

    def __init__(self) -> None:
        self.messages: list[OutboundMessage] = []

    async def deliver(self, message: OutboundMessage) -> None:
        self.messages.append(message)

    def sent(self) -> list[OutboundMessage]:
        """Messages the server started (reminders, notices), not replies to what a user wrote."""
        return [m for m in self.messages if m.metadata.get("job_id")]

    def texts(self) -> list[str]:
        return [m.text for m in self.sent()]


async def started(settings: Settings, clock: FakeClock, provider: Provider | None = None) -> tuple[App, Outlet]:
    app = App(settings, clock=clock, provider=provider, extensions=[CoreExtension(), JobsExtension()])
    await app.start()
    outlet = Outlet()
    app.services.pipeline.outlets["http"] = outlet
    return app, outlet


def jobs(app: App) -> JobsService:
    service = app.kit.extras["jobs"]
    assert isinstance(service, JobsService)
    return service


async def say(app: App, text: str, user: str = "acc:u1") -> Outcome:
    return await app.services.pipeline.handle(InboundMessage("api", Sender(user, "Sam"), text))


def tool_call(name: str, arguments: dict[str, Any]) -> ChatResult:
    return ChatResult(None, (ToolCall(new_id("call"), name, arguments, None, ""),), Usage(10, 10), "scripted-model")


def answer(text: str) -> ChatResult:
    return ChatResult(text, (), Usage(10, 10), "scripted-model")


async def job_rows(app: App) -> list[Any]:
    return await app.services.db.all(select(jt.job).order_by(jt.job.c.created_at, jt.job.c.id))


async def test_reminder_is_delivered_into_its_conversation_at_its_time(settings: Settings) -> None:
    clock = FakeClock()
    app, outlet = await started(settings, clock)
    try:
        mine = await say(app, "remind me to call mum at 6pm")
        assert mine.tier == "triage" and "call mum, today at 18:00" in (mine.reply or "")
        theirs = await say(app, "remind me in 10 minutes to stretch", user="acc:u2")
        assert "reminder 1" in (theirs.reply or "")  # numbers are per user
        assert await jobs(app).scheduler.run_due() == 0
        clock.advance(minutes=10)
        assert await jobs(app).scheduler.run_due() == 1
        assert [(m.text, m.conversation_id) for m in outlet.sent()] == [("Reminder: stretch", theirs.conversation_id)]
        clock.set(START.replace(hour=18))
        await jobs(app).scheduler.run_due()
        assert [(m.text, m.conversation_id) for m in outlet.sent()][1:] == [("Reminder: call mum",
                                                                              mine.conversation_id)]
        stored = await app.services.db.all(select(t.message.c.text).where(
            t.message.c.conversation_id == mine.conversation_id, t.message.c.direction == "out"))
        assert "Reminder: call mum" in [row.text for row in stored]
        assert [row.state for row in await job_rows(app)] == ["resolved", "resolved"]
        assert await jobs(app).scheduler.run_due() == 0  # fired once only
    finally:
        await app.stop()


async def test_a_reminder_speaks_the_language_of_whoever_set_it(settings: Settings) -> None:
    clock = FakeClock()
    app, outlet = await started(settings, clock)
    try:
        set_it = await app.services.pipeline.handle(InboundMessage("api", Sender("acc:u1", "Ana", locale="es"),
                                                                   "remind me in 10 minutes to stretch"))
        assert (set_it.reply or "").startswith("De acuerdo, te lo recordaré: stretch, hoy a las ")
        await say(app, "remind me in 10 minutes to stretch", user="acc:u2")  # no language given: English
        clock.advance(minutes=10)
        assert await jobs(app).scheduler.run_due() == 2
        assert sorted(outlet.texts()) == ["Recordatorio: stretch", "Reminder: stretch"]
    finally:
        await app.stop()


async def test_reminder_in_the_users_time_zone(settings: Settings) -> None:
    clock = FakeClock()
    app, outlet = await started(settings, clock)
    try:
        await say(app, "my time zone is Asia/Tokyo")
        reply = await say(app, "remind me to water the plants at 9pm")
        assert "today at 21:00" in (reply.reply or "")
        (row,) = await job_rows(app)
        assert row.due_at == START.replace(hour=12)  # 21:00 in Tokyo
        clock.set(START.replace(hour=12))
        await jobs(app).scheduler.run_due()
        assert outlet.texts() == ["Reminder: water the plants"]
    finally:
        await app.stop()


async def test_pending_reminders_survive_a_restart(settings: Settings) -> None:
    clock = FakeClock()
    first, _ = await started(settings, clock)
    outcome = await say(first, "remind me in 30 minutes to take the cake out")
    await first.stop()

    clock.advance(minutes=10)
    second, outlet = await started(settings, clock)
    try:
        assert await jobs(second).scheduler.run_due() == 0
        clock.advance(minutes=20)
        await jobs(second).scheduler.run_due()
        assert [(m.text, m.conversation_id) for m in outlet.sent()] == [("Reminder: take the cake out",
                                                                          outcome.conversation_id)]
    finally:
        await second.stop()


async def test_reminder_missed_while_down_arrives_late_with_a_note(settings: Settings) -> None:
    clock = FakeClock()
    first, _ = await started(settings, clock)
    await say(first, "remind me to call mum at 6pm")
    await first.stop()

    clock.set(START.replace(hour=20))  # the server was down from 10:00 to 20:00
    second, outlet = await started(settings, clock)
    try:
        await jobs(second).scheduler.run_due()
        assert outlet.texts() == ["Reminder: call mum (late: due at 18:00, the server was down)"]
        assert [row.state for row in await job_rows(second)] == ["resolved"]
    finally:
        await second.stop()


async def test_recurring_reminder_fires_again_and_skips_what_it_missed(settings: Settings) -> None:
    clock = FakeClock()
    app, outlet = await started(settings, clock)
    try:
        await say(app, "my time zone is Europe/Berlin")
        reply = await say(app, "remind me every weekday at 9 to stand up")
        assert "every weekday at 09:00 (next: tomorrow at 09:00)" in (reply.reply or "")
        clock.set(datetime(2026, 11, 27, 8, 0, tzinfo=UTC))  # Friday 09:00 in Berlin
        await jobs(app).scheduler.run_due()
        (row,) = await job_rows(app)
        assert row.state == "pending" and row.due_at == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # Monday
        clock.set(datetime(2026, 12, 2, 12, 0, tzinfo=UTC))  # Wednesday noon: Monday to Wednesday missed
        await jobs(app).scheduler.run_due()
        (row,) = await job_rows(app)
        assert row.due_at == datetime(2026, 12, 3, 8, 0, tzinfo=UTC)  # Thursday, not Tuesday
        assert outlet.texts() == ["Reminder: stand up", "Reminder: stand up (late: due at Mon 30 Nov 09:00)"]
    finally:
        await app.stop()


async def test_interval_reminder_through_the_tool(settings: Settings) -> None:
    # Triage does not answer "every 2 hours" directly (no clock time), so the model sets it with the tool.
    provider = ScriptedProvider([tool_call("reminder_set", {"text": "drink water", "when": "in 2 hours",
                                                            "every_minutes": 120}), answer("Will do.")])
    clock = FakeClock()
    app, outlet = await started(settings, clock, provider)
    try:
        reply = (await say(app, "please nag me about drinking water every couple of hours")).reply or ""
        receipt = provider.calls[1][0][-1].content or ""
        assert "(reminder 1;" in receipt
        assert reply == f"Will do.\n\n{receipt}"  # what the model did is shown to the user
        for _ in range(3):
            clock.advance(hours=2)
            await jobs(app).scheduler.run_due()
        assert outlet.texts() == ["Reminder: drink water"] * 3
        (row,) = await job_rows(app)
        assert row.due_at == START + timedelta(hours=8) and row.runs == 3
    finally:
        await app.stop()


async def test_cancel_by_chat_and_by_command(settings: Settings) -> None:
    clock = FakeClock()
    app, outlet = await started(settings, clock)
    try:
        await say(app, "remind me in 10 minutes to stretch")
        await say(app, "remind me every day at 7 to run")
        listed = await say(app, "show my reminders")
        assert listed.reply is not None
        assert "1. stretch" in listed.reply and "2. run, every day at 07:00" in listed.reply
        by_chat = await say(app, "cancel reminder 1")
        assert (by_chat.tier, by_chat.reply) == (
            "triage", "Cancelled reminder 1 (stretch). Say /undo to keep it after all.")
        assert "no active reminder 1" in ((await say(app, "/cancel 1")).reply or "")
        # by its text: only when exactly one active reminder matches, else nothing is cancelled
        assert "nothing was cancelled" in ((await say(app, "cancel my reminder about the dentist")).reply or "")
        assert "no active reminder 2" in ((await say(app, "/cancel 2", user="acc:other")).reply or "")
        assert (await say(app, "/job cancel 2")).reply == "Cancelled reminder (job 2)."
        clock.advance(days=2)
        assert await jobs(app).scheduler.run_due() == 0
        assert outlet.texts() == []
        assert [row.state for row in await job_rows(app)] == ["cancelled", "cancelled"]
        assert (await say(app, "show my reminders")).reply == "You have no reminders set."
    finally:
        await app.stop()


async def test_jobs_commands_show_own_jobs_and_admins_see_all(settings: Settings) -> None:
    clock = FakeClock()
    app, _ = await started(settings, clock)
    try:
        await say(app, "remind me in 10 minutes to stretch", user="acc:a")
        await say(app, "remind me in 20 minutes to walk", user="acc:b")
        listing = (await say(app, "/jobs", user="acc:a")).reply or ""
        assert "1. reminder pending, due today at 10:10: stretch" in listing and "walk" not in listing
        assert "Reminder: stretch, today at 10:10" in ((await say(app, "/job 1", user="acc:a")).reply or "")
        other = (await job_rows(app))[1].id
        assert "No job" in ((await say(app, f"/job {other}", user="acc:a")).reply or "")
        admin = await app.services.pipeline.handle(InboundMessage("console", Sender("root", "Root"), "/jobs"))
        assert "stretch" in (admin.reply or "") and "walk" in (admin.reply or "")  # console:* is a platform admin
        assert "Cancelled" in ((await app.services.pipeline.handle(
            InboundMessage("console", Sender("root", "Root"), f"/job cancel {other}"))).reply or "")
    finally:
        await app.stop()


async def test_two_schedulers_on_one_database_never_double_fire(tmp_path: Path) -> None:
    clock = FakeClock()
    settings = make_settings(tmp_path / "var", jobs_batch_size=7)
    one, outlet_one = await started(settings, clock)
    two, outlet_two = await started(settings, clock)
    try:
        for n in range(40):
            await say(one if n % 2 else two, f"remind me in 10 minutes to do thing {n}", user=f"acc:u{n % 5}")
        clock.advance(minutes=10)
        for _ in range(3):
            counts = await asyncio.gather(jobs(one).scheduler.run_due(), jobs(two).scheduler.run_due())
        assert sum(counts) == 0
        delivered = outlet_one.texts() + outlet_two.texts()
        assert sorted(delivered) == sorted(f"Reminder: do thing {n}" for n in range(40))
        assert outlet_one.texts() and outlet_two.texts()  # both took part
        rows = await job_rows(one)
        assert {row.state for row in rows} == {"resolved"} and {row.runs for row in rows} == {1}
        assert {row.claimed_by for row in rows} == {jobs(one).scheduler.worker, jobs(two).scheduler.worker}
    finally:
        await one.stop()
        await two.stop()


async def test_the_timer_fires_on_its_own(settings: Settings) -> None:
    """The one test on the real clock: APScheduler's date trigger wakes the scheduler at the due time."""
    from sqlalchemy import update

    from bot.clock import SystemClock

    app = App(settings, clock=SystemClock(), extensions=[CoreExtension(), JobsExtension()])
    await app.start()
    outlet = Outlet()
    app.services.pipeline.outlets["http"] = outlet
    try:
        await say(app, "remind me in 10 minutes to look up")
        due = datetime.now(UTC) + timedelta(seconds=0.3)
        await app.services.db.run(lambda conn: conn.execute(update(jt.job).values(due_at=due)))
        await jobs(app).scheduler.arm()
        for _ in range(300):
            if outlet.sent():
                break
            await asyncio.sleep(0.01)
        assert outlet.texts() == ["Reminder: look up"]
    finally:
        await app.stop()


async def test_a_claim_left_by_a_dead_server_is_taken_over(settings: Settings) -> None:
    from sqlalchemy import update

    clock = FakeClock()
    first, _ = await started(settings, clock)
    await say(first, "remind me in 1 minute to breathe")
    clock.advance(minutes=1)
    # Claimed, then the process died before delivering.
    claim = update(jt.job).values(state="running", claimed_by="dead-server", claimed_at=clock.now())
    await first.services.db.run(lambda conn: conn.execute(claim))
    await first.stop()
    clock.advance(seconds=settings.jobs_claim_lease_seconds + 1)
    second, outlet = await started(settings, clock)
    try:
        await jobs(second).scheduler.run_due()
        assert outlet.texts() == ["Reminder: breathe (late: due at 10:01, the server was down)"]
        (row,) = await job_rows(second)
        assert (row.state, row.claimed_by, row.runs) == ("resolved", jobs(second).scheduler.worker, 1)
    finally:
        await second.stop()
