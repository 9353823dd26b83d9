"""Suspending and resuming people: an account's admins block a user in their account; a platform admin may
block a user everywhere. Either takes effect on the next message, in every server process."""

from __future__ import annotations

from typing import NoReturn

from bot.errors import ThinklioError
from bot.governance.actor import Actor
from bot.governance.audit import Audit, done
from bot.governance.people import Member
from bot.platform import PlatformState
from bot.store import tables as t
from bot.store.batch import Update


class Members:
    def __init__(self, platform: PlatformState, audit: Audit) -> None:
        self._platform = platform
        self._audit = audit

    async def set_status(self, actor: Actor, member: Member, status: str, *, everywhere: bool = False) -> str:
        action = f"user.{'suspend' if status == 'suspended' else 'resume'}"
        if not actor.is_account_admin:
            await self._refuse(actor, action, member, "only the account's owners and admins suspend people")
        if everywhere and not actor.is_platform_admin:
            await self._refuse(actor, action, member, "only a platform administrator acts on every account")
        if member.user.id == actor.user_id and status == "suspended":
            raise ThinklioError("bad_request", "You cannot suspend yourself.")
        if member.role == "owner" and not actor.is_owner:
            await self._refuse(actor, action, member, "only an owner suspends an owner")
        if everywhere:
            op = Update(t.user_profile, member.user.id, {"status": status})
            scope = "everywhere"
        else:
            op = Update(t.membership, member.membership_id, {"status": status})
            scope = "in this account"
        await self._platform.change([op], actor=actor.label, action=action, target_type="user_profile",
                                    target_id=member.user.id, account_id=actor.account_id,
                                    detail=done(actor, scope="platform" if everywhere else "account"))
        return f"{member.user.display_name} ({member.user.id}) is now {status} {scope}."

    async def _refuse(self, actor: Actor, action: str, member: Member, reason: str) -> NoReturn:
        await self._audit.refuse(actor, action, reason, target_type="user_profile", target_id=member.user.id)
