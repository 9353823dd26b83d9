"""Monthly spending limits per account and per user (USD), checked before every model call.

Spend is the sum of interaction costs this calendar month (UTC). It is read from the store once per account
or user and month, then kept up to date in memory as turns finish.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from bot.clock import Clock
from bot.records import AccountRecord, UserRecord
from bot.store import tables as t
from bot.store.database import Database


def month_start(now: datetime) -> datetime:
    now = now.astimezone(UTC)
    return datetime(now.year, now.month, 1, tzinfo=UTC)


class Budgets:
    def __init__(self, db: Database, clock: Clock, *, account_default: float | None,
                 user_default: float | None) -> None:
        self._db = db
        self._clock = clock
        self._account_default = account_default
        self._user_default = user_default
        self._spent: dict[tuple[str, str, datetime], float] = {}

    async def spent(self, scope: str, owner_id: str) -> float:
        start = month_start(self._clock.now())
        key = (scope, owner_id, start)
        if key not in self._spent:
            column = t.interaction.c.account_id if scope == "account" else t.interaction.c.user_id
            row = await self._db.one(
                select(func.coalesce(func.sum(t.interaction.c.cost_usd), 0.0))
                .where(column == owner_id, t.interaction.c.created_at >= start)
            )
            self._spent[key] = float(row[0]) if row is not None else 0.0
        return self._spent[key]

    def add(self, account_id: str, user_id: str, cost: float) -> None:
        if cost <= 0:
            return
        start = month_start(self._clock.now())
        for key in (("account", account_id, start), ("user", user_id, start)):
            if key in self._spent:
                self._spent[key] += cost

    async def exceeded(self, account: AccountRecord, user: UserRecord) -> str | None:
        """A sentence saying which budget is used up, or None when the model may be called."""
        account_limit = account.monthly_budget_usd if account.monthly_budget_usd is not None else self._account_default
        if account_limit is not None and await self.spent("account", account.id) >= account_limit:
            return f"this workspace has used its monthly budget of ${account_limit:.2f}"
        user_limit = user.monthly_budget_usd if user.monthly_budget_usd is not None else self._user_default
        if user_limit is not None and await self.spent("user", user.id) >= user_limit:
            return f"you have used your monthly budget of ${user_limit:.2f}"
        return None
