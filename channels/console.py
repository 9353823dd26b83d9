"""The console channel: `python run.py chat` talks to the same pipeline and store, in-process.

Each line on stdin is one message; each reply is printed on stdout. On a terminal there is a prompt; through
a pipe there is nothing but the replies, so scripts (and tests) can drive it. `/file PATH [caption]` sends a
local file with the message, as a document sent to a chat bot is sent.
"""

from __future__ import annotations

import asyncio
import getpass
import mimetypes
import shlex
import sys
from pathlib import Path
from typing import Any, ClassVar, TextIO

from aiohttp import web

from bot.errors import ThinklioError
from bot.messages import Attachment, InboundMessage, OutboundMessage, Sender, too_large
from bot.services import Services

CHANNEL_SLUG = "console"
QUIT = frozenset({"/quit", "/exit"})
FILE_COMMAND = "/file"


class ConsoleChannel:
    type: ClassVar[str] = "console"

    def __init__(self, services: Services, web_app: web.Application, *, user: str | None = None,
                 stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
        self._s = services
        self._user = user or getpass.getuser()
        self._stdin = stdin or sys.stdin
        self._stdout = stdout or sys.stdout
        self._interactive = self._stdin.isatty() and self._stdout.isatty()
        self._lines = 0

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def health(self) -> dict[str, Any]:
        return {"status": "running", "messages": self._lines}

    async def deliver(self, message: OutboundMessage) -> None:
        self._write(message.text)

    async def fetch_attachment(self, attachment: Attachment, *, limit: int) -> bytes:
        path = Path(attachment.ref)
        if path.stat().st_size > limit:
            raise ThinklioError("bad_request", too_large(limit))
        return await asyncio.to_thread(path.read_bytes)

    def _write(self, text: str) -> None:
        self._stdout.write(text.rstrip("\n") + "\n")
        self._stdout.flush()

    async def run(self) -> None:
        """Read lines until EOF or /quit, one message at a time, each answered before the next is read."""
        if self._interactive:
            self._write("Thinklio console. Type a message, /help for commands, /quit to leave.")
        while True:
            if self._interactive:
                self._stdout.write("you> ")
                self._stdout.flush()
            line = await asyncio.to_thread(self._stdin.readline)
            if not line:
                return
            text = line.strip()
            if not text:
                continue
            if text.lower() in QUIT:
                return
            self._lines += 1
            try:
                text, attachments = _with_file(text)
            except ValueError as error:
                self._write(f"[bad_request] {error}")
                continue
            inbound = InboundMessage(channel=CHANNEL_SLUG, sender=Sender(self._user, self._user), text=text,
                                     attachments=attachments)
            try:
                await self._s.pipeline.handle(inbound)
            except ThinklioError as error:
                self._write(f"[{error.code}] {error.message}")


def _with_file(text: str) -> tuple[str, tuple[Attachment, ...]]:
    """`/file PATH [caption]` -> (caption, the file as an attachment); any other line as it is."""
    if text.split(maxsplit=1)[0].lower() != FILE_COMMAND:
        return text, ()
    rest = text[len(FILE_COMMAND):].strip()
    try:
        words = shlex.split(rest)
    except ValueError:
        words = rest.split()
    if not words:
        raise ValueError("usage: /file PATH [caption] (quote a path with spaces)")
    path = Path(words[0]).expanduser().resolve()
    if not path.is_file():
        raise ValueError(f"there is no file {words[0]!r}")
    caption = " ".join(words[1:])
    return caption, (Attachment(str(path), path.name, mimetypes.guess_type(path.name)[0], path.stat().st_size),)
