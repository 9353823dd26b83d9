"""Who is administering: the person in a chat turn or the API key over HTTP, in the account they act on."""

from __future__ import annotations

from dataclasses import dataclass

from bot.auth import Caller
from bot.turn import Turn


@dataclass(frozen=True, slots=True)
class Actor:
    label: str  # as the audit names it: "user:usr_…" or "apikey:key_…"
    account_id: str  # the account this actor acts in
    role: str | None  # their role there: owner | admin | member | readonly
    is_platform_admin: bool = False
    channel: str | None = None  # the channel slug the request came through, for the audit
    user_id: str | None = None

    @property
    def is_account_admin(self) -> bool:
        return self.is_platform_admin or self.role in ("owner", "admin")

    @property
    def is_owner(self) -> bool:
        return self.is_platform_admin or self.role == "owner"

    @classmethod
    def of_turn(cls, turn: Turn) -> Actor:
        return cls(turn.actor, turn.channel.account_id, turn.role, turn.is_platform_admin, turn.channel.slug,
                   turn.user.id)

    @classmethod
    def of_key(cls, caller: Caller) -> Actor:
        # An admin-scoped key acts as the account's admin (not its owner, and never platform-wide).
        return cls(f"apikey:{caller.key_id}", caller.account_id, "admin" if caller.allows("admin") else "member",
                   channel="http")
