"""Run an agent on a turn and get its reply without storing or delivering it: the seam delegation plugs into.

A tool or an extension holding a turn asks another agent of the same account (or the turn's own agent) to answer
some text. The run gets a turn of its own (same user and conversation, its own steps), so its model calls are
priced and charged to the same budgets as any other; the caller decides what to keep of its reply and steps.

Delegation limits (reference 21.5): each run is one level deeper than the turn it came from, and a run deeper
than the account's `delegation_depth` setting (default 3) is refused (0: no runs at all); so is a run of an agent
that is not active (paused) or whose team is archived, which would otherwise answer behind the gates that stop it.
A named agent already on the call path (`Turn.lineage`: A asked B, B asks A) is refused too, whatever the
delegation table says (a cycle forced into the database). A run never delivers: its channel's drafts are off.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from agents.harness import Harness
from bot.account_settings import delegation_depth
from bot.directory import Directory
from bot.gates import AGENT_ARCHIVED, AGENT_PAUSED
from bot.i18n import _
from bot.turn import Reply, StepRecord, Turn


@dataclass(frozen=True, slots=True)
class AgentRun:
    reply: Reply
    steps: list[StepRecord]


class DelegationRefused(Exception):
    """The run is not allowed (too deep, or the agent is not taking work); the message says why."""


class AgentRunner:
    def __init__(self, harness: Harness, directory: Directory) -> None:
        self._harness = harness
        self._directory = directory

    async def run(self, turn: Turn, *, agent: str | None = None, text: str | None = None,
                  steps: int | None = None) -> AgentRun:
        """`agent` is a slug in the turn's account (default: the turn's own); `text` what it is asked (default:
        the turn's message); `steps` the most model calls it may make (default: its profile's). LookupError when
        there is no such agent; DelegationRefused past the account's delegation depth, for an agent already on
        the call path or for an agent that takes no work."""
        target = turn.agent
        if agent is not None and agent != turn.agent.slug:
            found = await self._directory.agent_by_slug(turn.channel.account_id, agent)
            if found is None:
                raise LookupError(f"no agent {agent!r} in this account")
            target = found
            if target.id in turn.lineage:
                raise DelegationRefused(f"{target.name} is already on this call path; an agent cannot be asked by "
                                        "one it delegated to")
        limit = delegation_depth(await self._directory.account(turn.channel.account_id))
        if turn.delegation_depth >= limit:
            raise DelegationRefused(f"this account allows delegation {limit} level{'s' if limit != 1 else ''} deep")
        if target.status in ("paused", "archived"):  # a paused or archived agent takes no new work, asked or not
            why = AGENT_PAUSED if target.status == "paused" else AGENT_ARCHIVED
            refusal = _(why).format(name=target.name)
            return AgentRun(Reply(refusal, tier="gate", status="rejected", error_code=f"agent_{target.status}"), [])
        team = None if target.team_id is None else await self._directory.team(target.team_id)
        if target.status != "active" or (team is not None and team.status != "active"):
            raise DelegationRefused(f"{target.name} is not taking work right now")
        # Its own steps and notices (kept apart, so the caller decides what to keep); the tree's delegation count
        # (`delegations`) is the same list.
        sub = replace(turn, agent=target, text=turn.text if text is None else text, collected=[], steps=[],
                      notices={}, delegation_depth=turn.delegation_depth + 1,
                      lineage=(*turn.lineage, turn.agent.id), steps_left=steps, said=tuple(turn.user_texts))
        reply = await self._harness.answer(sub)
        turn.notices.update(sub.notices)  # a budget nearly used up by the run is said once, by the caller
        return AgentRun(reply, sub.steps)
