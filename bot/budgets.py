"""Monthly budgets (USD, UTC calendar months) per account, per user in an account and per agent, shared by every
server process through the store and checked before every model call.

Each budget's spend is a row per period (`spend`). A model call is admitted by one conditional UPDATE per budget
that applies: "reserve my largest possible cost where spent + reserved is still below the limit"; the database
serialises those updates on the row, so processes cannot both take the last dollar. When the call returns, the
reservation is swapped for what it really cost. A call is admitted while anything is left, so a budget is
overspent by at most the last admitted call's cost, whatever the number of processes (the reservations of the
calls running meanwhile already count against the limit).

The hot path stays cheap: limits are cached per account and dropped when the platform revision moves (a budget is
set through `PlatformState.change`); without a limit nothing is read or written at all; with limits it is one
transaction of one UPDATE per budget before the call and one after (through the group-commit writer).

A spend row is created the first time a budget applies in a period, from the costs already stored on the
period's interactions, so a budget set in the middle of the month counts what was spent before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Float, bindparam, case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from bot.clock import Clock
from bot.i18n import N_, _
from bot.store import tables as t
from bot.store.columns import UTCDateTime
from bot.store.database import Database

SCOPES = ("account", "user", "agent")
WARN_AT = 0.8  # the reply carries a warning line from this share of a budget on
# A reservation this old belongs to a process that died between reserving and settling (a model call never takes
# this long: providers time out much sooner), so it is not counted.
STALE = timedelta(minutes=15)


def period_of(now: datetime) -> str:
    return f"{now.astimezone(UTC):%Y-%m}"


def period_start(period: str) -> datetime:
    year, month = period.split("-")
    return datetime(int(year), int(month), 1, tzinfo=UTC)


def month_start(now: datetime) -> datetime:
    return period_start(period_of(now))


@dataclass(frozen=True, slots=True)
class Limit:
    scope: str  # account | user | agent
    subject_id: str
    limit_usd: float
    source: str  # set (a budget row) | default (THINKLIO_*_MONTHLY_BUDGET_USD)


@dataclass(frozen=True, slots=True)
class Hold:
    """What a model call reserved, to settle when it returns."""

    account_id: str
    period: str
    amount: float
    limits: tuple[Limit, ...]


@dataclass(frozen=True, slots=True)
class Standing:
    """A subject's spend this period against its budget (None: no budget applies)."""

    scope: str
    subject_id: str
    spent_usd: float
    limit: Limit | None

    @property
    def share(self) -> float | None:
        if self.limit is None:
            return None
        return self.spent_usd / self.limit.limit_usd if self.limit.limit_usd > 0 else 1.0


class OverBudget(Exception):
    """A budget is used up; `reason` is a sentence for the user."""

    def __init__(self, limit: Limit) -> None:
        self.limit = limit
        self.reason = used_up(limit)
        super().__init__(self.reason)


def usd(amount: float) -> str:
    """Dollars as people read them: cents, or four decimals below a dollar (a test budget of $0.005)."""
    return f"${amount:,.2f}" if amount >= 1 or amount == 0 else f"${amount:.4f}"


def used_up(limit: Limit) -> str:
    text = {"account": N_("this workspace has used its monthly budget of {limit}"),
            "user": N_("you have used your monthly budget of {limit}"),
            "agent": N_("this agent has used its monthly budget of {limit}")}[limit.scope]
    return _(text).format(limit=usd(limit.limit_usd))


def warning(limit: Limit, spent: float) -> str:
    share = min(spent / limit.limit_usd, 9.99) if limit.limit_usd > 0 else 1.0
    text = {"account": N_("Note: This workspace has used {share} of its monthly budget ({spent} of {limit})."),
            "user": N_("Note: You have used {share} of your monthly budget ({spent} of {limit})."),
            "agent": N_("Note: This agent has used {share} of its monthly budget ({spent} of {limit}).")}[limit.scope]
    return _(text).format(share=f"{share:.0%}", spent=usd(spent), limit=usd(limit.limit_usd))


