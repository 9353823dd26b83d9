"""Accounts: a summary for its admins, and suspension by a platform administrator (every interaction of the
account is refused with a clear reply until it is resumed)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from bot.clock import Clock
from bot.directory import Directory
from bot.errors import ThinklioError
from bot.governance.actor import Actor
from bot.governance.audit import Audit, done
from bot.platform import PlatformState
from bot.store import tables as t
from bot.store.batch import Update
from bot.store.database import Database
from bot.store.seed import seed_catalogue
from config.catalogue import AccountSeed, AgentSeed, ChannelSeed

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{1,63}")


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
    def __init__(self, db: Database, clock: Clock, directory: Directory, platform: PlatformState,
                 audit: Audit) -> None:
        self._db = db
        self._clock = clock
        self._directory = directory
        self._platform = platform
        self._audit = audit

    async def summary(self, actor: Actor, since: datetime) -> AccountSummary:
        if not actor.is_account_admin:
            await self._audit.refuse(actor, "account.show", "only the account's owners and admins see it",
                                     target_type="account", target_id=actor.account_id)
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

    async def create(self, actor: Actor, slug: str, name: str, *, agents: Sequence[AgentSeed],
                     channels: Sequence[ChannelSeed], installed_tools: Sequence[tuple[str, str]] = ()) -> str:
        """A new account with its agents and channels (platform admins; the shell is one). Returns its id."""
        if not actor.is_platform_admin:
            await self._audit.refuse(actor, "account.create", "only a platform administrator creates accounts",
                                     target_type="account")
        if not _SLUG.fullmatch(slug):
            raise ThinklioError("bad_request", "An account slug is 2-64 lowercase letters, digits and dashes.")
        if await self._directory.account_by_slug(slug) is not None:
            raise ThinklioError("conflict", f"Account {slug!r} exists already.")
        now = self._clock.now()
        seed = AccountSeed(slug, name or slug, tuple(agents))
        await self._db.run(lambda conn: seed_catalogue(conn, [seed], now, channels=channels,
                                                          installed_tools=installed_tools))
        account = await self._directory.account_by_slug(slug)
        assert account is not None
        await self._platform.change(actor=actor.label, action="account.create", target_type="account",
                                    target_id=account.id, account_id=account.id, detail=done(actor))
        return account.id

    async def listing(self) -> list[tuple[str, str, str, int, int]]:
        """Every account: (slug, name, status, members, agents)."""
        a, m, g = t.account, t.membership, t.agent
        members = select(func.count()).where(m.c.account_id == a.c.id).scalar_subquery()
        agents = select(func.count()).where(g.c.account_id == a.c.id).scalar_subquery()
        rows = await self._db.all(select(a.c.slug, a.c.name, a.c.status, members, agents).order_by(a.c.slug))
        return [(row[0], row[1], row[2], int(row[3]), int(row[4])) for row in rows]

    async def set_status(self, actor: Actor, slug: str, status: str) -> str:
        action = f"account.{'suspend' if status == 'suspended' else 'resume'}"
        account = await self._directory.account_by_slug(slug.strip())
        if not actor.is_platform_admin:
            await self._audit.refuse(actor, action, "only a platform administrator suspends accounts",
                                     target_type="account", target_id=None if account is None else account.id)
        if account is None:
            raise ThinklioError("not_found", f"No account {slug.strip()!r}.")
        await self._platform.change([Update(t.account, account.id, {"status": status})], actor=actor.label,
                                    action=action, target_type="account", target_id=account.id,
                                    account_id=account.id, detail=done(actor))
        return f"Account {account.slug} is now {status}."
