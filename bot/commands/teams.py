"""Teams from chat: /teams, and /team create|add|remove|agent|archive|show. Each subcommand parses its words and
calls the one teams service (`bot/governance/teams.py`), which checks roles, audits and changes. Not an admin
command as a whole: a team's admins add and remove its members, and members see their own teams."""

from __future__ import annotations

from bot.commands.registry import Command, CommandContext, CommandError
from bot.governance import Actor
from bot.governance.teams import TEAM_ROLES

USAGE = ("Usage: /team create NAME | add TEAM USER [ROLE] | remove TEAM USER | agent TEAM AGENT | archive TEAM "
         "| show TEAM")


async def teams_command(ctx: CommandContext) -> str:
    if ctx.args.strip():
        raise CommandError("Usage: /teams (then /team show TEAM)")
    lines = await ctx.governance.teams.listing(Actor.of_turn(ctx.turn))
    if not lines:
        return ("This account has no teams yet. Create one with /team create NAME." if ctx.turn.is_account_admin
                else "You are not in any team.")
    return "\n".join(
        f"{line.team.slug} - {line.team.name}: {line.members} member{'s' if line.members != 1 else ''}, "
        f"{line.agents} agent{'s' if line.agents != 1 else ''}" + (" [archived]" if line.team.status != "active"
                                                                   else "")
        for line in lines)


async def team_command(ctx: CommandContext) -> str:
    action, _, rest = ctx.args.strip().partition(" ")
    words = rest.split()
    actor = Actor.of_turn(ctx.turn)
    teams = ctx.governance.teams
    if action == "create" and words:
        team = await teams.create(actor, rest)
        return f"Team {team.slug} ({team.name}) created. Add people with /team add {team.slug} USER [ROLE]."
    if action == "add" and len(words) in (2, 3):
        return await teams.add(actor, words[0], words[1], words[2] if len(words) == 3 else "member")
    if action == "remove" and len(words) == 2:
        return await teams.remove(actor, words[0], words[1])
    if action == "agent" and len(words) == 2:
        agent = await teams.assign_agent(actor, words[0], words[1])
        return f"Agent {agent.slug} now works for the team {words[0]}."
    if action == "archive" and len(words) == 1:
        team, cancelled = await teams.archive(actor, words[0])
        jobs = f" {cancelled} pending job{'s' if cancelled != 1 else ''} cancelled." if cancelled else ""
        return (f"Team {team.slug} is archived: its agents take no new messages; its knowledge and audit trail "
                f"are kept.{jobs}")
    if action == "show" and len(words) == 1:
        detail = await teams.show(actor, words[0])
        members = ", ".join(f"{seat.user.display_name} ({seat.user.id}, {seat.role})" for seat in detail.members)
        agents = ", ".join(f"{slug} ({status})" for slug, status in detail.agents)
        return "\n".join([f"Team {detail.team.slug} ({detail.team.name}): {detail.team.status}.",
                          f"Members: {members or 'none'}.", f"Agents: {agents or 'none'}."])
    raise CommandError(USAGE)


TEAM_COMMANDS = (
    Command("teams", "the account's teams (yours, if you are not an admin)", teams_command),
    Command("team", "create, staff, show and archive teams", team_command,
            usage="create NAME | add|remove TEAM USER [ROLE] | agent TEAM AGENT | archive TEAM | show TEAM",
            help=f"Team roles: {', '.join(TEAM_ROLES)} (add's default is member). The account's owners and admins "
                 "do everything; a team's admins add and remove its members. 'agent' makes an agent work for the "
                 "team: its members' turns with it see the team's knowledge (/knowledge team SUBJECT is VALUE). "
                 "'archive' stops the team's agents and cancels their pending jobs; knowledge and audit are kept."),
)
