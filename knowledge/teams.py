"""Team-scoped knowledge: which team partition a turn may write to. What a turn may *read* is in
`facts.visible_teams` (the sender's teams, narrowed to the agent's team when it works for one); writing needs a
seat in the team that is not readonly (or the account's owners and admins), and a team's agent only writes to
its own team. Used by `/knowledge team …`, the `memory_store` tool and files captioned `scope team`."""

from __future__ import annotations

import re
from typing import Protocol

from bot.errors import ThinklioError
from bot.records import TeamRecord
from bot.turn import Turn
from knowledge.index import Partition

# A file's caption that files it under a team: "scope team" or "scope team:SLUG", then optionally a question.
CAPTION = re.compile(r"^\s*scope\s+team(?::([A-Za-z0-9][A-Za-z0-9-]*))?(?=\s|$)\s*(.*)$", re.IGNORECASE | re.DOTALL)


class TeamLookup(Protocol):
    async def team(self, team_id: str) -> TeamRecord | None: ...
    async def team_by_slug(self, account_id: str, slug: str) -> TeamRecord | None: ...


async def writable_team(turn: Turn, directory: TeamLookup, slug: str | None = None) -> Partition:
    """The team partition this turn writes to: the named team, else the agent's team, else the sender's only
    team. `bad_request`, `not_found` or `forbidden` (with the reason) when there is none it may write to."""
    account = turn.channel.account_id
    if slug:
        team = await directory.team_by_slug(account, slug.strip().lower())
        if team is None or team.status != "active":
            raise ThinklioError("not_found", f"No active team {slug!r} in this account.")
    elif turn.agent.team_id is not None:
        team = await directory.team(turn.agent.team_id)
    elif len(turn.teams) == 1:
        team = await directory.team(next(iter(turn.teams)))
    elif not turn.teams:
        raise ThinklioError("bad_request", "You are not in any team, so there is no team to file this under.")
    else:
        slugs = sorted([found.slug for team_id in turn.teams if (found := await directory.team(team_id))])
        raise ThinklioError("bad_request", f"You are in several teams ({', '.join(slugs)}): name one, as in "
                                           f"team:{slugs[0]}.")
    if team is None or team.status != "active":
        raise ThinklioError("not_found", "This agent's team is not active.")
    if turn.agent.team_id is not None and team.id != turn.agent.team_id:
        raise ThinklioError("forbidden", f"{turn.agent.name} works for another team; it keeps only its own "
                                         "team's knowledge.")
    seat = turn.teams.get(team.id)
    if turn.is_readonly or seat == "readonly":
        raise ThinklioError("forbidden", f"Your role is readonly, so you can't add to the team {team.slug}'s "
                                         "knowledge.")
    if seat is None and not turn.is_account_admin:
        raise ThinklioError("forbidden", f"Only the team {team.slug}'s members add to its knowledge.")
    return Partition(account, "team", team.id)
