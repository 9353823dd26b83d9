"""Budgets shared by every server process: a reservation per model call in the store, checked before every call
(not once a turn), a warning line from 80 %, stale reservations forgotten, and two server processes on one
Postgres database never over a budget by more than one turn's cost."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from agents.llm.base import ChatResult, Usage
from bot.budgets import STALE, Budgets, OverBudget, period_of
from bot.ids import new_id
from bot.messages import InboundMessage, Outcome, Sender
from bot.store import tables as t
from bot.store.batch import Insert
from bot.store.database import Database
from bot.store.migrate import upgrade_async
from server.app import App
from server.settings import CHANNELS, migration_folders
from tests.conftest import REPO, make_settings
from tests.fakes import postgres
from tests.fakes.scripted_provider import ScriptedProvider

PRICES = {"scripted-model": (2.0, 4.0)}  # USD per million tokens in / out


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at


def answer(text: str | None, tokens_in: int = 1500, tokens_out: int = 500, call: str | None = None) -> ChatResult:
    from agents.llm.base import ToolCall

    calls = (ToolCall(new_id("call"), call, {"timezone": "Asia/Tokyo"}),) if call else ()
    return ChatResult(text, calls, Usage(tokens_in, tokens_out), "scripted-model")


async def started(tmp_path: Path, provider: Any, **overrides: Any) -> App:
    app = App(make_settings(tmp_path / "var", llm_prices=PRICES, **overrides), channels=CHANNELS.builder(()),
              provider=provider)
    await app.start()
    return app


async def ask(app: App, text: str, user: str = "acc:u1") -> Outcome:
    return await app.services.pipeline.handle(InboundMessage(channel="api", sender=Sender(user, "Sam"), text=text))


async def ids(app: App) -> tuple[str, str]:
    account = await app.services.directory.account_by_slug("default")
    assert account is not None
    agent = await app.services.directory.agent_by_slug(account.id, "assistant")
    assert agent is not None
    return account.id, agent.id


async def spend_rows(db: Database) -> dict[tuple[str, str], tuple[float, float]]:
    rows = await db.all(select(t.spend))
    return {(row.scope, row.subject_id): (row.spent_usd, row.reserved_usd) for row in rows}


# --- before every model call, not once a turn ------------------------------------------------------------------

async def test_a_budget_running_out_mid_turn_stops_the_next_model_call(tmp_path: Path) -> None:
    # The first call (1000 in, 100 out: $0.0024) is admitted with nothing spent; the tool's result would need a
    # second call, which the $0.002 budget no longer allows: the model is called once.
    provider = ScriptedProvider([answer(None, 1000, 100, call="current_time"), answer("never")])
    app = await started(tmp_path, provider, user_monthly_budget_usd=0.002)
    try:
        outcome = await ask(app, "please look into this for me in detail")
        assert (outcome.status, outcome.error_code) == ("rejected", "budget_exceeded")
        assert "you have used your monthly budget of $0.0020" in (outcome.reply or "")
        assert len(provider.calls) == 1
        steps = await app.services.db.all(select(t.step.c.kind, t.step.c.status)
                                          .where(t.step.c.interaction_id == outcome.interaction_id))
        assert ("budget", "denied") in [tuple(s) for s in steps]
        account_id, _ = await ids(app)
        (spent, reserved), = [v for (scope, _), v in (await spend_rows(app.services.db)).items() if scope == "user"]
        assert (round(spent, 6), reserved) == (0.0024, 0.0)
        assert account_id
    finally:
        await app.stop()


async def test_a_reply_warns_from_80_percent_of_a_budget(tmp_path: Path) -> None:
    provider = ScriptedProvider(lambda messages, tools: answer("ok", 1000, 100))  # $0.0024 a turn
    app = await started(tmp_path, provider, account_monthly_budget_usd=0.006)
    try:
        first = await ask(app, "write me a haiku")
        assert first.reply == "ok"  # 40 %
        second = await ask(app, "write me another haiku")  # 80 %
        assert second.reply == "ok\n\nNote: This workspace has used 80% of its monthly budget ($0.0048 of $0.0060)."
        third = await ask(app, "and a third haiku")  # admitted (0.0048 < 0.006), over afterwards
        assert "Note: This workspace has used 120%" in (third.reply or "")
        assert (await ask(app, "a fourth haiku")).error_code == "budget_exceeded"
        assert len(provider.calls) == 3
    finally:
        await app.stop()


async def test_an_agent_budget_and_none_overriding_the_default(tmp_path: Path) -> None:
    provider = ScriptedProvider(lambda messages, tools: answer("ok"))  # $0.005 a turn
    app = await started(tmp_path, provider, user_monthly_budget_usd=0.001)
    try:
        account_id, agent_id = await ids(app)
        budgets = app.services.governance.money.budgets
        now = app.services.clock.now()
        await app.services.platform.change([
            Insert(t.budget, {"id": new_id("bud"), "account_id": account_id, "scope": "agent",
                              "subject_id": agent_id, "limit_usd": 0.008, "updated_at": now})],
            actor="tests", action="budget.set.agent")
        assert (await ask(app, "tell me a story", user="acc:a")).status == "completed"
        assert (await ask(app, "tell me a story", user="acc:a")).error_code == "budget_exceeded"  # the user's
        user_b = "acc:b"
        assert (await ask(app, "tell me a story", user=user_b)).status == "completed"  # agent at 0.010 now
        limits = await budgets.limits(account_id, "usr_nobody", agent_id)
        assert [(limit.scope, limit.source) for limit in limits] == [("user", "default"), ("agent", "set")]
        assert (await ask(app, "tell me a story", user="acc:c")).error_code == "budget_exceeded"  # the agent's
        assert len(provider.calls) == 2
    finally:
        await app.stop()


# --- the store's side, one Budgets over SQLite -------------------------------------------------------------------

async def budgets_on(tmp_path: Path, clock: Clock, limit: float) -> tuple[Database, Budgets, str]:
    settings = make_settings(tmp_path / "var")
    app = App(settings, channels=CHANNELS.builder(()))
    await app.open_store()
    account = await app.services.directory.account_by_slug("default")
    await app.close_store()
    assert account is not None
    db = Database(settings.resolved_database_url)
    db.start()
    return db, Budgets(db, clock, account_default=limit, user_default=None), account.id


async def test_calls_in_flight_count_against_the_budget(tmp_path: Path) -> None:
    clock = Clock()
    db, budgets, account = await budgets_on(tmp_path, clock, 1.0)
    try:
        first = await budgets.reserve(account, "usr_a", None, 0.6)
        second = await budgets.reserve(account, "usr_b", None, 0.6)  # 0.6 < 1.0: admitted, the last one
        try:
            await budgets.reserve(account, "usr_c", None, 0.1)
            raise AssertionError("a third call was admitted with 1.2 reserved")
        except OverBudget as exc:
            assert exc.limit.scope == "account"
        assert await spend_rows(db) == {("account", account): (0.0, 1.2)}
        await budgets.settle(first, 0.1)  # it cost less than it might have: room again
        await budgets.settle(second, 0.2)
        assert await spend_rows(db) == {("account", account): (0.30000000000000004, 0.0)}
        assert await budgets.reserve(account, "usr_c", None, 0.1) is not None
    finally:
        await db.close()


async def test_a_dead_processs_reservation_is_forgotten(tmp_path: Path) -> None:
    clock = Clock()
    db, budgets, account = await budgets_on(tmp_path, clock, 1.0)
    try:
        await budgets.reserve(account, "usr_a", None, 5.0)  # and its process died before settling
        try:
            await budgets.reserve(account, "usr_b", None, 0.1)
            raise AssertionError("admitted over a live reservation")
        except OverBudget:
            pass
        clock.at += STALE + timedelta(seconds=1)
        hold = await budgets.reserve(account, "usr_b", None, 0.1)
        assert await spend_rows(db) == {("account", account): (0.0, 0.1)}
        await budgets.settle(hold, 0.05)
        assert await spend_rows(db) == {("account", account): (0.05, 0.0)}
    finally:
        await db.close()


async def test_spend_starts_from_the_costs_already_stored(tmp_path: Path) -> None:
    provider = ScriptedProvider(lambda messages, tools: answer("ok"))  # $0.005 a turn
    app = await started(tmp_path, provider)
    try:
        await ask(app, "tell me a story")  # no budget yet: nothing reserved, nothing in `spend`
        assert await spend_rows(app.services.db) == {}
        account_id, _ = await ids(app)
        budgets = app.services.governance.money.budgets
        standing = await budgets.standing(account_id, None, None)
        assert [(s.scope, round(s.spent_usd, 6), s.limit) for s in standing] == [("account", 0.005, None)]
        await app.services.platform.change([
            Insert(t.budget, {"id": new_id("bud"), "account_id": account_id, "scope": "account",
                              "subject_id": account_id, "limit_usd": 0.008, "updated_at": app.services.clock.now()})],
            actor="tests", action="budget.set.account")
        assert (await ask(app, "tell me a story")).status == "completed"  # 0.005 < 0.008
        assert (await ask(app, "tell me a story")).error_code == "budget_exceeded"  # 0.010 counted
        assert [round(v[0], 6) for v in (await spend_rows(app.services.db)).values()] == [0.01]
    finally:
        await app.stop()


async def test_a_new_month_starts_from_nothing(tmp_path: Path) -> None:
    clock = Clock()
    db, budgets, account = await budgets_on(tmp_path, clock, 1.0)
    try:
        await budgets.settle(await budgets.reserve(account, "usr_a", None, 1.0), 1.0)
        assert await budgets.exceeded(account, "usr_a") is not None
        clock.at = datetime(2027, 1, 1, 0, 0, tzinfo=UTC)
        assert await budgets.exceeded(account, "usr_a") is None
        periods = {row.period for row in await db.all(select(t.spend.c.period))}
        assert periods == {"2026-12", period_of(clock.at)}
    finally:
        await db.close()


# --- two server processes, one Postgres ---------------------------------------------------------------------------

LIMIT = 1.0
TURNS, CONCURRENCY = 30, 4  # per process: 240 % of the budget asked for, 8 turns in flight at a time


def _line(process: subprocess.Popen[str], marker: str) -> str:
    """The rest of the process's first output line that starts with `marker` (log lines come between)."""
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith(marker):
            return line[len(marker):].strip()
    raise AssertionError(f"the process ended without printing {marker} (exit {process.wait()})")


