"""Users as administrators see them (reference 33.1 "user management"): the account's members page by page, and
one user in full (identities, memberships and roles, standing, how much is stored about them, when they were
last seen). Account admins see their own account's members; platform admins see anyone, in every account, and
the list of everyone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from bot.directory import Directory
from bot.governance.actor import Actor
from bot.governance.audit import Audit
from bot.governance.erasure import TOMBSTONE, Erasure
from bot.governance.people import Member, People
from bot.records import UserRecord, record
from bot.store import tables as t
from bot.store.database import Database


@dataclass(frozen=True, slots=True)
class Membership:
    account_slug: str
    role: str
    status: str


@dataclass(frozen=True, slots=True)
class UserDetail:
    user: UserRecord
    identities: list[str]  # CHANNEL:ID
    memberships: list[Membership]  # the ones the actor may see
    hidden_accounts: int  # memberships in accounts the actor may not see
    counts: dict[str, int]
    last_seen: datetime | None


class Users:
    def __init__(self, db: Database, directory: Directory, people: People, erasure: Erasure, audit: Audit) -> None:
        self._db = db
        self._directory = directory
        self._people = people
        self._erasure = erasure
        self._audit = audit

    async def listing(self, actor: Actor, *, query: str = "", limit: int, offset: int) -> tuple[list[Member], int]:
        await self._require_admin(actor, "user.list")
        return await self._people.members(actor.account_id, query=query, limit=limit, offset=offset)

    async def everyone(self, actor: Actor, *, query: str = "", limit: int,
                       offset: int) -> tuple[list[tuple[UserRecord, int]], int]:
        """Every user of the platform (platform admins): a page of (user, how many accounts) and the total."""
        if not actor.is_platform_admin:
            await self._audit.refuse(actor, "user.list", "only a platform administrator sees every account's people",
                                     target_type="user_profile")
        u, m = t.user_profile, t.membership
        where = [u.c.id != TOMBSTONE]
        if query:
            where.append(func.lower(u.c.display_name).contains(query.lower(), autoescape=True))
        accounts = select(func.count()).where(m.c.user_id == u.c.id).scalar_subquery()
        rows = await self._db.all(select(u, accounts.label("accounts")).where(*where)
                                  .order_by(u.c.display_name, u.c.id).limit(limit).offset(offset))
        total = await self._db.one(select(func.count()).select_from(u).where(*where))
        users = [(record(UserRecord, row), int(row.accounts)) for row in rows]
        return users, int(total[0]) if total else 0

    async def show(self, actor: Actor, ref: str) -> UserDetail:
        await self._require_admin(actor, "user.show")
        if actor.is_platform_admin:
            user = await self._people.user(ref, actor.account_id)
        else:
            user = (await self._people.member(ref, actor.account_id)).user
        m, a = t.membership, t.account
        rows = await self._db.all(select(a.c.id, a.c.slug, m.c.role, m.c.status).join(a, a.c.id == m.c.account_id)
                                  .where(m.c.user_id == user.id).order_by(a.c.slug))
        visible = [Membership(row.slug, row.role, row.status) for row in rows
                   if actor.is_platform_admin or row.id == actor.account_id]
        seen = await self._db.one(select(func.max(t.message.c.created_at)).where(t.message.c.user_id == user.id))
        identities = [f"{kind}:{external}" for kind, external in await self._directory.identities(user.id)]
        return UserDetail(user, identities, visible, len(rows) - len(visible), await self._erasure.counts(user.id),
                          seen[0] if seen else None)

    async def _require_admin(self, actor: Actor, action: str) -> None:
        if not actor.is_account_admin:
            await self._audit.refuse(actor, action, "only the account's owners and admins see its people",
                                     target_type="user_profile")
