"""Money: usage from the stored interactions and steps (cost and tokens), spend against the budgets, and setting a
budget (owners and admins of the account, platform administrators anywhere; every refusal audited). Budgets
themselves, and their enforcement before every model call, are `bot/budgets.py`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, distinct, func, select

from bot.budgets import SCOPES, Budgets, Limit, Standing, month_start, usd
from bot.clock import Clock
from bot.directory import Directory
from bot.errors import ThinklioError
from bot.governance.actor import Actor
from bot.governance.audit import Audit, done
from bot.governance.people import People
from bot.ids import new_id
from bot.platform import PlatformState
from bot.store import tables as t
from bot.store.batch import Insert, Op, Update
from bot.store.database import Database

PERIODS = ("day", "week", "month")
MAX_BUDGET = 1_000_000.0
NO_LIMIT = ("none", "off", "unlimited")


@dataclass(frozen=True, slots=True)
class UsageLine:
    key: str  # the account's, user's or agent's id
    label: str  # its slug or name
    interactions: int
    model_calls: int
    tokens_in: int
    tokens_out: int
    cost_usd: float


@dataclass(frozen=True, slots=True)
class UsageReport:
    period: str
    since: datetime
    by: str  # account | user | agent
    lines: list[UsageLine]
    only_self: bool  # a member sees their own usage only


@dataclass(frozen=True, slots=True)
class BudgetLine:
    standing: Standing
    label: str


def period_since(period: str, now: datetime) -> datetime:
    """The start (UTC) of the calendar day, ISO week (Monday) or month that `now` is in."""
    now = now.astimezone(UTC)
    day = datetime(now.year, now.month, now.day, tzinfo=UTC)
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=now.weekday())
    return month_start(now)


def parse_amount(text: str) -> float | None:
    """A budget in USD ("25", "$12.50"), or None for no limit ("none"); anything else is a clear error."""
    raw = text.strip().lower()
    if raw in NO_LIMIT:
        return None
    try:
        value = float(raw.removeprefix("$").replace(",", ""))
    except ValueError:
        raise ThinklioError("bad_request", f"{text!r} is not an amount: give dollars like 25 or 12.50, or 'none' "
                                           "for no limit.") from None
    if not math.isfinite(value) or value < 0 or value > MAX_BUDGET:
        raise ThinklioError("bad_request", f"A budget is between $0 and ${MAX_BUDGET:,.0f} a month; {text!r} is not.")
    return round(value, 4)


class Money:
    def __init__(self, db: Database, clock: Clock, directory: Directory, platform: PlatformState, audit: Audit,
                 people: People, budgets: Budgets) -> None:
        self._db = db
        self._clock = clock
        self._directory = directory
        self._platform = platform
        self._audit = audit
        self._people = people
        self.budgets = budgets

    async def usage(self, actor: Actor, period: str = "month", by: str = "account") -> UsageReport:
        if period not in PERIODS:
            raise ThinklioError("bad_request", f"Unknown period {period!r}: one of {', '.join(PERIODS)}.")
        if by not in SCOPES:
            raise ThinklioError("bad_request", f"Usage is by {', '.join(SCOPES)}, not {by!r}.")
        only_self = not actor.is_account_admin
        if only_self and actor.user_id is None:
            await self._audit.refuse(actor, "usage.show", "only the account's owners and admins see its usage",
                                     target_type="account", target_id=actor.account_id)
        since = period_since(period, self._clock.now())
        i, s = t.interaction, t.step
        group = {"account": i.c.account_id, "user": i.c.user_id, "agent": i.c.agent_id}["user" if only_self else by]
        llm = (s.c.kind == "llm_call") & (s.c.status == "ok")
        query = (select(group.label("key"), func.count(distinct(i.c.id)),
                        func.coalesce(func.sum(case((llm, 1), else_=0)), 0),
                        func.coalesce(func.sum(s.c.tokens_in), 0), func.coalesce(func.sum(s.c.tokens_out), 0),
                        func.coalesce(func.sum(s.c.cost_usd), 0.0))
                 .select_from(i.outerjoin(s, s.c.interaction_id == i.c.id))
                 .where(i.c.account_id == actor.account_id, i.c.created_at >= since)
                 .group_by(group).order_by(func.coalesce(func.sum(s.c.cost_usd), 0.0).desc(), group))
        if only_self:
            query = query.where(i.c.user_id == actor.user_id)
        rows = await self._db.all(query)
        lines = [UsageLine(row[0], await self._label("user" if only_self else by, row[0]), int(row[1]), int(row[2]),
                           int(row[3]), int(row[4]), float(row[5])) for row in rows]
        return UsageReport(period, since, "user" if only_self else by, lines, only_self)

    async def standing(self, actor: Actor, *, agent_id: str | None) -> list[BudgetLine]:
        """Spend this month against the budget of the account, the actor (a person) and the agent."""
        standings = await self.budgets.standing(actor.account_id, actor.user_id, agent_id)
        return [BudgetLine(s, await self._label(s.scope, s.subject_id)) for s in standings]

    async def listing(self, actor: Actor) -> list[BudgetLine]:
        """The account's standing and every budget set in it (admins)."""
        if not actor.is_account_admin:
            await self._audit.refuse(actor, "budget.list", "only the account's owners and admins see its budgets",
                                     target_type="account", target_id=actor.account_id)
        b = t.budget
        rows = await self._db.all(select(b.c.scope, b.c.subject_id, b.c.limit_usd)
                                  .where(b.c.account_id == actor.account_id).order_by(b.c.scope, b.c.subject_id))
        limits = [Limit(row.scope, row.subject_id, float(row.limit_usd), "set") for row in rows
                  if row.limit_usd is not None]
        unlimited = [Standing(row.scope, row.subject_id, 0.0, None) for row in rows if row.limit_usd is None]
        account = await self.budgets.standing(actor.account_id, None, None)
        found = [*account, *(s for s in await self.budgets.standings(actor.account_id, limits) if s.scope != "account"),
                 *(s for s in unlimited if s.scope != "account")]
        return [BudgetLine(s, await self._label(s.scope, s.subject_id)) for s in found]

    async def set_budget(self, actor: Actor, scope: str, ref: str, amount: str) -> str:
        """Set (or clear, with 'none') the monthly budget of the account, a member or an agent."""
        scope = scope.strip().lower()
        if scope not in SCOPES:
            raise ThinklioError("bad_request", f"A budget is for an account, a user or an agent, not {scope!r}.")
        action = f"budget.set.{scope}"
        if not actor.is_account_admin:
            await self._audit.refuse(actor, action, "only the account's owners and admins set budgets",
                                     target_type=scope)
        limit = parse_amount(amount)
        account_id, subject_id, label = await self._subject(actor, scope, ref.strip(), action)
        b = t.budget
        row = await self._db.one(select(b.c.id, b.c.limit_usd).where(
            b.c.account_id == account_id, b.c.scope == scope, b.c.subject_id == subject_id))
        now = self._clock.now()
        op: Op = (Update(b, row.id, {"limit_usd": limit, "updated_at": now}) if row is not None else
                  Insert(b, {"id": new_id("bud"), "account_id": account_id, "scope": scope, "subject_id": subject_id,
                             "limit_usd": limit, "updated_at": now}))
        await self._platform.change([op], actor=actor.label, action=action, target_type=scope, target_id=subject_id,
                                    account_id=account_id,
                                    detail=done(actor, limit_usd=limit, was=None if row is None else row.limit_usd))
        await self.budgets.refresh(account_id, scope, subject_id)
        if limit is None:
            return f"{label} has no monthly budget now (no default applies either)."
        return f"{label}'s monthly budget is now {usd(limit)}."

    async def _subject(self, actor: Actor, scope: str, ref: str, action: str) -> tuple[str, str, str]:
        """(account id, subject id, label) of the budget `ref` names; another account's is refused, audited."""
        if not ref:
            raise ThinklioError("bad_request", f"Name the {scope}: /budget set {scope} ID AMOUNT.")
        if scope == "account":
            account = (await self._directory.account_by_slug(ref) if not ref.startswith("acc_")
                       else await self._account(ref))
            if account is None:
                raise ThinklioError("not_found", f"No account {ref!r}.")
            if account.id != actor.account_id and not actor.is_platform_admin:
                await self._refuse_other(actor, action, scope, account.id)
            return account.id, account.id, f"Account {account.slug}"
        if scope == "agent":
            agent = await self._directory.agent_by_slug(actor.account_id, ref)
            if agent is None and ref.startswith("agt_"):
                try:
                    agent = await self._directory.agent(ref)
                except LookupError:
                    agent = None
            if agent is None:
                raise ThinklioError("not_found", f"No agent {ref!r} in this account.")
            if agent.account_id != actor.account_id and not actor.is_platform_admin:
                await self._refuse_other(actor, action, scope, agent.id)
            return agent.account_id, agent.id, f"Agent {agent.slug}"
        user = await self._people.user(ref, actor.account_id)
        m = t.membership
        accounts = [row.account_id for row in await self._db.all(
            select(m.c.account_id).where(m.c.user_id == user.id).order_by(m.c.account_id))]
        label = f"{user.display_name} ({user.id})"
        if actor.account_id in accounts:
            return actor.account_id, user.id, label
        if not actor.is_platform_admin:
            await self._refuse_other(actor, action, scope, user.id)
        if len(accounts) != 1:  # a user's budget is per account: a platform admin names the account by acting in it
            raise ThinklioError("conflict", f"{label} is a member of {len(accounts)} accounts; set the budget from "
                                            "one of them.", details={"accounts": accounts})
        return accounts[0], user.id, label

    async def _account(self, account_id: str):  # type: ignore[no-untyped-def]
        try:
            return await self._directory.account(account_id)
        except LookupError:
            return None

    async def _refuse_other(self, actor: Actor, action: str, scope: str, target_id: str) -> None:
        await self._audit.refused(actor, action, "not in this account", target_type=scope, target_id=target_id)
        raise ThinklioError("forbidden", f"You can't do that: that {scope} is not in this account.")

    async def _label(self, scope: str, subject_id: str) -> str:
        try:
            if scope == "account":
                return (await self._directory.account(subject_id)).slug
            if scope == "agent":
                return (await self._directory.agent(subject_id)).slug
        except LookupError:
            return subject_id
        user = await self._directory.user(subject_id)  # names repeat; the id tells people apart
        return f"{user.display_name} ({subject_id})" if user is not None else subject_id
