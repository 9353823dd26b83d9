"""Facts in SQL, the truth: scoped reads, supersede on write, archive, and the index's work queue.

Every read takes a `Scopes` (the account and the partitions a caller may see) and filters by it in SQL, so no
read here can return a fact outside the caller's scopes, whatever the vector index says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement

from bot.ids import new_id
from bot.store.database import Database
from bot.turn import Turn
from knowledge import tables as kt
from knowledge.index import Partition

F = kt.knowledge_fact


def visible_teams(turn: Turn) -> list[str]:
    """The teams whose knowledge this turn sees: the sender's (active) teams, narrowed to the agent's own team
    when the agent works for one, so a team's agent never brings another team's knowledge into its answers."""
    if turn.agent.team_id is not None:
        return [turn.agent.team_id] if turn.agent.team_id in turn.teams else []
    return sorted(turn.teams)


@dataclass(frozen=True, slots=True)
class Scopes:
    """What one caller may see: partitions of one account."""

    account_id: str
    partitions: tuple[Partition, ...]

    @classmethod
    def of_turn(cls, turn: Turn) -> Scopes:
        account = turn.channel.account_id
        return cls(account, (Partition(account, "user", turn.user.id), Partition(account, "agent", turn.agent.id),
                             *(Partition(account, "team", team) for team in visible_teams(turn)),
                             Partition(account, "account", account)))

    def allows(self, row: Any) -> bool:
        """The row (with account_id, scope, scope_id) is in one of these partitions."""
        return (row.account_id == self.account_id
                and Partition(row.account_id, row.scope, row.scope_id) in self.partitions)

    def clause(self, table: Any) -> ColumnElement[bool]:
        return and_(table.c.account_id == self.account_id, or_(*(
            and_(table.c.scope == p.scope, table.c.scope_id == p.scope_id)
            for p in self.partitions if p.account_id == self.account_id)))


@dataclass(frozen=True, slots=True)
class Fact:
    id: str
    account_id: str
    scope: str
    scope_id: str
    subject: str
    predicate: str
    value: str
    category: str | None
    confidence: float
    source: str
    created_at: datetime

    @property
    def partition(self) -> Partition:
        return Partition(self.account_id, self.scope, self.scope_id)

    @property
    def text(self) -> str:
        """What is embedded and shown to the model."""
        verb = "is" if self.predicate == "is" else self.predicate
        return f"{self.subject} {verb} {self.value}"


@dataclass(frozen=True, slots=True)
class Remembered:
    fact: Fact
    previous: Fact | None  # the fact it superseded
    unchanged: bool = False  # the same value was already known


def _fact(row: Any) -> Fact:
    m = row._mapping
    return Fact(m["id"], m["account_id"], m["scope"], m["scope_id"], m["subject"], m["predicate"], m["value"],
                m["category"], m["confidence"], m["source"], m["created_at"])


def normalise_subject(subject: str) -> str:
    return " ".join(subject.lower().strip(" .,!?'\"").split())[:200]


class FactStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def remember(self, owner: Partition, subject: str, value: str, *, now: datetime, source: str,
                       predicate: str = "is", category: str | None = None, confidence: float = 1.0,
                       locale: str | None = None, agent_id: str | None = None,
                       interaction_id: str | None = None, replace_stronger: bool = True) -> Remembered:
        """Store a fact; an active fact with the same subject and predicate in the same partition is superseded
        (archived, its vector queued for deletion) in the same transaction. With `replace_stronger` False, a
        current fact held with more confidence is kept and nothing is written (a guess never beats a statement)."""
        subject = normalise_subject(subject)
        value = value.strip()

        def work(conn: Connection) -> Remembered:
            rows = conn.execute(select(F).where(
                F.c.account_id == owner.account_id, F.c.scope == owner.scope, F.c.scope_id == owner.scope_id,
                F.c.archived == 0, F.c.subject == subject, F.c.predicate == predicate)).all()
            current = [_fact(row) for row in rows]
            for fact in current:
                if fact.value == value or (not replace_stronger and fact.confidence > confidence):
                    return Remembered(fact, None, unchanged=True)
            row = {"id": new_id("kfa"), "account_id": owner.account_id, "scope": owner.scope,
                   "scope_id": owner.scope_id, "agent_id": agent_id, "subject": subject, "predicate": predicate,
                   "value": value, "category": category, "confidence": confidence, "locale": locale,
                   "source": source, "source_interaction_id": interaction_id, "superseded_by": None,
                   "archived": 0, "index_state": "pending", "created_at": now, "updated_at": now}
            conn.execute(F.insert(), row)
            if current:
                conn.execute(update(F).where(F.c.id.in_([f.id for f in current])).values(
                    archived=1, superseded_by=row["id"], index_state="delete", updated_at=now))
            return Remembered(_fact(_Row(row)), current[0] if current else None)

        return await self._db.run(work)

    async def add_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """Bulk insert of prepared rows (seeding, benchmarks): no supersede check."""
        from bot.store.batch import Insert

        await self._db.write([Insert(F, row) for row in rows])

    async def about(self, scopes: Scopes, subject: str) -> list[Fact]:
        rows = await self._db.all(select(F).where(scopes.clause(F), F.c.archived == 0,
                                                  F.c.subject == normalise_subject(subject))
                                  .order_by(F.c.created_at.desc()))
        return [_fact(row) for row in rows]

    async def mentioning(self, scopes: Scopes, word: str, *, limit: int = 5) -> list[Fact]:
        """Facts whose subject contains `word` as whole words ("wifi" finds "wifi password")."""
        word = normalise_subject(word)
        like = or_(F.c.subject == word, F.c.subject.like(f"{word} %"), F.c.subject.like(f"% {word}"),
                   F.c.subject.like(f"% {word} %"))
        rows = await self._db.all(select(F).where(scopes.clause(F), F.c.archived == 0, like)
                                  .order_by(F.c.created_at.desc()).limit(limit))
        return [_fact(row) for row in rows]

    async def visible(self, scopes: Scopes, *, limit: int = 100) -> list[Fact]:
        rows = await self._db.all(select(F).where(scopes.clause(F), F.c.archived == 0)
                                  .order_by(F.c.scope, F.c.subject).limit(limit))
        return [_fact(row) for row in rows]

    async def by_ids(self, scopes: Scopes, ids: Sequence[str]) -> dict[str, Fact]:
        """The active facts among `ids` that the caller may see (what a vector hit turns into)."""
        if not ids:
            return {}
        # By primary key only, scopes checked here: with the scope clause in SQL, SQLite walks the scope index
        # over the whole account instead (40 ms at 100k facts).
        rows = await self._db.all(select(F).where(F.c.id.in_(list(ids)), F.c.archived == 0))
        return {row.id: _fact(row) for row in rows if scopes.allows(row)}

    async def archive(self, scopes: Scopes, fact_ids: Sequence[str], *, now: datetime,
                      writable: Sequence[Partition] | None = None) -> list[Fact]:
        """Archive the given facts that the caller may see (and, with `writable`, may change)."""
        allowed = scopes if writable is None else Scopes(scopes.account_id, tuple(writable))

        def work(conn: Connection) -> list[Fact]:
            rows = conn.execute(select(F).where(F.c.id.in_(list(fact_ids)), allowed.clause(F),
                                                F.c.archived == 0)).all()
            facts = [_fact(row) for row in rows]
            if facts:
                conn.execute(update(F).where(F.c.id.in_([f.id for f in facts])).values(
                    archived=1, index_state="delete", updated_at=now))
            return facts

        return await self._db.run(work)

    async def restore(self, scopes: Scopes, fact_ids: Sequence[str], *, now: datetime) -> list[Fact]:
        """Bring archived facts back (an /undo of a forget): active again, and queued for the index."""

        def work(conn: Connection) -> list[Fact]:
            rows = conn.execute(select(F).where(F.c.id.in_(list(fact_ids)), scopes.clause(F), F.c.archived == 1,
                                                F.c.superseded_by.is_(None))).all()
            if rows:
                conn.execute(update(F).where(F.c.id.in_([r.id for r in rows])).values(
                    archived=0, index_state="pending", updated_at=now))
            return [_fact(row) for row in rows]

        return await self._db.run(work)

    async def mark_user_for_purge(self, user_id: str) -> list[Partition]:
        """Queue every user-scoped fact of `user_id` (any account) for hard deletion; their partitions."""

        def work(conn: Connection) -> list[Partition]:
            rows = conn.execute(select(F.c.account_id).where(F.c.scope == "user", F.c.scope_id == user_id)
                                .distinct()).all()
            conn.execute(update(F).where(F.c.scope == "user", F.c.scope_id == user_id).values(index_state="purge"))
            return [Partition(row.account_id, "user", user_id) for row in rows]

        return await self._db.run(work)

    async def work_queue(self, limit: int, *, after: str = "") -> list[Any]:
        """Rows with index work to do, in id order, after the id `after`."""
        return await self._db.all(select(F).where(F.c.index_state.in_(("pending", "delete", "purge")), F.c.id > after)
                                  .order_by(F.c.id).limit(limit))

    async def settle(self, ids: Sequence[str], *, was: str, now_state: str) -> None:
        """Record index work as done, only where the row is still in the state the work was for (a fact archived
        while it was being embedded keeps its `delete`)."""
        if not ids:
            return

        def work(conn: Connection) -> None:
            if now_state == "gone":
                conn.execute(delete(F).where(F.c.id.in_(list(ids)), F.c.index_state == was))
            else:
                conn.execute(update(F).where(F.c.id.in_(list(ids)), F.c.index_state == was)
                             .values(index_state=now_state))

        await self._db.run(work)

    async def has_indexed(self) -> bool:
        return await self._db.one(select(F.c.id).where(F.c.index_state == "indexed").limit(1)) is not None

    async def requeue_all(self) -> int:
        """Mark every active fact for indexing again (after the index was lost)."""

        def work(conn: Connection) -> int:
            done = conn.execute(update(F).where(F.c.archived == 0).values(index_state="pending"))
            conn.execute(update(F).where(F.c.archived == 1, F.c.index_state != "purge").values(index_state="none"))
            return done.rowcount or 0

        return await self._db.run(work)


class _Row:
    """A dict seen as a row, so a freshly inserted fact goes through the same `_fact`."""

    def __init__(self, mapping: dict[str, Any]) -> None:
        self._mapping = mapping


