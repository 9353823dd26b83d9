"""The knowledge service: one object the handlers, tools, commands, API and CLI share.

Consistency between SQL and the index: a write commits the row with `index_state` (pending, delete or purge) in
the same transaction as the fact itself; the index is updated afterwards and the state settled. A crash between
the two leaves the state in SQL, and `sync()` (run at start-up and after every write) finishes the work: pending
rows are embedded and upserted (idempotent by id), deleted ones have their vectors removed, purged ones are then
removed from SQL. Search results are always re-read from SQL through the caller's scopes, so a vector that
outlived its row (or sits in a wrong partition) is never shown.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from bot.clock import Clock
from bot.store.database import Database
from knowledge.documents import DocumentStore, chunk_metadata
from knowledge.embeddings import Embedder
from knowledge.facts import Fact, FactStore, Scopes
from knowledge.index import Partition, VectorIndex
from knowledge.settings import KnowledgeSettings

log = structlog.get_logger("thinklio.knowledge")
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Hit:
    id: str
    kind: str  # fact | chunk
    text: str
    score: float  # cosine similarity
    fact: Fact | None = None
    title: str | None = None


def _partition(row: Any) -> Partition:
    return Partition(row.account_id, row.scope, row.scope_id)


def fact_text(row: Any) -> str:
    return f"{row.subject} {row.predicate} {row.value}"


class Knowledge:
    def __init__(self, db: Database, clock: Clock, settings: KnowledgeSettings, *, index: VectorIndex | None = None,
                 embedder: Embedder | None = None) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.facts = FactStore(db)
        self.documents = DocumentStore(db)
        self.index = index or VectorIndex(path=settings.data_dir / "chroma", url=settings.chroma_url,
                                          shards=settings.knowledge_index_shards)
        self.embedder = embedder or Embedder(cache_dir=settings.resolved_model_cache_dir,
                                             batch_size=settings.knowledge_embed_batch)
        self._sync_lock = asyncio.Lock()
        self._background: set[asyncio.Task[Any]] = set()

    async def populated(self, scopes: Scopes) -> list[Partition]:
        """The caller's partitions that hold any active fact or document: one plain query of index seeks, asked
        on every harness turn. Most users have no knowledge (then the model is never loaded), and a search skips
        the empty partitions instead of paying a Chroma query for each."""
        params: dict[str, Any] = {"account": scopes.account_id}
        selects: list[str] = []
        partitions = [p for p in scopes.partitions if p.account_id == scopes.account_id]
        for n, partition in enumerate(partitions):
            params[f"s{n}"], params[f"i{n}"] = partition.scope, partition.scope_id
            where = f"account_id = :account AND scope = :s{n} AND scope_id = :i{n} AND NOT archived"
            selects.append(f"SELECT {n} AS n WHERE EXISTS (SELECT 1 FROM knowledge_fact WHERE {where}) "
                           f"OR EXISTS (SELECT 1 FROM knowledge_document WHERE {where})")
        if not selects:
            return []
        rows = await self.db.fetch_rows(" UNION ALL ".join(selects), params)
        return [partitions[row[0]] for row in rows]

    # index upkeep ------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Finish index work a crash left behind; rebuild when the index is gone but SQL says it was built."""
        if await self.facts.has_indexed() and await self.index.is_empty():
            log.warning("knowledge_index_missing", action="reindex")
            await self.reindex()
            return
        await self.sync()
        if await self.facts.has_indexed():  # someone will ask: load the model now, not in their first turn
            self._spawn(self.embedder.warm())
            self._spawn(self.index.warm())
        else:  # a first start: export the model now, not in the first "remember"
            self._spawn(self.embedder.prepare())

    async def stop(self) -> None:
        await asyncio.gather(*list(self._background), return_exceptions=True)
        await self.index.close()
        self.embedder.close()

    def kick(self) -> None:
        """Sync in the background (documents: the upload answers before every chunk is embedded)."""
        self._spawn(self.sync())

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            # The rows keep their index_state: the next sync (or start-up) finishes the work.
            log.warning("knowledge_background_failed", error=str(error))

    async def drain(self) -> None:
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def sync(self, *, batch: int = 2000, progress: Progress | None = None, total: int = 0) -> int:
        """Apply every queued index change; returns how many rows were settled.

        Two stages overlap: while the index writes one batch (Chroma keeps about 1.3 of 2 cores busy), the next
        batch is read and embedded. Rows are taken in id order after the last one taken, because the batch in
        flight is not settled yet; anything queued behind the cursor meanwhile is left for the next sync."""
        done = 0
        async with self._sync_lock:
            writing: asyncio.Future[int] | None = None
            after_fact = after_chunk = ""
            try:
                while True:
                    facts = await self.facts.work_queue(batch, after=after_fact)
                    chunks = await self.documents.work_queue(batch, after=after_chunk)
                    if not facts and not chunks:
                        break
                    after_fact = facts[-1].id if facts else after_fact
                    after_chunk = chunks[-1].id if chunks else after_chunk
                    embedded = (await self._embed(facts, fact_text), await self._embed(chunks, lambda r: r.text))
                    if writing is not None:
                        done += await writing
                        if progress is not None:
                            progress(done, total)
                    writing = asyncio.ensure_future(self._write(facts, embedded[0], chunks, embedded[1]))
                if writing is not None:
                    done += await writing
                    if progress is not None:
                        progress(done, total)
            finally:
                if writing is not None and not writing.done():  # an embedding failed: let the write finish
                    await asyncio.gather(writing, return_exceptions=True)
        return done

    async def _embed(self, rows: Sequence[Any], text: Callable[[Any], str]) -> list[list[float]]:
        return await self.embedder.embed([text(r) for r in rows if r.index_state == "pending"])

    async def _write(self, facts: Sequence[Any], fact_vectors: list[list[float]], chunks: Sequence[Any],
                     chunk_vectors: list[list[float]]) -> int:
        await self._apply(facts, fact_vectors, lambda r: {"kind": "fact", "account_id": r.account_id,
                                                          "scope": r.scope, "scope_id": r.scope_id},
                          self.facts.settle)
        await self._apply(chunks, chunk_vectors, chunk_metadata, self.documents.settle)
        return len(facts) + len(chunks)

    async def _apply(self, rows: Sequence[Any], vectors: list[list[float]], meta: Callable[[Any], dict[str, Any]],
                     settle: Callable[..., Any]) -> None:
        pending = [r for r in rows if r.index_state == "pending"]
        if pending:
            await self.index.upsert([(_partition(r), r.id, vector, meta(r))
                                     for r, vector in zip(pending, vectors, strict=True)])
            await settle([r.id for r in pending], was="pending", now_state="indexed")
        for state, after in (("delete", "none"), ("purge", "gone")):
            gone = [r for r in rows if r.index_state == state]
            if gone:
                await self.index.delete([(_partition(r), r.id) for r in gone])
                await settle([r.id for r in gone], was=state, now_state=after)

    async def reindex(self, progress: Progress | None = None) -> int:
        """Rebuild the index from SQL: drop our collections, queue every active row, embed them all."""
        async with self._sync_lock:
            await self.index.reset()
            total = await self.facts.requeue_all()
            await self.documents.requeue_all()
        return await self.sync(progress=progress, total=total)

    # reads -------------------------------------------------------------------------------------------------

    async def search(self, scopes: Scopes, query: str, *, limit: int = 5, kinds: tuple[str, ...] = ("fact", "chunk"),
                     min_score: float = 0.0) -> list[Hit]:
        """Nearest facts and document chunks the caller may see, best first."""
        if not query.strip():
            return []
        partitions = await self.populated(scopes)
        if not partitions:
            return []
        vector = await self.embedder.embed_one(query)
        # Over-fetch: hits that SQL drops (archived since, other kind) must not starve the answer.
        found = await self.index.query(partitions, vector, limit * 2 + 4)
        fact_ids = [i for i, _ in found if i.startswith("kfa_")]
        chunk_ids = [i for i, _ in found if i.startswith("kch_")]
        facts = await self.facts.by_ids(scopes, fact_ids) if "fact" in kinds else {}
        chunks = await self.documents.by_ids(scopes, chunk_ids) if "chunk" in kinds else {}
        hits: list[Hit] = []
        for item_id, distance in found:
            score = 1.0 - distance
            if score < min_score:
                continue
            if (fact := facts.get(item_id)) is not None:
                hits.append(Hit(item_id, "fact", fact.text, score, fact=fact))
            elif (chunk := chunks.get(item_id)) is not None:
                hits.append(Hit(item_id, "chunk", chunk.text, score, title=chunk.title))
        return hits[:limit]

    # deletion (reference 19.6) -----------------------------------------------------------------------------

    async def delete_user(self, user_id: str) -> int:
        """Hard-delete a user's user-scoped facts, documents and their vectors, in every account."""
        partitions = await self.facts.mark_user_for_purge(user_id)
        partitions += await self.documents.mark_user_for_purge(user_id)
        settled = await self.sync()
        for partition in set(partitions):  # the whole partition is theirs: drop it, strays included
            await self.index.drop(partition)
        await self.documents.remove_empty_of_user(user_id)  # a document without chunks has no chunk to take it
        return settled

    async def user_counts(self, user_id: str) -> dict[str, int]:
        """The user's own facts and documents (what `delete_user` removes)."""
        rows = await self.db.fetch_rows(
            "SELECT (SELECT count(*) FROM knowledge_fact WHERE scope = 'user' AND scope_id = :u), "
            "(SELECT count(*) FROM knowledge_document WHERE scope = 'user' AND scope_id = :u)", {"u": user_id})
        return {"facts": int(rows[0][0]), "documents": int(rows[0][1])}
