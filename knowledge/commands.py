"""`/knowledge` (what the agent knows about you and for you) and `/forget ID`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.commands.registry import Command, CommandContext, CommandError
from knowledge.facts import Scopes
from knowledge.handlers import own_partition
from knowledge.index import Partition

if TYPE_CHECKING:
    from knowledge.service import Knowledge

LIST_LIMIT = 50
_SCOPE_LABEL = {"user": "about you", "agent": "this agent's", "team": "your team's", "account": "the account's"}


def knowledge_commands(knowledge: Knowledge) -> list[Command]:
    async def list_knowledge(ctx: CommandContext) -> str:
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
        # Users forget their own facts; the agent's and the account's are for account admins.
        writable = scopes.partitions if turn.is_account_admin else (own_partition(turn),)
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
        Command("knowledge", "list what I know about you and for you", list_knowledge),
        Command("forget", "forget a fact or a document by its id", forget, usage="ID", writes=True),
    ]
