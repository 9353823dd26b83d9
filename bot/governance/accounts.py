"""Accounts: a summary for its admins, and suspension by a platform administrator (every interaction of the
account is refused with a clear reply until it is resumed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from bot.directory import Directory
from bot.errors import ThinklioError
from bot.governance.actor import Actor
from bot.governance.audit import Audit, done
from bot.platform import PlatformState
from bot.store import tables as t
from bot.store.batch import Update
from bot.store.database import Database


@dataclass(frozen=True, slots=True)
class AccountSummary:
    slug: str
    name: str
    status: str
    roles: dict[str, int]
    agents: list[tuple[str, str]]  # (slug, status)
    interactions: int  # since `since`
    cost_usd: float


class Accounts:
    def __init__(self, db: Database, directory: Directory, platform: PlatformState, audit: Audit) -> None:
        self._db = db
        self._directory = directory
        self._platform = platform
        self._audit = audit

    async def summary(self, actor: Actor, since: datetime) -> AccountSummary:
        if not actor.is_account_admin:
            await self._audit.refused(actor, "account.show", "only the account's owners and admins see it",
                                      target_type="account", target_id=actor.account_id)
            raise ThinklioError("forbidden", "You can't do that: only the account's owners and admins see it.")
        account = await self._directory.account(actor.account_id)
        m, a, i = t.membership, t.agent, t.interaction
        roles = await self._db.all(select(m.c.role, func.count()).where(m.c.account_id == account.id)
                                   .group_by(m.c.role))
        agents = await self._db.all(select(a.c.slug, a.c.status).where(a.c.account_id == account.id)
                                    .order_by(a.c.slug))
        usage = await self._db.one(select(func.count(), func.coalesce(func.sum(i.c.cost_usd), 0.0))
                                   .where(i.c.account_id == account.id, i.c.created_at >= since))
        return AccountSummary(account.slug, account.name, account.status, {row[0]: int(row[1]) for row in roles},
                              [(row.slug, row.status) for row in agents], int(usage[0]) if usage else 0,
                              float(usage[1]) if usage else 0.0)

    async def set_status(self, actor: Actor, slug: str, status: str) -> str:
        action = f"account.{'suspend' if status == 'suspended' else 'resume'}"
        account = await self._directory.account_by_slug(slug.strip())
        if not actor.is_platform_admin:
            await self._audit.refused(actor, action, "only a platform administrator suspends accounts",
                                      target_type="account", target_id=None if account is None else account.id)
            raise ThinklioError("forbidden", "You can't do that: only a platform administrator suspends accounts.")
        if account is None:
            raise ThinklioError("not_found", f"No account {slug.strip()!r}.")
        await self._platform.change([Update(t.account, account.id, {"status": status})], actor=actor.label,
                                    action=action, target_type="account", target_id=account.id,
                                    account_id=account.id, detail=done(actor))
        return f"Account {account.slug} is now {status}."
