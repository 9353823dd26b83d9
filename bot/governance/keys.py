"""API keys by chat: created only in the asker's own one-to-one conversation (a key shown in a group, a Slack
channel or a Cc'd mail is a key leaked), shown once, listed and revoked by the account's owners and admins."""

from __future__ import annotations

from bot.auth import DEFAULT_SCOPES, ApiKeyRecord, ApiKeys
from bot.errors import ThinklioError
from bot.governance.actor import Actor
from bot.governance.audit import Audit

NOT_PRIVATE = "API keys are created only in a private conversation with me, so the key is seen by you alone"


class Keys:
    def __init__(self, api_keys: ApiKeys, audit: Audit) -> None:
        self._keys = api_keys
        self._audit = audit

    async def create(self, actor: Actor, name: str, scopes: tuple[str, ...], *, private: bool
                     ) -> tuple[ApiKeyRecord, str]:
        await self._require_admin(actor, "api_key.create")
        if not private:
            await self._audit.refused(actor, "api_key.create", NOT_PRIVATE, target_type="api_key")
            raise ThinklioError("forbidden", f"You can't do that here: {NOT_PRIVATE}.")
        return await self._keys.create(actor.account_id, name, scopes or DEFAULT_SCOPES, actor=actor.label)

    async def listing(self, actor: Actor) -> list[ApiKeyRecord]:
        await self._require_admin(actor, "api_key.list")
        return await self._keys.list(actor.account_id)

    async def revoke(self, actor: Actor, id_or_prefix: str) -> ApiKeyRecord:
        await self._require_admin(actor, "api_key.revoke")
        if not any(key.id == id_or_prefix or key.prefix == id_or_prefix
                   for key in await self._keys.list(actor.account_id)):
            # Another account's key is reported exactly like a missing one: no probing across accounts.
            raise ThinklioError("not_found", f"No API key {id_or_prefix!r} in this account.")
        return await self._keys.revoke(id_or_prefix, actor=actor.label)

    async def _require_admin(self, actor: Actor, action: str) -> None:
        if not actor.is_account_admin:
            await self._audit.refuse(actor, action, "only the account's owners and admins manage API keys",
                                     target_type="api_key")
