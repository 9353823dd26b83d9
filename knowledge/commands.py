"""`/knowledge` (what the agent knows about you and for you) and `/forget ID`."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.commands.registry import Command, CommandContext, CommandError
from bot.errors import ThinklioError
from knowledge.facts import Scopes
from knowledge.handlers import own_partition
from knowledge.index import Partition
from knowledge.teams import writable_team

if TYPE_CHECKING:
    from knowledge.service import Knowledge

LIST_LIMIT = 50
# "/knowledge team wifi password is hunter2", "/knowledge team:sales discount code is SPRING"
_TEAM_FACT = re.compile(r"^team(?::([A-Za-z0-9][A-Za-z0-9-]*))?\s+(.+?)\s+is\s+(.+)$", re.IGNORECASE | re.DOTALL)
TEAM_USAGE = "Usage: /knowledge team[:TEAM] SUBJECT is VALUE"
_SCOPE_LABEL = {"user": "about you", "agent": "this agent's", "team": "your team's", "account": "the account's"}


def knowledge_commands(knowledge: Knowledge) -> list[Command]:
    async def team_fact(ctx: CommandContext) -> str:
        match = _TEAM_FACT.match(ctx.args.strip())
        if match is None:
            raise CommandError(TEAM_USAGE)
        try:
            owner = await writable_team(ctx.turn, ctx.directory, match.group(1))
        except ThinklioError as exc:
            raise CommandError(exc.message, code=exc.code) from None  # a forbidden one is audited by the route
        turn = ctx.turn
        saved = await knowledge.facts.remember(owner, match.group(2), match.group(3), now=knowledge.clock.now(),
                                               source="command", locale=turn.user.locale, agent_id=turn.agent.id,
                                               interaction_id=turn.interaction_id)
        await knowledge.sync()
        if saved.unchanged:
            return f"The team already knew that {saved.fact.text}."
        was = f" (it was {saved.previous.value})" if saved.previous is not None else ""
        return f"For the team: {saved.fact.text}{was}. /forget {saved.fact.id} undoes it."

    async def list_knowledge(ctx: CommandContext) -> str:
        if ctx.args.strip():
            if ctx.args.strip().lower().startswith("team"):
                return await team_fact(ctx)
            raise CommandError(f"Usage: /knowledge, or {TEAM_USAGE.removeprefix('Usage: ')}")
        scopes = Scopes.of_turn(ctx.turn)
        facts = await knowledge.facts.visible(scopes, limit=LIST_LIMIT + 1)
        documents = await knowledge.documents.listed(scopes)
        if not facts and not documents:
            return "I don't know anything yet. Tell me things like 'remember that my wifi password is …'."
        lines = []
        for fact in facts[:LIST_LIMIT]:
            lines.append(f"{fact.id}  {fact.text}  ({_SCOPE_LABEL.get(fact.scope, fact.scope)})")
        if len(facts) > LIST_LIMIT:
            lines.append(f"… and more; I list the first {LIST_LIMIT}.")
        lines.extend(f"{doc.id}  document '{doc.title}' ({doc.chunks} part{'' if doc.chunks == 1 else 's'}, "
                     f"{_SCOPE_LABEL.get(doc.scope, doc.scope)})" for doc in documents)
        lines.append("Forget a fact or a document with /forget ID.")
        return "\n".join(lines)

    async def forget(ctx: CommandContext) -> str:
        fact_id = ctx.args.strip()
        if not fact_id:
            raise CommandError("Usage: /forget ID (the ids are in /knowledge).")
        turn = ctx.turn
        scopes = Scopes.of_turn(turn)
        # Users forget their own facts and their teams' (unless readonly there); the agent's and the account's
        # are for account admins.
        teams = tuple(p for p in scopes.partitions if p.scope == "team" and turn.teams.get(p.scope_id) in
                      ("admin", "member"))
        writable = scopes.partitions if turn.is_account_admin else (own_partition(turn), *teams)
        if fact_id.startswith("kdo_"):
            return await forget_document(scopes, fact_id, writable)
        archived = await knowledge.facts.archive(scopes, [fact_id], now=knowledge.clock.now(), writable=writable)
        if not archived:
            visible = await knowledge.facts.by_ids(scopes, [fact_id])
            if visible:
                raise CommandError("Only an account admin can remove that fact.", code="forbidden")
            raise CommandError(f"There is no fact {fact_id} that I could forget.", code="not_found")
        await knowledge.sync()
        return f"Forgotten: {archived[0].text}."

    async def forget_document(scopes: Scopes, doc_id: str, writable: tuple[Partition, ...]) -> str:
        archived = await knowledge.documents.archive(scopes, [doc_id], writable=writable)
        if not archived:
            if any(doc.id == doc_id for doc in await knowledge.documents.listed(scopes)):
                raise CommandError("Only an account admin can remove that document.", code="forbidden")
            raise CommandError(f"There is no document {doc_id} that I could forget.", code="not_found")
        await knowledge.sync()
        return f"Forgotten: the document '{archived[0].title}'."

    return [
        Command("knowledge", "list what I know about you and for you; add to your team's knowledge", list_knowledge,
                usage="[team[:TEAM] SUBJECT is VALUE]",
                help="A team fact is seen by the team's members in their conversations with the team's agents (or "
                     "with an agent of the whole account), never by anyone else."),
        Command("forget", "forget a fact or a document by its id", forget, usage="ID", writes=True),
    ]
