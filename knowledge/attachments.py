"""Documents sent as files in chat (Telegram now, email when it lands): read into the sender's own knowledge.

A file alone gets a reply saying what was read. A file with a caption ("what does this say about refunds?") is
read and indexed first, then the caption goes on to triage and the harness, which find the new passages. A
file sent again under the same name replaces the earlier copy, so a re-run after a crash stores it once too.
Every file that cannot be read is named in the reply with the reason, and nothing of it is stored.
"""

from __future__ import annotations

import time
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

import structlog

from bot.errors import ThinklioError
from bot.i18n import N_, _, ngettext
from bot.messages import Attachment, too_large
from bot.pipeline import Pipeline
from bot.turn import Reply, Turn
from knowledge.documents import MEDIA_TYPES, Document, chunks_of
from knowledge.handlers import own_partition
from knowledge.index import Partition
from knowledge.teams import CAPTION, TeamLookup, writable_team

if TYPE_CHECKING:
    from knowledge.service import Knowledge

log = structlog.get_logger("thinklio.knowledge")

READABLE = N_("text (.txt), Markdown (.md) and PDF files")
_BY_SUFFIX = {".txt": "text/plain", ".text": "text/plain", ".md": "text/markdown", ".markdown": "text/markdown",
              ".pdf": "application/pdf"}


def media_type_of(attachment: Attachment) -> str | None:
    """What the channel says, else what the file name says (phones often send octet-stream)."""
    if attachment.media_type in MEDIA_TYPES:
        return attachment.media_type
    return _BY_SUFFIX.get(PurePosixPath(attachment.name or "").suffix.lower())


def attachment_reader(knowledge: Knowledge, pipeline: Pipeline, teams: TeamLookup):  # type: ignore[no-untyped-def]
    settings = knowledge.settings

    async def read_one(turn: Turn, attachment: Attachment, owner: Partition) -> tuple[Document, int]:
        media_type = media_type_of(attachment)
        if media_type is None:
            raise ThinklioError("bad_request", _("I can read {kinds}").format(kinds=_(READABLE)))
        limit = settings.knowledge_max_document_bytes
        if attachment.size is not None and attachment.size > limit:
            raise ThinklioError("bad_request", too_large(limit))
        data = await pipeline.outlets.fetch_attachment(turn, attachment, limit=limit)
        chunks = chunks_of(data, MEDIA_TYPES[media_type], size=settings.knowledge_chunk_chars)
        return await knowledge.documents.add(owner, title=(attachment.name or "document").strip(),
                                             media_type=media_type, data_size=len(data), chunks=chunks,
                                             now=knowledge.clock.now(), replace_same_title=True)

    async def read(turn: Turn) -> Reply | None:
        done: list[str] = []
        problems: list[str] = []
        owner, where = own_partition(turn), ""
        if (caption := CAPTION.match(turn.text)) is not None:  # "scope team[:SLUG]": the files are the team's
            try:
                owner = await writable_team(turn, teams, caption.group(1))
            except ThinklioError as exc:
                turn.record("document", "scope team", status="denied", error=exc.message[:500])
                return Reply(_("I haven't read the file: {reason}").format(reason=exc.message), tier="triage",
                             intent="document",
                             error_code=exc.code)
            where = _(" for the team")
            # The rest of the caption, if any, is the question that goes on to triage and the model.
            turn.text = caption.group(2).strip()
        for attachment in turn.attachments:
            title = (attachment.name or _("the file")).strip()[:300]
            started = time.perf_counter()
            try:
                doc, replaced = await read_one(turn, attachment, owner)
            except ThinklioError as exc:
                turn.record("document", title[:64], status="error", started=started, error=exc.message[:500])
                problems.append(_("I couldn't read '{title}': {reason}.").format(title=title, reason=exc.message))
                continue
            except Exception as exc:  # the channel's download failed (network, the file expired)
                log.warning("attachment_fetch_failed", title=title, error=str(exc))
                turn.record("document", title[:64], status="error", started=started, error=str(exc)[:500])
                problems.append(_("I couldn't download '{title}'; please send it again.").format(title=title))
                continue
            turn.record("document", title[:64], started=started,
                        detail={"document_id": doc.id, "parts": doc.chunks, "replaced": replaced})
            read = ngettext("I've read '{title}'{where}: {n} part.", "I've read '{title}'{where}: {n} parts.",
                            doc.chunks)
            if replaced:
                read = ngettext("I've read '{title}'{where} (it replaces the copy you sent before): {n} part.",
                                "I've read '{title}'{where} (it replaces the copy you sent before): {n} parts.",
                                doc.chunks)
            done.append(read.format(title=doc.title, where=where, n=doc.chunks))
        if done and not problems and turn.text.strip():
            await knowledge.sync()  # indexed before the caption is answered, so the answer can use it
            return None
        if done:
            knowledge.kick()
            done.append(_("Ask me about it any time; /knowledge lists what I have."))
        return Reply("\n".join([*done, *problems]), tier="triage", intent="document",
                     error_code=None if done else "bad_attachment")

    return read
