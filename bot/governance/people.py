"""Users named the way people know them: the internal id (`usr_…`), a channel identity (`telegram:12345`,
`slack:T1:U2`, `email:sam@example.com`, `http:42` for the HTTP caller id 42 of the admin's account), or
`@name`. An ambiguous name is an error that lists the candidates."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from bot.directory import Directory
from bot.errors import ThinklioError
from bot.records import UserRecord
from bot.store import tables as t
from bot.store.database import Database


@dataclass(frozen=True, slots=True)
class Member:
    user: UserRecord
    membership_id: str
    role: str
    status: str  # in the account


class People:
    def __init__(self, db: Database, directory: Directory) -> None:
        self._db = db
        self._directory = directory

    async def user(self, ref: str, account_id: str) -> UserRecord:
        """The user `ref` names, seen from `account_id` (whose HTTP callers `http:ID` means)."""
        ref = ref.strip()
        if not ref:
            raise ThinklioError("bad_request", "Name a user: usr_…, CHANNEL:ID (telegram:12345) or @name.")
        if ref.startswith("@"):
            return await self._by_name(ref[1:], account_id)
        if ref.startswith("usr_"):
            found = await self._directory.user(ref)
            if found is None:
                raise ThinklioError("not_found", f"No user {ref}.")
            return found
        kind, sep, external = ref.partition(":")
        if not sep or not external:
            raise ThinklioError("bad_request", f"I can't tell who {ref!r} is: use usr_…, CHANNEL:ID "
                                               "(telegram:12345, http:42) or @name.")
        candidates = [external, f"{account_id}:{external}"] if kind == "http" else [external]
        for candidate in candidates:
            user_id = await self._db.one(select(t.channel_identity.c.user_id).where(
                t.channel_identity.c.channel_type == kind.lower(), t.channel_identity.c.external_id == candidate))
            if user_id is not None and (found := await self._directory.user(user_id.user_id)) is not None:
                return found
        raise ThinklioError("not_found", f"No user {ref}.")

    async def member(self, ref: str, account_id: str) -> Member:
        """The user `ref` names, who must be a member of `account_id`."""
        user = await self.user(ref, account_id)
        row = await self._db.one(select(t.membership.c.id, t.membership.c.role, t.membership.c.status).where(
            t.membership.c.account_id == account_id, t.membership.c.user_id == user.id))
        if row is None:
            raise ThinklioError("not_found", f"{ref} is not a member of this account.")
        return Member(user, row.id, row.role, row.status)

    async def members(self, account_id: str, *, query: str = "", limit: int = 20,
                      offset: int = 0) -> tuple[list[Member], int]:
        """A page of the account's members (by name, then id) and how many match in all."""
        m, u = t.membership, t.user_profile
        where = [m.c.account_id == account_id]
        if query:
            where.append(func.lower(u.c.display_name).contains(query.lower()))
        base = select(m.c.id.label("membership_id"), m.c.role, m.c.status.label("member_status"),
                      u.c.id.label("user_id"), u.c.display_name, u.c.status.label("user_status"), u.c.timezone,
                      u.c.locale, u.c.monthly_budget_usd).join(u, u.c.id == m.c.user_id).where(*where)
        rows = await self._db.all(base.order_by(u.c.display_name, u.c.id).limit(limit).offset(offset))
        total = await self._db.one(select(func.count()).select_from(m.join(u, u.c.id == m.c.user_id)).where(*where))
        members = [Member(UserRecord(row.user_id, row.display_name, row.user_status, row.timezone, row.locale,
                                     row.monthly_budget_usd), row.membership_id, row.role, row.member_status)
                   for row in rows]
        return members, int(total[0]) if total else 0

    async def _by_name(self, name: str, account_id: str) -> UserRecord:
        m, u, ci = t.membership, t.user_profile, t.channel_identity
        wanted = name.strip().lower()
        rows = await self._db.all(
            select(u.c.id).distinct().join(m, m.c.user_id == u.c.id).outerjoin(ci, ci.c.user_id == u.c.id)
            .where(m.c.account_id == account_id,
                   (func.lower(u.c.display_name) == wanted) | (func.lower(ci.c.display_name) == wanted)))
        if not rows:
            raise ThinklioError("not_found", f"No member called @{name} in this account.")
        if len(rows) > 1:
            ids = ", ".join(sorted(row.id for row in rows))
            raise ThinklioError("conflict", f"@{name} could be any of: {ids}. Name one by its id.",
                                details={"candidates": sorted(row.id for row in rows)})
        found = await self._directory.user(rows[0].id)
        assert found is not None
        return found
