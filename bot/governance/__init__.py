"""Governance: the administration services behind both front doors, chat commands (`bot/commands/governance.py`)
and the admin HTTP API (`bot/admin_api.py`). One implementation: the role checks, the audit of every change and
every refusal, and the changes themselves (through `PlatformState.change`, so every process sees them)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.auth import ApiKeys
from bot.clock import Clock
from bot.directory import Directory
from bot.governance.accounts import Accounts
from bot.governance.actor import Actor
from bot.governance.agents import AgentAdmin
from bot.governance.audit import Audit
from bot.governance.controls import Controls
from bot.governance.keys import Keys
from bot.governance.members import Members
from bot.governance.pending import PendingWork, WorkScope
from bot.governance.people import People
from bot.governance.roles import ROLES, Roles
from bot.governance.settings import AccountSettingsAdmin
from bot.governance.teams import Teams
from bot.platform import PlatformState
from bot.store.database import Database
from config.catalogue import CATALOGUE


@dataclass(frozen=True, slots=True)
class Governance:
    audit: Audit
    people: People
    roles: Roles
    members: Members
    accounts: Accounts
    pending: PendingWork  # extensions register how their waiting work is cancelled
    controls: Controls
    keys: Keys
    agents: AgentAdmin
    teams: Teams
    settings: AccountSettingsAdmin

    @classmethod
    def build(cls, db: Database, clock: Clock, directory: Directory, platform: PlatformState,
              api_keys: ApiKeys) -> Governance:
        audit, pending, people = Audit(db, clock), PendingWork(), People(db, directory)
        return cls(audit, people, Roles(db, platform, audit), Members(platform, audit),
                   Accounts(db, clock, directory, platform, audit), pending,
                   Controls(platform, directory, pending, audit), Keys(api_keys, audit),
                   AgentAdmin(db, clock, platform, pending, audit,
                              tuple(seed for account in CATALOGUE for seed in account.agents)),
                   teams=Teams(db, clock, directory, platform, people, pending, audit),
                   settings=AccountSettingsAdmin(directory, platform, audit))


__all__ = ["ROLES", "Actor", "Governance", "WorkScope"]
