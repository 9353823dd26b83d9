"""Feature flags: switches a platform administrator flips from chat (`/flag NAME on|off`) or over HTTP, read by
the code through this one service, without a restart.

A flag the code reads is declared here (or by an extension, `Flags.declare`) with its default; a row in
`feature_flag` exists only once someone set it. Reading is a dict lookup: the rows are loaded at start and again
after the platform revision moves, and a flag is set through `PlatformState.change` (audit event and new revision
in one commit), so every server process sees the change within `state_poll_seconds`, this one at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from bot.clock import Clock
from bot.platform import PlatformState
from bot.store import tables as t
from bot.store.batch import Insert, Op, Update
from bot.store.database import Database


@dataclass(frozen=True, slots=True)
class Flag:
    name: str
    default: bool
    summary: str  # what "on" means, and what stops when it is off


@dataclass(frozen=True, slots=True)
class FlagState:
    flag: Flag
    enabled: bool
    updated_by: str | None  # None: never set, the default holds
    updated_at: datetime | None


LLM = Flag("llm", True, "the language model answers what commands and triage do not; off: only commands and "
                        "triage answer, and no model call is made (fact extraction included)")
ATTACHMENTS = Flag("attachments", True, "files sent in chat are read (documents into knowledge); off: they are "
                                        "refused with a clear reply, the message's text is still answered")
BUILT_IN = (LLM, ATTACHMENTS)


class Flags:
    def __init__(self, db: Database, clock: Clock, platform: PlatformState) -> None:
        self._db = db
        self._clock = clock
        self._generation = 0  # a load that overlapped an invalidation must not keep what it read
        self._platform = platform
        self._known: dict[str, Flag] = {flag.name: flag for flag in BUILT_IN}
        self._rows: dict[str, tuple[bool, str, datetime]] | None = None  # None: read them again
        platform.on_invalidate(self.invalidate)

    def declare(self, flag: Flag) -> None:
        if flag.name in self._known:
            raise ValueError(f"flag {flag.name!r} is declared twice")
        self._known[flag.name] = flag

    def get(self, name: str) -> Flag | None:
        return self._known.get(name)

    def invalidate(self) -> None:
        self._rows = None
        self._generation += 1

    async def enabled(self, name: str) -> bool:
        flag = self._known[name]  # a typo in the code is a bug, not an "off"
        rows = self._rows if self._rows is not None else await self._load()
        return rows[name][0] if name in rows else flag.default

    async def states(self) -> list[FlagState]:
        rows = self._rows if self._rows is not None else await self._load()
        states = []
        for name, flag in sorted(self._known.items()):
            enabled, by, at = rows.get(name, (flag.default, None, None))
            states.append(FlagState(flag, enabled, by, at))
        return states

    async def set(self, name: str, enabled: bool, *, actor: str, detail: dict[str, object]) -> None:
        """Set a declared flag, with its audit event and a new platform revision (every process reloads)."""
        now = self._clock.now()
        values = {"enabled": enabled, "updated_at": now, "updated_by": actor}
        exists = await self._db.one(select(t.feature_flag.c.id).where(t.feature_flag.c.id == name))
        op: Op = Update(t.feature_flag, name, values) if exists else Insert(t.feature_flag, {"id": name, **values})
        await self._platform.change([op], actor=actor, action=f"flag.{'on' if enabled else 'off'}",
                                    target_type="flag", target_id=name, detail={**detail, "flag": name})
        self.invalidate()

    async def _load(self) -> dict[str, tuple[bool, str, datetime]]:
        f, generation = t.feature_flag, self._generation
        rows = await self._db.all(select(f.c.id, f.c.enabled, f.c.updated_by, f.c.updated_at))
        loaded = {row.id: (bool(row.enabled), row.updated_by, row.updated_at) for row in rows}
        if generation == self._generation:
            self._rows = loaded
        return loaded
