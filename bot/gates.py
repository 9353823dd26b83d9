"""The gates every message passes before routing, in order. A gate that closes ends the turn with a reply
that says why; nothing behind it runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.directory import Directory
from bot.i18n import N_, _
from bot.platform import PlatformState
from bot.turn import Reply, Turn

Gate = Callable[[Turn], Awaitable[Reply | None]]

PAUSED = N_("Thinklio is paused by an administrator, so your message was not processed. Please try again later.")
MAINTENANCE = N_("Thinklio is down for maintenance. Your message is saved and will be answered when "
                 "maintenance ends.")
SUSPENDED = N_("Your access has been suspended. Contact an administrator of this workspace.")
SUSPENDED_HERE = N_("Your access to this workspace has been suspended. Contact one of its administrators.")
ACCOUNT_SUSPENDED = N_("This workspace is suspended. Contact its administrator.")
AGENT_PAUSED = N_("{name} is paused by an administrator and is not taking messages right now.")
AGENT_ARCHIVED = N_("{name} has been retired by an administrator and no longer takes messages.")
TEAM_ARCHIVED = N_("{name} worked for the team {team}, which has been archived, so it takes no new messages. "
                   "Contact an administrator of this workspace.")


def _is_admin_command(turn: Turn) -> bool:
    # Admins must be able to reach /resume while everything else is stopped.
    return turn.is_platform_admin and turn.text.lstrip().startswith("/")


def build_gates(platform: PlatformState, directory: Directory) -> list[Gate]:
    async def platform_gate(turn: Turn) -> Reply | None:
        if platform.status == "online" or _is_admin_command(turn):
            return None
        if platform.status == "maintenance":
            return Reply(_(MAINTENANCE), tier="gate", status="queued", error_code="maintenance")
        return Reply(_(PAUSED), tier="gate", status="rejected", error_code="platform_paused")

    async def user_gate(turn: Turn) -> Reply | None:
        if turn.user.status == "suspended":
            return Reply(_(SUSPENDED), tier="gate", status="rejected", error_code="user_suspended")
        if turn.member_status == "suspended" and not turn.is_platform_admin:
            return Reply(_(SUSPENDED_HERE), tier="gate", status="rejected", error_code="user_suspended")
        return None

    async def account_gate(turn: Turn) -> Reply | None:
        account = await directory.account(turn.channel.account_id)
        if account.status == "suspended" and not turn.is_platform_admin:
            return Reply(_(ACCOUNT_SUSPENDED), tier="gate", status="rejected", error_code="account_suspended")
        return None

    async def agent_gate(turn: Turn) -> Reply | None:
        admin_command = turn.is_account_admin and turn.text.lstrip().startswith("/")
        if turn.agent.status == "paused" and not admin_command:
            return Reply(_(AGENT_PAUSED).format(name=turn.agent.name), tier="gate", status="rejected",
                         error_code="agent_paused")
        if turn.agent.team_id is not None and not admin_command:
            # An archived team's agents are deactivated (reference 33.1); its knowledge and audit stay.
            team = await directory.team(turn.agent.team_id)
            if team is not None and team.status != "active":
                return Reply(_(TEAM_ARCHIVED).format(name=turn.agent.name, team=team.name), tier="gate",
                             status="rejected", error_code="team_archived")
        if turn.agent.status == "archived" and not admin_command:  # an admin can still /agent resume it
            return Reply(_(AGENT_ARCHIVED).format(name=turn.agent.name), tier="gate", status="rejected",
                         error_code="agent_archived")
        return None

    return [platform_gate, user_gate, account_gate, agent_gate]
