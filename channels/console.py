"""The console channel: `python run.py chat` talks to the same pipeline and store, in-process.

Each line on stdin is one message; each reply is printed on stdout. On a terminal there is a prompt, a
"thinking" line while the model works and its answer as it is written, and a reminder that arrives while you
type is printed above a fresh prompt; through a pipe there is nothing but the replies, so scripts (and tests)
can drive it. `/file PATH [caption]` sends a local file with the message, as a document sent to a chat bot is.
"""

from __future__ import annotations

import asyncio
import getpass
import mimetypes
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, TextIO

from aiohttp import web

from bot.errors import ThinklioError
from bot.messages import Attachment, InboundMessage, OutboundMessage, Sender, too_large
from bot.services import Services
from channels.base import BaseChannel, ChannelSpec
from config.catalogue import ChannelSeed

CHANNEL_SLUG = "console"
QUIT = frozenset({"/quit", "/exit"})
FILE_COMMAND = "/file"
PROMPT = "you> "
THINKING = "… thinking"
# `run.py chat` builds it; a server does not start it.
CHANNEL = ChannelSpec(type="console", adapter="channels.console:ConsoleChannel", enabled=lambda _: False,
                      seeds=(ChannelSeed(slug="console", type="console", agent="assistant"),))
THINKING_AFTER = 0.3  # seconds: quicker answers need no indicator
CLEAR_LINE = "\r\x1b[K"


class ConsoleChannel(BaseChannel):
    type: ClassVar[str] = "console"

    def __init__(self, services: Services, web_app: web.Application, *, user: str | None = None,
                 stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
        self._s = services
        self._user = user or getpass.getuser()
        self._stdin = stdin or sys.stdin
        self._stdout = stdout or sys.stdout
        self._interactive = self._stdin.isatty() and self._stdout.isatty()
        self._lines = 0
        self._at_prompt = False  # waiting for the user's next line
        self._thinking = False  # the indicator is on the screen
        self._shown: dict[str, str] = {}  # interaction -> the draft printed so far

    def health(self) -> dict[str, Any]:
        return {"status": "running", "messages": self._lines}

    async def deliver(self, message: OutboundMessage) -> None:
        shown = self._shown.pop(message.interaction_id or "", None)
        self._clear_thinking()
        if shown is not None:
            # The draft is already on the screen: finish it, or start the final text on a line of its own.
            rest = message.text[len(shown):] if message.text.startswith(shown) else "\n" + message.text
            self._write(rest)
        elif self._at_prompt:  # a reminder while the user is typing: above a fresh prompt
            self._stdout.write(CLEAR_LINE)
            self._write(message.text)
            self._stdout.write(PROMPT)
            self._stdout.flush()
        else:
            self._write(message.text)

    def draft(self, message: OutboundMessage) -> Callable[[str], None] | None:
        """On a terminal, the answer appears as the model writes it."""
        if not self._interactive or not message.interaction_id:
            return None
        key = message.interaction_id

        def grew(text: str) -> None:
            shown = self._shown.get(key, "")
            if not text.startswith(shown):
                return  # the model started over (a tool call came between): the final reply says it all
            self._clear_thinking()
            self._stdout.write(text[len(shown):])
            self._stdout.flush()
            self._shown[key] = text

        return grew

    def _clear_thinking(self) -> None:
        if self._thinking:
            self._stdout.write(CLEAR_LINE)
            self._stdout.flush()
            self._thinking = False

    async def _show_thinking(self) -> None:
        await asyncio.sleep(THINKING_AFTER)
        if not self._shown:
            self._stdout.write(THINKING)
            self._stdout.flush()
            self._thinking = True

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
                self._stdout.write(PROMPT)
                self._stdout.flush()
            self._at_prompt = True
            line = await asyncio.to_thread(self._stdin.readline)
            self._at_prompt = False
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
            thinking = asyncio.create_task(self._show_thinking()) if self._interactive else None
            try:
                await self._s.pipeline.handle(inbound)
            except ThinklioError as error:
                self._write(f"[{error.code}] {error.message}")
            finally:
                if thinking is not None:
                    thinking.cancel()
                self._clear_thinking()


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
