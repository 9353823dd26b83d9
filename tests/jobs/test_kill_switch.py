"""The kill switch and agent pause with the reference's semantics: pending jobs cancelled, new messages refused,
an in-flight model turn stopped after its current step, and resume restoring new work only. "boss" is the
platform admin; refusals are audited and change nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from agents.llm.base import ChatMessage, ChatResult, TextSink, ToolSpec
from bot.governance import Actor
from bot.ids import new_id
from bot.store import tables as t
from bot.store.batch import Insert
from jobs import tables as jt
from server.app import App
from tests.conftest import make_settings
from tests.fakes.clock import START, FakeClock
from tests.fakes.scripted_provider import ScriptedProvider
from tests.jobs.test_jobs import answer, job_rows, jobs, say, started, tool_call

BOSS = "acc:boss"


def admin_settings(tmp_path: Path) -> Any:
    return make_settings(tmp_path / "var", admins=[f"http:{BOSS}"])


async def states(app: App) -> list[str]:
    return [row.state for row in await job_rows(app)]


async def refusals(app: App) -> list[str]:
    rows = await app.services.db.all(select(t.audit_event))
    return [row.action for row in rows if (row.detail or {}).get("outcome") == "refused"]


async def test_kill_switch_cancels_pending_jobs_and_refuses_new_work(tmp_path: Path) -> None:
    app, _ = await started(admin_settings(tmp_path), FakeClock())
    try:
        for text in ("remind me to call mum in 2 hours", "remind me to water the plants in 3 hours"):
            assert (await say(app, text)).tier == "triage"
        assert await states(app) == ["pending", "pending"]

        refused = await say(app, "/pause")  # a member may not
        assert refused.error_code == "forbidden"
        assert app.services.platform.status == "online" and await states(app) == ["pending", "pending"]
        assert "command.pause" in await refusals(app)

        paused = await say(app, "/pause", user=BOSS)
        assert "2 pending jobs cancelled" in paused.reply
        assert await states(app) == ["cancelled", "cancelled"]
        blocked = await say(app, "what time is it?")
        assert blocked.error_code == "platform_paused"

        assert (await say(app, "/resume", user=BOSS)).reply == "Platform online."
        assert (await say(app, "what time is it?")).error_code is None
        assert await states(app) == ["cancelled", "cancelled"]  # resume restores new work only
    finally:
        await app.stop()


async def test_agent_pause_cancels_only_that_agents_jobs(tmp_path: Path) -> None:
    app, _ = await started(admin_settings(tmp_path), FakeClock())
    try:
        await say(app, "remind me to call mum in 2 hours")
        assistant = (await job_rows(app))[0]
        researcher = new_id("agt")
        await app.services.db.write([Insert(t.agent, {"id": researcher, "account_id": assistant.account_id,
                                                      "slug": "researcher", "name": "Researcher", "system_prompt": "",
                                                      "status": "active", "config": {},
                                                      "created_at": START})])
        await jobs(app).store.create(type="reminder", account_id=assistant.account_id, user_id=assistant.user_id,
                                     agent_id=researcher, due_at=START + timedelta(hours=5))

        paused = await say(app, "/agent pause assistant", user=BOSS)
        assert paused.reply == "Agent assistant is paused: it takes no new messages. 1 pending job cancelled."
        assert {row.agent_id: row.state for row in await job_rows(app)} == {
            assistant.agent_id: "cancelled", researcher: "pending"}
        assert (await say(app, "what time is it?")).error_code == "agent_paused"

        assert (await say(app, "/agent resume assistant", user=BOSS)).reply == "Agent assistant is active again."
        assert (await say(app, "what time is it?")).error_code is None
    finally:
        await app.stop()


class PausedMidTurn(ScriptedProvider):
    """The administrator pulls the kill switch while the model's first step is being answered."""

    def __init__(self, script: Sequence[ChatResult]) -> None:
        super().__init__(script)
        self.app: App | None = None

    async def chat(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = (), *, model: str | None = None,
                   max_tokens: int | None = None, on_text: TextSink | None = None,
                   repeat_penalty: float | None = None) -> ChatResult:
        result = await super().chat(messages, tools, model=model, max_tokens=max_tokens, on_text=on_text,
                                    repeat_penalty=repeat_penalty)
        if len(self.calls) == 1 and self.app is not None:
            boss = Actor("user:boss", "", None, is_platform_admin=True, channel="test")
            await self.app.services.governance.controls.set_platform(boss, "paused")
        return result


async def test_an_in_flight_turn_finishes_its_step_then_stops(tmp_path: Path) -> None:
    provider = PausedMidTurn([
        tool_call("task_add", {"task": "finish the book club reading", "list_name": "reading"}),
        answer("never sent: the turn stopped before this step"),
    ])
    app, _ = await started(admin_settings(tmp_path), FakeClock(), provider)
    provider.app = app
    try:
        outcome = await say(app, "could you note that I need to finish the book club reading?")
        assert len(provider.calls) == 1  # no step after the pause
        assert outcome.error_code == "platform_paused"
        assert outcome.reply.startswith("I stopped working on this: Thinklio was paused")
        assert "finish the book club reading" in outcome.reply  # the step's change is shown
        rows = await app.services.db.all(select(jt.task.c.text))
        assert [row.text for row in rows] == ["finish the book club reading"]  # the current step completed
    finally:
        await app.stop()