@postgres.required()
async def test_two_server_processes_on_postgres_stay_within_one_turn_of_the_budget(
        database_url: str, tmp_path: Path) -> None:
    await upgrade_async(database_url, migration_folders())
    processes = []
    for name in ("one", "two"):  # started one after the other: each seeds the catalogue it needs
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.bot.budget_process", database_url, str(tmp_path / name), name, str(TURNS),
             str(CONCURRENCY), str(LIMIT)], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert _line(process, "READY") == ""
        processes.append(process)
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    ended = [json.loads(await asyncio.to_thread(_line, process, "RESULT")) for process in processes]
    for process in processes:
        assert process.wait(timeout=120) == 0
    db = Database(database_url)
    db.start()
    try:
        i = t.interaction
        costs = [row[0] for row in await db.all(select(i.c.cost_usd).where(i.c.cost_usd > 0))]
        spent = sum(costs)
        assert spent <= LIMIT + max(costs), (spent, max(costs))
        assert spent >= LIMIT - 2 * CONCURRENCY * max(costs)  # the budget was really used, not refused early
        assert all(e.get("completed", 0) > 0 and e.get("budget_exceeded", 0) > 0 for e in ended), ended
        (row_spent, reserved), = (await spend_rows(db)).values()
        assert abs(row_spent - spent) < 1e-9 and abs(reserved) < 1e-9
    finally:
        await db.close()