class Budgets:
    def __init__(self, db: Database, clock: Clock, *, account_default: float | None,
                 user_default: float | None) -> None:
        self._db = db
        self._clock = clock
        self._account_default = account_default
        self._user_default = user_default
        # account id -> (scope, subject) -> limit (None: explicitly none, the default does not apply)
        self._set: dict[str, dict[tuple[str, str], float | None]] = {}
        self._rows: set[tuple[str, str, str, str]] = set()  # spend rows known to exist

    def invalidate(self) -> None:
        """A budget changed somewhere (the platform revision moved): read the limits again when next needed."""
        self._set.clear()

    async def limits(self, account_id: str, user_id: str, agent_id: str | None) -> list[Limit]:
        """The budgets that apply to a call for this user with this agent in this account, account first."""
        if account_id not in self._set:
            b = t.budget
            rows = await self._db.all(select(b.c.scope, b.c.subject_id, b.c.limit_usd)
                                      .where(b.c.account_id == account_id))
            self._set[account_id] = {(row.scope, row.subject_id): None if row.limit_usd is None
                                     else float(row.limit_usd) for row in rows}
        table = self._set[account_id]
        found: list[Limit] = []
        for scope, subject, default in (("account", account_id, self._account_default),
                                        ("user", user_id, self._user_default), ("agent", agent_id, None)):
            if not subject:  # an API key has no user; a job may have no agent
                continue
            if (scope, subject) in table:
                value = table[(scope, subject)]
                if value is not None:
                    found.append(Limit(scope, subject, value, "set"))
            elif default is not None:
                found.append(Limit(scope, subject, default, "default"))
        return found

    async def exceeded(self, account_id: str, user_id: str, agent_id: str | None = None) -> str | None:
        """A sentence saying which budget is used up, or None when the model may be called (a read, no reserve)."""
        limits = await self.limits(account_id, user_id, agent_id)
        if not limits:
            return None
        for standing in await self.standings(account_id, limits):
            if standing.limit is not None and standing.spent_usd >= standing.limit.limit_usd:
                return used_up(standing.limit)
        return None

    async def reserve(self, account_id: str, user_id: str, agent_id: str | None, amount: float) -> Hold | None:
        """Admit one model call of at most `amount` USD, or raise OverBudget; None when no budget applies."""
        limits = tuple(await self.limits(account_id, user_id, agent_id))
        if not limits:
            return None
        now = self._clock.now()
        period, amount = period_of(now), max(amount, 0.0)
        missing = self._missing(account_id, period, limits)

        def work(conn: Connection) -> None:
            _create_rows(conn, account_id, period, missing, now)
            for limit in limits:  # always account, user, agent: one lock order for every process
                done = conn.execute(_RESERVE, {**_params(account_id, limit, period, now), "b_amount": amount,
                                               "b_limit": limit.limit_usd, "b_stale": now - STALE})
                if done.rowcount != 1:
                    raise OverBudget(limit)  # rolls the reservations of this call back with the transaction

        await self._db.run(work)
        self._rows.update((account_id, limit.scope, limit.subject_id, period) for limit in missing)
        return Hold(account_id, period, amount, limits)

    async def settle(self, hold: Hold | None, cost: float) -> dict[str, str]:
        """Swap the reservation for what the call cost; a warning line per budget (by scope) at or above
        WARN_AT."""
        if hold is None or (cost <= 0 and hold.amount <= 0):
            return {}
        now, cost = self._clock.now(), max(cost, 0.0)

        def work(conn: Connection) -> list[float]:
            spent: list[float] = []
            for limit in hold.limits:
                row = conn.execute(_SETTLE, {**_params(hold.account_id, limit, hold.period, now), "b_cost": cost,
                                             "b_amount": hold.amount}).first()
                spent.append(float(row[0]) if row is not None else 0.0)
            return spent

        totals = await self._db.run(work)
        return {limit.scope: warning(limit, spent) for limit, spent in zip(hold.limits, totals, strict=True)
                if limit.limit_usd > 0 and spent >= WARN_AT * limit.limit_usd - 1e-12}

    async def standing(self, account_id: str, user_id: str | None, agent_id: str | None) -> list[Standing]:
        """Spend this period against the budget of the account, the user and the agent (those named)."""
        limits = await self.limits(account_id, user_id or "", agent_id or None)
        subjects = [("account", account_id), *([("user", user_id)] if user_id else []),
                    *([("agent", agent_id)] if agent_id else [])]
        by_key = {(limit.scope, limit.subject_id): limit for limit in limits}
        with_limits = await self.standings(account_id, limits) if limits else []
        known = {(s.scope, s.subject_id): s for s in with_limits}
        start = month_start(self._clock.now())
        result = []
        for scope, subject in subjects:
            if (scope, subject) in known:
                result.append(known[(scope, subject)])
            else:  # no budget: what the stored interactions say
                spent = await self._db.read(lambda conn, sc=scope, su=subject: _stored(conn, account_id, sc, su, start))
                result.append(Standing(scope, subject, spent, by_key.get((scope, subject))))
        return result

    async def refresh(self, account_id: str, scope: str, subject_id: str) -> None:
        """After a budget is set: the period's spend row counts at least what the stored interactions say."""
        now = self._clock.now()
        period = period_of(now)

        def work(conn: Connection) -> None:
            stored = _stored(conn, account_id, scope, subject_id, period_start(period))
            limit = Limit(scope, subject_id, 0.0, "set")
            _create_rows(conn, account_id, period, [limit], now)
            s = t.spend
            conn.execute(update(s).where(*_key(account_id, limit, period), s.c.spent_usd < stored)
                         .values(spent_usd=stored, updated_at=now))

        await self._db.run(work)
        self._rows.add((account_id, scope, subject_id, period))

    def _missing(self, account_id: str, period: str, limits: Sequence[Limit]) -> list[Limit]:
        return [limit for limit in limits if (account_id, limit.scope, limit.subject_id, period) not in self._rows]

    async def standings(self, account_id: str, limits: Sequence[Limit]) -> list[Standing]:
        """Spend this period of each budget in `limits` (all of one account)."""
        now = self._clock.now()
        period = period_of(now)
        missing = self._missing(account_id, period, limits)
        if missing:
            await self._db.run(lambda conn: _create_rows(conn, account_id, period, missing, now))
            self._rows.update((account_id, limit.scope, limit.subject_id, period) for limit in missing)
        s = t.spend
        rows = await self._db.all(select(s.c.scope, s.c.subject_id, s.c.spent_usd).where(
            s.c.account_id == account_id, s.c.period == period,
            s.c.subject_id.in_([limit.subject_id for limit in limits])))
        spent = {(row.scope, row.subject_id): float(row.spent_usd) for row in rows}
        return [Standing(limit.scope, limit.subject_id, spent.get((limit.scope, limit.subject_id), 0.0), limit)
                for limit in limits]


