"""Changing account settings: the account's owners and admins, every value checked before anything is stored
(one bad value in a request changes nothing), the change audited with the value it replaced."""

from __future__ import annotations

from typing import Any

from bot import account_settings
from bot.directory import Directory
from bot.errors import ThinklioError
from bot.governance.actor import Actor
from bot.governance.audit import Audit, done
from bot.platform import PlatformState
from bot.store import tables as t
from bot.store.batch import Update

ONLY_ADMINS = "only the account's owners and admins change its settings"


class AccountSettingsAdmin:
    def __init__(self, directory: Directory, platform: PlatformState, audit: Audit) -> None:
        self._directory = directory
        self._platform = platform
        self._audit = audit

    async def show(self, actor: Actor) -> dict[str, tuple[Any, bool]]:
        """Each setting: (its value, whether it is the default)."""
        await self._require_admin(actor, "account.settings.show")
        account = await self._directory.account(actor.account_id)
        stored = account.settings or {}
        return {key: (value, key not in stored) for key, value in account_settings.effective(account).items()}

    async def set(self, actor: Actor, values: dict[str, Any]) -> dict[str, Any]:
        """Store the given settings together; the account's settings after the change."""
        await self._require_admin(actor, "account.settings.set")
        if not values:
            raise ThinklioError("bad_request", f"Name a setting: {', '.join(account_settings.SETTINGS)}.")
        parsed = {key.strip().lower(): account_settings.parse(key, value) for key, value in values.items()}
        account = await self._directory.account(actor.account_id)
        before = dict(account.settings or {})
        after = {**before, **parsed}
        await self._platform.change([Update(t.account, account.id, {"settings": after})], actor=actor.label,
                                    action="account.settings", target_type="account", target_id=account.id,
                                    account_id=account.id,
                                    detail=done(actor, changed=parsed, was={k: before.get(k) for k in parsed}))
        return account_settings.effective(await self._directory.account(actor.account_id))

    async def _require_admin(self, actor: Actor, action: str) -> None:
        if not actor.is_account_admin:
            await self._audit.refuse(actor, action, ONLY_ADMINS, target_type="account", target_id=actor.account_id)
