"""Roles in an account, and who may change them: owners and admins (an admin neither makes nor touches an
owner), never across accounts, and never leaving an account without an owner."""

from __future__ import annotations

from typing import NoReturn

from sqlalchemy import func, select

from bot.errors import ThinklioError
from bot.governance.actor import Actor
from bot.governance.audit import Audit, done
from bot.governance.people import Member
from bot.platform import PlatformState
from bot.store import tables as t
from bot.store.batch import Update
from bot.store.database import Database

ROLES = ("owner", "admin", "member", "readonly")


class Roles:
    def __init__(self, db: Database, platform: PlatformState, audit: Audit) -> None:
        self._db = db
        self._platform = platform
        self._audit = audit

    async def grant(self, actor: Actor, member: Member, role: str) -> str:
        role = role.strip().lower()
        if role not in ROLES:
            raise ThinklioError("bad_request", f"Unknown role {role!r}; roles are {', '.join(ROLES)}.")
        await self._may_change(actor, member, "role.grant", wants_owner=role == "owner")
        if member.role == role:
            return f"{member.user.display_name} is already {role}."
        if member.role == "owner":
            await self._keep_an_owner(actor, member, "role.grant")
        await self._platform.change([Update(t.membership, member.membership_id, {"role": role})], actor=actor.label,
                                    action="role.grant", target_type="user_profile", target_id=member.user.id,
                                    account_id=actor.account_id, detail=done(actor, role=role, was=member.role))
        return f"{member.user.display_name} is now {role} (was {member.role})."

    async def revoke(self, actor: Actor, member: Member) -> str:
        """Take an elevated role away (owner or admin -> member)."""
        await self._may_change(actor, member, "role.revoke", wants_owner=False)
        if member.role not in ("owner", "admin"):
            raise ThinklioError("bad_request", f"{member.user.display_name} is {member.role}: there is no role to "
                                               "revoke. /grant USER readonly limits them; /user suspend blocks them.")
        if member.role == "owner":
            await self._keep_an_owner(actor, member, "role.revoke")
        await self._platform.change([Update(t.membership, member.membership_id, {"role": "member"})],
                                    actor=actor.label, action="role.revoke", target_type="user_profile",
                                    target_id=member.user.id, account_id=actor.account_id,
                                    detail=done(actor, role="member", was=member.role))
        return f"{member.user.display_name} is now a member (was {member.role})."

    async def _may_change(self, actor: Actor, member: Member, action: str, *, wants_owner: bool) -> None:
        if not actor.is_account_admin:
            await self._refuse(actor, action, member, "only the account's owners and admins change roles")
        if (wants_owner or member.role == "owner") and not actor.is_owner:
            await self._refuse(actor, action, member, "only an owner makes or changes an owner")

    async def _keep_an_owner(self, actor: Actor, member: Member, action: str) -> None:
        owners = await self._db.one(select(func.count()).select_from(t.membership).where(
            t.membership.c.account_id == actor.account_id, t.membership.c.role == "owner"))
        if owners is not None and owners[0] <= 1:
            await self._audit.refused(actor, action, "the last owner", target_type="user_profile",
                                      target_id=member.user.id)
            raise ThinklioError("conflict", f"{member.user.display_name} is the account's last owner: make someone "
                                            "else owner first.")

    async def _refuse(self, actor: Actor, action: str, member: Member, reason: str) -> NoReturn:
        await self._audit.refuse(actor, action, reason, target_type="user_profile", target_id=member.user.id)