# The two statements of the hot path, built once (building a statement costs more than SQLite running it).
_s = t.spend
_KEY = (_s.c.account_id == bindparam("b_account"), _s.c.scope == bindparam("b_scope"),
        _s.c.subject_id == bindparam("b_subject"), _s.c.period == bindparam("b_period"))
_LIVE = case((_s.c.updated_at < bindparam("b_stale", type_=UTCDateTime()), 0.0), else_=_s.c.reserved_usd)
_RESERVE = (update(_s).where(*_KEY, _s.c.spent_usd + _LIVE < bindparam("b_limit", type_=Float()))
            .values(reserved_usd=_LIVE + bindparam("b_amount", type_=Float()),
                    updated_at=bindparam("b_now", type_=UTCDateTime())))
_SETTLE = (update(_s).where(*_KEY)
           .values(spent_usd=_s.c.spent_usd + bindparam("b_cost", type_=Float()),
                   reserved_usd=case((_s.c.reserved_usd > bindparam("b_amount", type_=Float()),
                                      _s.c.reserved_usd - bindparam("b_amount", type_=Float())), else_=0.0),
                   updated_at=bindparam("b_now", type_=UTCDateTime()))
           .returning(_s.c.spent_usd))  # SQLite has RETURNING since 3.35


def _params(account_id: str, limit: Limit, period: str, now: datetime) -> dict[str, object]:
    return {"b_account": account_id, "b_scope": limit.scope, "b_subject": limit.subject_id, "b_period": period,
            "b_now": now}


def _key(account_id: str, limit: Limit, period: str) -> list[object]:
    s = t.spend
    return [s.c.account_id == account_id, s.c.scope == limit.scope, s.c.subject_id == limit.subject_id,
            s.c.period == period]


def _stored(conn: Connection, account_id: str, scope: str, subject_id: str, since: datetime) -> float:
    """What the interactions stored since `since` cost, for one budget's subject."""
    i = t.interaction
    where = [i.c.account_id == account_id, i.c.created_at >= since]
    if scope == "user":
        where.append(i.c.user_id == subject_id)
    elif scope == "agent":
        where.append(i.c.agent_id == subject_id)
    row = conn.execute(select(func.coalesce(func.sum(i.c.cost_usd), 0.0)).where(*where)).first()
    return float(row[0]) if row is not None else 0.0


def _create_rows(conn: Connection, account_id: str, period: str, limits: Sequence[Limit], now: datetime) -> None:
    """The period's spend rows that do not exist yet, from the stored costs (another process may race us: the
    first insert wins, the rest are ignored)."""
    start = period_start(period)
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    for limit in limits:
        values = {"account_id": account_id, "scope": limit.scope, "subject_id": limit.subject_id, "period": period,
                  "spent_usd": _stored(conn, account_id, limit.scope, limit.subject_id, start),
                  "reserved_usd": 0.0, "updated_at": now}
        conn.execute(dialect.insert(t.spend).values(values).on_conflict_do_nothing())
