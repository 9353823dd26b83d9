"""Files that came with a mail: kept on disk before the mail is accepted, so a turn re-run after a crash still
has them, and handed to the attachment route (knowledge) through `fetch_attachment`.

Mail arrives with its files inline (SMTP's MIME parts, Postmark's base64), unlike Telegram or Slack where a
file is fetched later by id. So the bytes are written once to `THINKLIO_DATA_DIR/mail/attachments/`, named by
their SHA-256 (a redelivered mail writes nothing new), and the message's attachment `ref` is that name.

Only documents go on to the attachment route: an image in a signature or a screenshot must not turn the
answer to the mail into "I couldn't read logo.png". What is not read (damaged, too large, too many, a type
that is not a document) is said in a note under the reply, and the rest of the mail is answered.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bot.errors import ThinklioError
from bot.messages import Attachment, too_large
from channels.email.mail import MailPart

# The types the knowledge reader takes (text, Markdown, PDF), by media type or by file name, because mail
# clients often say application/octet-stream.
DOCUMENT_TYPES = frozenset({"text/plain", "text/markdown", "text/x-markdown", "application/pdf"})
DOCUMENT_SUFFIXES = frozenset({".txt", ".text", ".md", ".markdown", ".pdf"})
REF_PREFIX = "mail-file:"


def is_document(part: MailPart) -> bool:
    return (part.media_type or "").lower() in DOCUMENT_TYPES or \
        PurePosixPath(part.name or "").suffix.lower() in DOCUMENT_SUFFIXES


def is_inline_image(part: MailPart) -> bool:
    """An image the HTML body shows (a logo, a signature): part of the text, not a file sent."""
    return bool(part.content_id) and (part.media_type or "").lower().startswith("image/")


@dataclass(frozen=True, slots=True)
class Kept:
    attachments: tuple[Attachment, ...]
    notes: tuple[str, ...]  # what was not read, and why, in the words of the reply


class FileStore:
    def __init__(self, folder: Path, *, max_files: int, max_bytes: int) -> None:
        self.folder = folder
        self._max_files = max_files
        self._max_bytes = max_bytes

    async def keep(self, parts: Sequence[MailPart]) -> Kept:
        """Write the documents among `parts` and say what was left out."""
        attachments: list[Attachment] = []
        notes: list[str] = []
        skipped: list[str] = []
        for part in parts:
            name = (part.name or "an attachment").strip()[:200]
            if part.error is not None:
                notes.append(f"I couldn't read '{name}': it arrived damaged ({part.error}).")
            elif is_inline_image(part):
                continue
            elif not is_document(part):
                notes.append(f"I didn't read '{name}': I read text, Markdown and PDF attachments only.")
            elif len(part.content) > self._max_bytes:
                notes.append(f"I didn't read '{name}': {too_large(self._max_bytes)}.")
            elif len(attachments) >= self._max_files:
                skipped.append(name)
            else:
                ref = await asyncio.to_thread(self._write, part.content)
                attachments.append(Attachment(ref, part.name, part.media_type, len(part.content)))
        if skipped:
            names = ", ".join(f"'{n}'" for n in skipped[:5]) + (" and more" if len(skipped) > 5 else "")
            notes.append(f"I read the first {self._max_files} attachments only; not {names}.")
        return Kept(tuple(attachments), tuple(notes))

    def _write(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.part")
            partial.write_bytes(data)
            os.replace(partial, path)  # never a half-written file under the final name
        return REF_PREFIX + digest

    def _path(self, digest: str) -> Path:
        return self.folder / digest[:2] / digest

    async def read(self, attachment: Attachment, *, limit: int) -> bytes:
        digest = attachment.ref.removeprefix(REF_PREFIX)
        if not attachment.ref.startswith(REF_PREFIX) or len(digest) != 64 or not digest.isalnum():
            raise ThinklioError("bad_request", "this file did not come by mail")
        path = self._path(digest)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise ThinklioError("bad_request", "the file is no longer kept; please send it again") from None
        if size > limit:
            raise ThinklioError("bad_request", too_large(limit))
        return await asyncio.to_thread(path.read_bytes)
