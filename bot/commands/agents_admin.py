"""/agents and /agent from chat: each subcommand parses its words and calls the agent service
(`bot/governance/agents.py`, the one `AgentAdmin`), which checks the role, audits and changes; `/v1/admin/agents`
calls the same."""

from __future__ import annotations

from bot.commands.paging import page_number, paginate
from bot.commands.registry import Command, CommandContext, CommandError
from bot.governance import Actor
from bot.governance.agents import LEVELS, USAGE_DAYS, AgentDetail

USAGE = ("Usage: /agent show SLUG | create SLUG [from TEMPLATE] | name SLUG NAME | prompt SLUG TEXT | "
         "model SLUG MODEL|default | "
         f"tools SLUG add TOOL [{'|'.join(LEVELS)}] | tools SLUG remove TOOL | delegate SLUG add|remove OTHER | "
         "pause|resume|archive SLUG")
HELP = ("SLUG is an agent of this account (platform administrators: ACCOUNT/SLUG for another account's).\n"
        "show: its tools and what each needs, recent interactions and tool calls, active jobs, 30 days' usage.\n"
        "create: a new agent from a template (the catalogue's 'assistant', or an agent of this account, copied).\n"
        "name: the name people see (the slug stays). prompt: replace its system prompt.\n"
        "model: its model, or 'default' for the provider's.\n"
        "tools add: assign a tool the server has, with a permission (read, write or admin; the tool's own level "
        "when omitted). tools remove: take it away.\n"
        "delegate add: let it ask OTHER (an agent of the same account) for help: its model is offered the tool "
        "ask_OTHER (not with the embedded model, which is offered no tools); a cycle is refused. "
        "delegate remove: no more.\n"
        "pause: no new messages, its pending jobs cancelled. resume: new work again (cancelled jobs stay "
        "cancelled). archive: retired for good, its knowledge and audit trail kept; resume brings it back.")
_STATUS = {"pause": "paused", "resume": "active", "archive": "archived"}


async def agents_command(ctx: CommandContext) -> str:
    words, page = page_number(ctx.args.split())
    if words not in ([], ["all"]):
        raise CommandError("Usage: /agents [all] [PAGE] (all: every account's, for platform administrators)")
    everywhere = words == ["all"]
    listed = await ctx.governance.agents.listing(Actor.of_turn(ctx.turn), everywhere=everywhere)
    if not listed:
        return "This account has no agents. /agent create SLUG makes one."
    lines = [f"{f'{a.account}/' if everywhere else ''}{a.slug} ({a.name}) - {a.status}, "
             f"model {a.model or 'default'}, {a.tools} tool{'s' if a.tools != 1 else ''}" for a in listed]
    return paginate(lines, page, "/agents all" if everywhere else "/agents",
                    header=f"{len(listed)} agent{'s' if len(listed) != 1 else ''} (/agent show SLUG for one):")


async def agent_command(ctx: CommandContext) -> str:
    action, _, rest = ctx.args.strip().partition(" ")
    action = action.lower()
    service, actor = ctx.governance.agents, Actor.of_turn(ctx.turn)
    if action == "show":
        words, page = page_number(rest.split())
        if len(words) != 1:
            raise CommandError("Usage: /agent show SLUG [PAGE]")
        detail = await service.show(actor, words[0])
        return paginate(_detail_lines(detail), page, f"/agent show {words[0]}")
    if action == "create":
        words = rest.split()
        if len(words) == 1 or (len(words) == 3 and words[1].lower() == "from"):
            return (await service.create(actor, words[0], words[2] if len(words) == 3 else None)).message
        raise CommandError(f"Usage: /agent create SLUG [from TEMPLATE] (templates: {', '.join(service.templates())}"
                           ", or an agent of this account)")
    if action == "prompt":
        slug, _, text = rest.strip().partition(" ")  # the text keeps its own spacing and lines
        if not slug or not text.strip():
            raise CommandError("Usage: /agent prompt SLUG TEXT")
        return (await service.set_prompt(actor, slug, text)).message
    if action == "name":
        slug, _, name = rest.strip().partition(" ")
        if not slug or not name.strip():
            raise CommandError("Usage: /agent name SLUG NAME")
        return (await service.rename(actor, slug, name)).message
    if action == "model":
        words = rest.split()
        if len(words) != 2:
            raise CommandError("Usage: /agent model SLUG MODEL (or 'default')")
        return (await service.set_model(actor, words[0], words[1])).message
    if action == "tools":
        return await _tools(ctx, rest.split())
    if action == "delegate":
        words = rest.split()
        if len(words) != 3 or words[1].lower() not in ("add", "remove"):
            raise CommandError("Usage: /agent delegate SLUG add|remove OTHER")
        change = service.add_delegate if words[1].lower() == "add" else service.remove_delegate
        return (await change(actor, words[0], words[2])).message
    if action in _STATUS:
        words = rest.split()
        if len(words) != 1:
            raise CommandError(f"Usage: /agent {action} SLUG")
        return (await service.set_status(actor, words[0], _STATUS[action])).message
    raise CommandError(USAGE)


