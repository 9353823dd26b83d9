"""Feature flags by chat and over HTTP: everyone administering an account sees them; only a platform administrator
sets one (a flag is platform-wide). The flags themselves, and how the code reads them, are `bot/flags.py`."""

from __future__ import annotations

from bot.errors import ThinklioError
from bot.flags import Flags, FlagState
from bot.governance.actor import Actor
from bot.governance.audit import Audit, done

ON, OFF = ("on", "true", "1", "yes"), ("off", "false", "0", "no")


def parse_switch(text: str) -> bool:
    word = text.strip().lower()
    if word in ON:
        return True
    if word in OFF:
        return False
    raise ThinklioError("bad_request", f"A flag is set on or off, not {text!r}.")


class FlagSwitch:
    def __init__(self, flags: Flags, audit: Audit) -> None:
        self.flags = flags
        self._audit = audit

    async def states(self, actor: Actor) -> list[FlagState]:
        if not actor.is_account_admin:
            await self._audit.refuse(actor, "flag.list", "only administrators see the feature flags",
                                     target_type="flag")
        return await self.flags.states()

    async def set(self, actor: Actor, name: str, enabled: bool) -> FlagState:
        name = name.strip().lower()
        action = f"flag.{'on' if enabled else 'off'}"
        if not actor.is_platform_admin:
            await self._audit.refuse(actor, action, "only a platform administrator sets feature flags",
                                     target_type="flag", target_id=name or None)
        if self.flags.get(name) is None:
            known = ", ".join(state.flag.name for state in await self.flags.states())
            raise ThinklioError("not_found", f"No feature flag {name!r}; the flags are: {known}.")
        await self.flags.set(name, enabled, actor=actor.label, detail=done(actor))
        return next(state for state in await self.flags.states() if state.flag.name == name)
