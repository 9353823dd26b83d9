"""What /agent show says of an agent's own knowledge: how many facts and documents are scoped to it (current
ones; superseded and archived facts are history). Registered with the agent service by the extension."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import func, select

from bot.records import AgentRecord
from bot.store.database import Database
from knowledge.tables import knowledge_document, knowledge_fact


def agent_knowledge(db: Database) -> Callable[[AgentRecord], Awaitable[dict[str, int]]]:
    async def count(agent: AgentRecord) -> dict[str, int]:
        f, d = knowledge_fact, knowledge_document
        facts = await db.one(select(func.count()).select_from(f).where(
            f.c.account_id == agent.account_id, f.c.scope == "agent", f.c.scope_id == agent.id, f.c.archived == 0,
            f.c.superseded_by.is_(None)))
        documents = await db.one(select(func.count()).select_from(d).where(
            d.c.account_id == agent.account_id, d.c.scope == "agent", d.c.scope_id == agent.id, d.c.archived == 0))
        return {"facts": int(facts[0]) if facts else 0, "documents": int(documents[0]) if documents else 0}

    return count
