"""Documents: text, Markdown and PDF turned into chunks that are embedded and searched like facts.

Chunks are stored in SQL with the document, in one transaction, before anything is embedded; the index catches
up from their `index_state` (as for facts). A file that yields no text stores nothing and says why.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from bot.errors import ThinklioError
from bot.ids import new_id
from bot.store.database import Database
from knowledge import tables as kt
from knowledge.facts import Scopes
from knowledge.index import Partition

D, C = kt.knowledge_document, kt.knowledge_chunk
MEDIA_TYPES = {"text/plain": "text", "text/markdown": "markdown", "text/x-markdown": "markdown",
               "application/pdf": "pdf"}
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.MULTILINE)


def extract_text(data: bytes, kind: str) -> str:
    """The document's text; a clear `bad_request` when there is none to take."""
    if not data:
        raise ThinklioError("bad_request", "the document is empty")
    if kind == "pdf":
        return _pdf_text(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ThinklioError("bad_request", "a text or Markdown document must be UTF-8") from None
    if not text.strip():
        raise ThinklioError("bad_request", "the document has no text")
    return text


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError, PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ThinklioError("bad_request", f"the file is not a readable PDF ({exc})") from None
    text = "\n\n".join(pages)
    if not text.strip():
        raise ThinklioError("bad_request", "the PDF has no extractable text (is it scanned images, or empty?)")
    return text


def chunk_text(text: str, *, size: int, overlap: int = 100) -> list[str]:
    """Paragraph-packed chunks of about `size` characters; a paragraph longer than that is cut with overlap."""
    chunks: list[str] = []
    current = ""
    for paragraph in (p.strip() for p in re.split(r"\n\s*\n", text)):
        if not paragraph:
            continue
        paragraph = " ".join(paragraph.split())
        while len(paragraph) > size:
            cut = paragraph.rfind(" ", size // 2, size)
            cut = cut if cut > 0 else size
            if current:
                chunks.append(current)
                current = ""
            chunks.append(paragraph[:cut].strip())
            paragraph = paragraph[max(cut - overlap, 1):].strip()
        if current and len(current) + len(paragraph) + 2 > size:
            chunks.append(current)
            current = ""
        current = f"{current}\n\n{paragraph}" if current else paragraph
    if current:
        chunks.append(current)
    return chunks


def chunk_markdown(text: str, *, size: int) -> list[str]:
    """Chunks per section, each prefixed with its heading path, so a chunk found alone still says what it is
    about."""
    sections: list[tuple[str, str]] = []
    path: list[str] = []
    last = 0
    heading = ""
    for match in _HEADING.finditer(text):
        sections.append((heading, text[last:match.start()]))
        level = len(match.group(1))
        path = [*path[: level - 1], match.group(2)]
        heading = " > ".join(path)
        last = match.end()
    sections.append((heading, text[last:]))
    chunks: list[str] = []
    for title, body in sections:
        prefix = f"{title}: " if title else ""
        chunks.extend(prefix + chunk for chunk in chunk_text(body, size=max(size - len(prefix), 200)))
    return chunks


def chunks_of(data: bytes, kind: str, *, size: int) -> list[str]:
    text = extract_text(data, kind)
    chunks = chunk_markdown(text, size=size) if kind == "markdown" else chunk_text(text, size=size)
    if not chunks:
        raise ThinklioError("bad_request", "the document has no text")
    return chunks


@dataclass(frozen=True, slots=True)
class Document:
    id: str
    title: str
    media_type: str
    size_bytes: int
    chunks: int
    scope: str
    scope_id: str


@dataclass(frozen=True, slots=True)
class Chunk:
    id: str
    document_id: str
    title: str
    text: str


class DocumentStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, owner: Partition, *, title: str, media_type: str, data_size: int, chunks: Sequence[str],
                  now: datetime, replace_same_title: bool = False) -> tuple[Document, int]:
        """Store a document and its chunks; with `replace_same_title`, the owner's earlier documents of that title
        are archived in the same transaction (a file sent again is a new version). Returns how many were."""
        doc = Document(new_id("kdo"), title[:300], media_type, data_size, len(chunks), owner.scope, owner.scope_id)

        def work(conn: Connection) -> int:
            replaced = 0
            if replace_same_title:
                earlier = [r.id for r in conn.execute(select(D.c.id).where(
                    D.c.account_id == owner.account_id, D.c.scope == owner.scope, D.c.scope_id == owner.scope_id,
                    D.c.title == doc.title, D.c.archived == 0))]
                replaced = _archive(conn, earlier)
            conn.execute(D.insert(), {"id": doc.id, "account_id": owner.account_id, "scope": owner.scope,
                                      "scope_id": owner.scope_id, "title": doc.title, "media_type": media_type,
                                      "size_bytes": data_size, "chunks": len(chunks), "archived": 0,
                                      "created_at": now})
            conn.execute(C.insert(), [
                {"id": new_id("kch"), "document_id": doc.id, "account_id": owner.account_id, "scope": owner.scope,
                 "scope_id": owner.scope_id, "seq": seq, "text": text, "archived": 0, "index_state": "pending",
                 "created_at": now}
                for seq, text in enumerate(chunks)])
            return replaced

        return doc, await self._db.run(work)

    async def archive(self, scopes: Scopes, doc_ids: Sequence[str], *,
                      writable: Sequence[Partition]) -> list[Document]:
        """Archive the given documents the caller may see and change; their chunks' vectors are removed."""
        allowed = Scopes(scopes.account_id, tuple(writable))

        def work(conn: Connection) -> list[Document]:
            rows = conn.execute(select(D).where(D.c.id.in_(list(doc_ids)), D.c.archived == 0)).all()
            docs = [Document(r.id, r.title, r.media_type, r.size_bytes, r.chunks, r.scope, r.scope_id)
                    for r in rows if allowed.allows(r)]
            _archive(conn, [doc.id for doc in docs])
            return docs

        return await self._db.run(work)

    async def listed(self, scopes: Scopes) -> list[Document]:
        rows = await self._db.all(select(D).where(scopes.clause(D), D.c.archived == 0).order_by(D.c.created_at))
        return [Document(r.id, r.title, r.media_type, r.size_bytes, r.chunks, r.scope, r.scope_id) for r in rows]

    async def latest(self, owner: Partition, *, chunks: int) -> tuple[Document, list[str]] | None:
        """The owner's newest document and the text of its first `chunks` chunks, in order."""
        row = await self._db.one(select(D).where(D.c.account_id == owner.account_id, D.c.scope == owner.scope,
                                                 D.c.scope_id == owner.scope_id, D.c.archived == 0)
                                 .order_by(D.c.created_at.desc(), D.c.id.desc()).limit(1))
        if row is None:
            return None
        texts = await self._db.all(select(C.c.text).where(C.c.document_id == row.id, C.c.archived == 0)
                                   .order_by(C.c.seq).limit(chunks))
        doc = Document(row.id, row.title, row.media_type, row.size_bytes, row.chunks, row.scope, row.scope_id)
        return doc, [r.text for r in texts]

    async def by_ids(self, scopes: Scopes, ids: Sequence[str]) -> dict[str, Chunk]:
        if not ids:
            return {}
        rows = await self._db.all(
            select(C.c.id, C.c.document_id, C.c.text, D.c.title, C.c.account_id, C.c.scope, C.c.scope_id)
            .join(D, D.c.id == C.c.document_id)
            .where(C.c.id.in_(list(ids)), C.c.archived == 0, D.c.archived == 0))  # scopes: see FactStore.by_ids
        return {r.id: Chunk(r.id, r.document_id, r.title, r.text) for r in rows if scopes.allows(r)}

    async def work_queue(self, limit: int, *, after: str = "") -> list[Any]:
        """Rows with index work to do, in id order, after the id `after`."""
        return await self._db.all(select(C).where(C.c.index_state.in_(("pending", "delete", "purge")), C.c.id > after)
                                  .order_by(C.c.id).limit(limit))

    async def settle(self, ids: Sequence[str], *, was: str, now_state: str) -> None:
        if not ids:
            return

        def work(conn: Connection) -> None:
            if now_state == "gone":
                doc_ids = [r.document_id for r in conn.execute(
                    select(C.c.document_id).where(C.c.id.in_(list(ids))).distinct())]
                conn.execute(C.delete().where(C.c.id.in_(list(ids)), C.c.index_state == was))
                for doc_id in doc_ids:  # a document goes with its last chunk
                    if conn.execute(select(C.c.id).where(C.c.document_id == doc_id).limit(1)).first() is None:
                        conn.execute(D.delete().where(D.c.id == doc_id))
            else:
                conn.execute(update(C).where(C.c.id.in_(list(ids)), C.c.index_state == was)
                             .values(index_state=now_state))

        await self._db.run(work)

    async def mark_user_for_purge(self, user_id: str) -> list[Partition]:
        def work(conn: Connection) -> list[Partition]:
            rows = conn.execute(select(D.c.account_id).where(D.c.scope == "user", D.c.scope_id == user_id)
                                .distinct()).all()
            conn.execute(update(C).where(C.c.scope == "user", C.c.scope_id == user_id).values(index_state="purge"))
            conn.execute(update(D).where(D.c.scope == "user", D.c.scope_id == user_id).values(archived=1))
            return [Partition(row.account_id, "user", user_id) for row in rows]

        return await self._db.run(work)

    async def remove_empty_of_user(self, user_id: str) -> None:
        def work(conn: Connection) -> None:
            empty = ~select(C.c.id).where(C.c.document_id == D.c.id).exists()
            conn.execute(D.delete().where(D.c.scope == "user", D.c.scope_id == user_id, empty))

        await self._db.run(work)

    async def requeue_all(self) -> None:
        def work(conn: Connection) -> None:
            conn.execute(update(C).where(C.c.archived == 0, C.c.index_state != "purge").values(index_state="pending"))

        await self._db.run(work)


def _archive(conn: Connection, doc_ids: Sequence[str]) -> int:
    if doc_ids:
        conn.execute(update(D).where(D.c.id.in_(list(doc_ids))).values(archived=1))
        conn.execute(update(C).where(C.c.document_id.in_(list(doc_ids)), C.c.archived == 0)
                     .values(archived=1, index_state="delete"))
    return len(doc_ids)


def chunk_metadata(row: Any) -> dict[str, Any]:
    return {"kind": "chunk", "account_id": row.account_id, "scope": row.scope, "scope_id": row.scope_id}
