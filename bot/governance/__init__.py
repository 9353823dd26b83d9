"""Governance: the administration services behind both front doors, chat commands (`bot/commands/governance.py`)
and the admin HTTP API (`bot/admin_api.py`). One implementation: the role checks, the audit of every change and
every refusal, and the changes themselves (through `PlatformState.change`, so every process sees them)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.clock import Clock
from bot.directory import Directory
from bot.governance.accounts import Accounts
from bot.governance.actor import Actor
from bot.governance.audit import Audit
from bot.governance.members import Members
from bot.governance.people import People
from bot.governance.roles import ROLES, Roles
from bot.platform import PlatformState
from bot.store.database import Database


@dataclass(frozen=True, slots=True)
class Governance:
    audit: Audit
    people: People
    roles: Roles
    members: Members
    accounts: Accounts

    @classmethod
    def build(cls, db: Database, clock: Clock, directory: Directory, platform: PlatformState) -> Governance:
        audit = Audit(db, clock)
        return cls(audit, People(db, directory), Roles(db, platform, audit), Members(platform, audit),
                   Accounts(db, directory, platform, audit))


__all__ = ["ROLES", "Actor", "Governance"]
