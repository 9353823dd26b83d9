"""Teams within an account (reference 33.1, "team management"): create, add and remove members with a team role
(admin, member, readonly), assign agents, archive (its agents refuse new interactions and their pending work is
cancelled; the team's knowledge and audit trail are kept). One service for chat (`bot/commands/teams.py`) and
HTTP (`bot/admin_api.py`).

Who may do what: the account's owners and admins everything; a team's admins add and remove members of their
team; nobody reaches another account's teams or people (refused as if missing, and audited). Every change and
every refusal is in the audit trail; changes go through `PlatformState.change`, so every process sees them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NoReturn

from sqlalchemy import delete, func, select

from bot.clock import Clock
from bot.directory import Directory
from bot.errors import ThinklioError
from bot.governance.actor import Actor
from bot.governance.audit import Audit, done
from bot.governance.pending import PendingWork, WorkScope
from bot.governance.people import People
from bot.ids import new_id
from bot.platform import PlatformState
from bot.records import AgentRecord, TeamRecord, UserRecord
from bot.store import tables as t
from bot.store.batch import Insert, Update
from bot.store.database import Database

TEAM_ROLES = ("admin", "member", "readonly")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


def slug_of(name: str) -> str:
    return _NOT_SLUG.sub("-", name.strip().lower()).strip("-")[:64]


@dataclass(frozen=True, slots=True)
class TeamSeat:
    user: UserRecord
    role: str  # in the team


@dataclass(frozen=True, slots=True)
class TeamDetail:
    team: TeamRecord
    members: list[TeamSeat]
    agents: list[tuple[str, str]]  # (slug, status)


@dataclass(frozen=True, slots=True)
class TeamLine:
    team: TeamRecord
    members: int
    agents: int


class Teams:
    def __init__(self, db: Database, clock: Clock, directory: Directory, platform: PlatformState, people: People,
                 pending: PendingWork, audit: Audit) -> None:
        self._db = db
        self._clock = clock
        self._directory = directory
        self._platform = platform
        self._people = people
        self._pending = pending
        self._audit = audit

    # changes -----------------------------------------------------------------------------------------------

    async def create(self, actor: Actor, name: str) -> TeamRecord:
        name = " ".join(name.split())
        await self._require_account_admin(actor, "team.create", None)
        slug = slug_of(name)
        if not 1 <= len(name) <= 100 or not _SLUG.fullmatch(slug):
            raise ThinklioError("bad_request", "A team name is 1-100 characters with at least one letter or digit.")
        existing = await self._db.one(select(t.team.c.id).where(
            t.team.c.account_id == actor.account_id,
            (t.team.c.slug == slug) | (func.lower(t.team.c.name) == name.lower())))
        if existing is not None:
            raise ThinklioError("conflict", f"This account has a team {slug!r} already.")
        team = TeamRecord(new_id("team"), actor.account_id, slug, name, "active")
        await self._platform.change(
            [Insert(t.team, {"id": team.id, "account_id": team.account_id, "slug": slug, "name": name,
                             "status": "active", "created_at": self._clock.now()})],
            actor=actor.label, action="team.create", target_type="team", target_id=team.id,
            account_id=actor.account_id, detail=done(actor, slug=slug))
        return team

    async def add(self, actor: Actor, team_ref: str, user_ref: str, role: str = "member") -> str:
        role = role.strip().lower()
        if role not in TEAM_ROLES:
            raise ThinklioError("bad_request", f"Unknown team role {role!r}; team roles are {', '.join(TEAM_ROLES)}.")
        team = await self._team(actor, team_ref, "team.add")
        await self._require_team_admin(actor, team, "team.add")
        user = await self._member_of_account(actor, user_ref, team, "team.add")
        if team.status != "active":
            raise ThinklioError("conflict", f"The team {team.slug} is archived.")
        seat_id, seat = await self._seat_row(team.id, user.id)
        if seat == role:
            return f"{user.display_name} is already {role} in {team.slug}."
        op = (Update(t.team_member, seat_id, {"role": role}) if seat_id is not None else
              Insert(t.team_member, {"id": new_id("tmm"), "team_id": team.id, "user_id": user.id, "role": role,
                                     "created_at": self._clock.now()}))
        await self._platform.change([op], actor=actor.label, action="team.add", target_type="team",
                                    target_id=team.id, account_id=actor.account_id,
                                    detail=done(actor, user=user.id, role=role, was=seat))
        was = "" if seat is None else f" (was {seat})"
        return f"{user.display_name} ({user.id}) is now {role} in {team.slug}{was}."

    async def remove(self, actor: Actor, team_ref: str, user_ref: str) -> str:
        team = await self._team(actor, team_ref, "team.remove")
        await self._require_team_admin(actor, team, "team.remove")
        user = await self._member_of_account(actor, user_ref, team, "team.remove")
        seat_id, seat = await self._seat_row(team.id, user.id)
        if seat_id is None:
            raise ThinklioError("not_found", f"{user.display_name} is not in the team {team.slug}.")
        # The store's batched ops have no delete: the row goes first, then the audited change (whose new
        # revision makes every process drop the membership it cached). A crash between them loses only the audit.
        await self._db.run(lambda conn: conn.execute(delete(t.team_member).where(t.team_member.c.id == seat_id)))
        await self._platform.change([], actor=actor.label, action="team.remove",
                                    target_type="team", target_id=team.id, account_id=actor.account_id,
                                    detail=done(actor, user=user.id, was=seat))
        return f"{user.display_name} ({user.id}) is no longer in {team.slug}."

    async def assign_agent(self, actor: Actor, team_ref: str, agent_slug: str) -> AgentRecord:
        """The agent works for the team from now on (its knowledge then includes the team's, for members)."""
        team = await self._team(actor, team_ref, "team.agent")
        await self._require_account_admin(actor, "team.agent", team)
        agent = await self._directory.agent_by_slug(actor.account_id, agent_slug.strip())
        if agent is None:
            raise ThinklioError("not_found", f"No agent {agent_slug.strip()!r} in this account.")
        if team.status != "active":
            raise ThinklioError("conflict", f"The team {team.slug} is archived.")
        if agent.team_id == team.id:
            return agent
        await self._platform.change([Update(t.agent, agent.id, {"team_id": team.id})], actor=actor.label,
                                    action="team.agent", target_type="team", target_id=team.id,
                                    account_id=actor.account_id,
                                    detail=done(actor, agent=agent.id, was=agent.team_id))
        return await self._directory.agent(agent.id)

    async def archive(self, actor: Actor, team_ref: str) -> tuple[TeamRecord, int]:
        """Archive the team: its agents take no new interactions and their pending work is cancelled. The number
        of pending items cancelled."""
        team = await self._team(actor, team_ref, "team.archive")
        await self._require_account_admin(actor, "team.archive", team)
        if team.status == "archived":
            return team, 0
        await self._platform.change([Update(t.team, team.id, {"status": "archived"})], actor=actor.label,
                                    action="team.archive", target_type="team", target_id=team.id,
                                    account_id=actor.account_id, detail=done(actor))
        cancelled = 0
        for agent_id in await self._agent_ids(team.id):
            cancelled += await self._pending.cancel(WorkScope(agent_id=agent_id),
                                                    f"cancelled: team {team.slug} archived")
        archived = await self._directory.team(team.id)
        assert archived is not None
        return archived, cancelled

    # reads -------------------------------------------------------------------------------------------------

    async def show(self, actor: Actor, team_ref: str) -> TeamDetail:
        team = await self._team(actor, team_ref, "team.show")
        if not actor.is_account_admin and await self._seat(team.id, actor.user_id or "") is None:
            await self._refuse(actor, "team.show", "only the account's admins and the team's members see a team",
                               team.id)
        tm, u, a = t.team_member, t.user_profile, t.agent
        rows = await self._db.all(select(u.c.id, u.c.display_name, u.c.status, u.c.timezone, u.c.locale,
                                         u.c.monthly_budget_usd, tm.c.role)
                                  .join(tm, tm.c.user_id == u.c.id).where(tm.c.team_id == team.id)
                                  .order_by(u.c.display_name, u.c.id))
        seats = [TeamSeat(UserRecord(r.id, r.display_name, r.status, r.timezone, r.locale, r.monthly_budget_usd),
                          r.role) for r in rows]
        agents = await self._db.all(select(a.c.slug, a.c.status).where(a.c.team_id == team.id).order_by(a.c.slug))
        return TeamDetail(team, seats, [(row.slug, row.status) for row in agents])

    async def listing(self, actor: Actor) -> list[TeamLine]:
        """The account's teams for its admins; a member's own teams for everyone else."""
        team, tm, a = t.team, t.team_member, t.agent
        members = select(func.count()).where(tm.c.team_id == team.c.id).scalar_subquery()
        agents = select(func.count()).where(a.c.team_id == team.c.id).scalar_subquery()
        query = select(team, members.label("members"), agents.label("agents")).where(
            team.c.account_id == actor.account_id).order_by(team.c.status, team.c.slug)
        if not actor.is_account_admin:
            query = query.where(team.c.id.in_(select(tm.c.team_id).where(tm.c.user_id == (actor.user_id or ""))))
        rows = await self._db.all(query)
        return [TeamLine(TeamRecord(r.id, r.account_id, r.slug, r.name, r.status), int(r.members), int(r.agents))
                for r in rows]

    # checks ------------------------------------------------------------------------------------------------

    async def _team(self, actor: Actor, ref: str, action: str) -> TeamRecord:
        """The team `ref` (a slug, a name, or a team id) names in the actor's account. Another account's team is
        reported exactly like a missing one (no probing across accounts), and the attempt is audited."""
        ref = ref.strip()
        if not ref:
            raise ThinklioError("bad_request", "Name a team by its slug (/teams lists them).")
        team = await self._directory.team_by_slug(actor.account_id, slug_of(ref))
        if team is None and ref.startswith("team_"):
            team = await self._directory.team(ref)
            if team is not None and team.account_id != actor.account_id:
                await self._audit.refused(actor, action, "the team is in another account", target_type="team",
                                          target_id=team.id)
                team = None
        if team is None:
            raise ThinklioError("not_found", f"No team {ref!r} in this account.")
        return team

    async def _member_of_account(self, actor: Actor, ref: str, team: TeamRecord, action: str) -> UserRecord:
        user = await self._people.user(ref, actor.account_id)
        if await self._directory.membership(actor.account_id, user.id) is None:
            await self._audit.refused(actor, action, "the user is not a member of this account",
                                      target_type="team", target_id=team.id)
            raise ThinklioError("not_found", f"{ref} is not a member of this account.")
        return user

    async def _seat_row(self, team_id: str, user_id: str) -> tuple[str | None, str | None]:
        """(the team_member id, the role) of the user in the team; (None, None) when not in it."""
        row = await self._db.one(select(t.team_member.c.id, t.team_member.c.role).where(
            t.team_member.c.team_id == team_id, t.team_member.c.user_id == user_id))
        return (None, None) if row is None else (str(row.id), str(row.role))

    async def _seat(self, team_id: str, user_id: str) -> str | None:
        return (await self._seat_row(team_id, user_id))[1]

    async def _agent_ids(self, team_id: str) -> list[str]:
        return [row.id for row in await self._db.all(select(t.agent.c.id).where(t.agent.c.team_id == team_id))]

    async def _require_account_admin(self, actor: Actor, action: str, team: TeamRecord | None) -> None:
        if not actor.is_account_admin:
            await self._refuse(actor, action, "only the account's owners and admins do that",
                               None if team is None else team.id)

    async def _require_team_admin(self, actor: Actor, team: TeamRecord, action: str) -> None:
        if actor.is_account_admin:
            return
        if actor.role == "readonly" or await self._seat(team.id, actor.user_id or "") != "admin":
            await self._refuse(actor, action, "only the account's admins and the team's admins change its members",
                               team.id)

    async def _refuse(self, actor: Actor, action: str, reason: str, team_id: str | None) -> NoReturn:
        await self._audit.refuse(actor, action, reason, target_type="team", target_id=team_id)