async def _tools(ctx: CommandContext, words: list[str]) -> str:
    service, actor = ctx.governance.agents, Actor.of_turn(ctx.turn)
    if len(words) in (3, 4) and words[1].lower() == "add":
        return (await service.add_tool(actor, words[0], words[2], words[3] if len(words) == 4 else None)).message
    if len(words) == 3 and words[1].lower() == "remove":
        return (await service.remove_tool(actor, words[0], words[2])).message
    raise CommandError(f"Usage: /agent tools SLUG add TOOL [{'|'.join(LEVELS)}] | /agent tools SLUG remove TOOL")


def _counted(count: int, what: str) -> str:
    return f"{count} {what[:-1] if count == 1 and what.endswith('s') else what}"


def _detail_lines(detail: AgentDetail) -> list[str]:
    agent, usage = detail.agent, detail.usage
    prompt = " ".join(agent.system_prompt.split())
    lines = [
        f"Agent {agent.slug} ({agent.name}) in account {detail.account}: {agent.status}; model "
        f"{agent.model or 'default'}.",
        f"Prompt: {prompt[:300]}{'…' if len(prompt) > 300 else ''}",
        f"Tools ({len(detail.tools)}):" if detail.tools else "Tools: none (/agent tools SLUG add TOOL).",
    ]
    lines += [f"- {tool.name}: {tool.permission}"
              + (f" (needs {tool.trust})" if tool.trust else " (no installed extension provides it)")
              for tool in detail.tools]
    if detail.delegates:
        lines.append(f"Delegates to: {', '.join(detail.delegates)}.")
    if detail.delegated_by:
        lines.append(f"Delegated to by: {', '.join(detail.delegated_by)}.")
    if detail.tool_calls:
        lines.append("Recent tool calls:")
        lines += [f"- {call.created_at:%Y-%m-%d %H:%M} {call.tool} {call.status}"
                  + (f" ({call.error[:80]})" if call.error else "") for call in detail.tool_calls]
    lines.append(f"Active jobs: {detail.active_jobs}.")
    lines += [f"{name.capitalize()}: " + ", ".join(_counted(count, what) for what, count in counts.items()) + "."
              for name, counts in detail.extras.items()]
    lines.append(f"Last {USAGE_DAYS} days: {usage.interactions} interactions, "
                 f"${usage.cost_usd:.4f}, {usage.tokens_in:,} tokens in, {usage.tokens_out:,} out.")
    if detail.recent:
        lines.append("Recent interactions:")
        lines += [f"- {item.created_at:%Y-%m-%d %H:%M} {item.status} {item.tier or '-'} {item.intent or '-'}"
                  f" ${item.cost_usd:.4f}" for item in detail.recent]
    else:
        lines.append("No interactions yet.")
    return lines


AGENT_ADMIN_COMMANDS = (
    Command("agents", "the account's agents", agents_command, usage="[all] [PAGE]", admin=True),
    Command("agent", "show, create, configure, pause, resume or archive an agent", agent_command,
            usage="show|create|name|prompt|model|tools|delegate|pause|resume|archive SLUG ...", admin=True, writes=True,
            help=f"{USAGE}\n{HELP}"),
)
