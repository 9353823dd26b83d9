"""Long answers in Telegram while the model writes them: one message, sent once the answer is worth showing,
edited as it grows, and at the end edited into the reply itself (the channel's `deliver` does that part).

Telegram allows about one edit a second per chat and answers 429 with a wait beyond that, so requests for
drafts are paced per chat and coalesced: the model's callback only records the latest text (it must never wait
on Telegram) and starts one worker per answer, which sends whatever the text is when its turn comes. Nothing
queues: a draft that cannot keep up skips to the latest text. Drafts are plain text (a parse mode could fail on
the half-written markup of an answer) and stop growing at Telegram's 4,096 limit; the reply's own parts follow.

A draft's first send is never retried after a timeout or a network error (it may have arrived, and a second
message would be left behind half-written); only a 429 (which means "not sent") is tried again. Edits are
idempotent, so those are.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

import structlog
from aiogram import Bot

from bot.cache import LRU
from bot.messages import OutboundMessage
from channels.telegram.inbound import Target
from channels.telegram.outbound import LIMIT, split_text, utf16_len
from channels.telegram.sender import Result, edit_text, send_text

log = structlog.get_logger("thinklio.telegram")

MIN_CHARS = 40  # shorter answers arrive whole; a draft of a few words is only flicker
MIN_WAIT = 1.5  # ... unless the model has been writing this long (seconds since its first words)
INTERVAL = 1.0  # seconds between draft requests in one chat (Telegram: about one edit a second per chat)
MAX_DRAFTS = 1_000  # answers drafted at once; past it the oldest is no longer updated (its reply still lands)
MAX_FAILURES = 3  # failed edits of one draft before it is left as it is

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
Locate = Callable[[OutboundMessage], Awaitable[Target]]  # where the reply to a message goes
MaySend = Callable[[Target], bool]  # whether anything may go to that chat now (not blocked, nothing queued)


@dataclass(frozen=True, slots=True)
class Shown:
    """A draft on the screen: the message and the text it shows."""

    target: Target
    message_id: int
    text: str


class _Draft:
    """One answer's draft. The model's callback writes `latest`; only the worker talks to Telegram."""

    __slots__ = ("failures", "first_at", "full", "latest", "message", "over", "sending", "shown", "target", "task")

    def __init__(self, message: OutboundMessage) -> None:
        self.message = message
        self.latest = ""  # the answer so far, as the model gave it
        self.first_at: float | None = None
        self.target: Target | None = None
        self.shown: Shown | None = None
        self.task: asyncio.Task[None] | None = None
        self.sending = False  # a request is under way: finishing waits for it rather than cancel it
        self.over = False  # the reply is being delivered, or drafting gave up: nothing more is sent
        self.full = False  # the draft reached Telegram's limit and stops growing
        self.failures = 0


class Drafts:
    def __init__(self, bot: Bot, *, timeout: float, locate: Locate, may_send: MaySend,
                 clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep, interval: float = INTERVAL,
                 min_chars: int = MIN_CHARS, min_wait: float = MIN_WAIT) -> None:
        self._bot = bot
        self._timeout = timeout
        self._locate = locate
        self._may_send = may_send
        # Public so tests can run the pacing on a clock of their own.
        self.clock = clock
        self.sleep = sleep
        self.interval = interval
        self.min_chars = min_chars
        self.min_wait = min_wait
        self._drafts: dict[str, _Draft] = {}  # interaction -> its draft, oldest first
        self._next: LRU[int, float] = LRU(10_000)  # chat -> when the next request for a draft may go

    def __len__(self) -> int:
        return len(self._drafts)

    @property
    def busy(self) -> bool:
        """Whether a request for some draft is under way."""
        return any(draft.sending for draft in self._drafts.values())

    def start(self, message: OutboundMessage) -> Callable[[str], None] | None:
        """The callback the model's answer so far goes to; it returns at once, whatever Telegram is doing."""
        key = message.interaction_id
        if not key:
            return None
        draft = _Draft(message)

        def grew(text: str) -> None:
            if draft.over or draft.full:
                return
            draft.latest = text
            if draft.first_at is None:
                draft.first_at = self.clock()
            if self._drafts.get(key) is not draft:
                self._admit(key, draft)
            if draft.task is None or draft.task.done():
                if draft.shown is None and not self._worth_showing(draft):
                    return
                draft.task = asyncio.get_running_loop().create_task(self._pump(draft))

        return grew

    async def finish(self, interaction_id: str) -> Shown | None:
        """The reply is here: stop drafting it, and say which message shows the draft (None: none was sent).
        A request under way is waited for, so a draft being sent right now is not left behind."""
        draft = self._drafts.pop(interaction_id, None)
        if draft is None:
            return None
        draft.over = True
        task = draft.task
        if task is not None and not task.done():
            if not draft.sending:
                task.cancel()  # only waiting for its turn: nothing is lost
            await asyncio.wait((task,))
        return draft.shown

    def forget(self, interaction_id: str) -> None:
        """The turn is over without a reply to put in place (or it was delivered): let its draft go."""
        draft = self._drafts.pop(interaction_id, None)
        if draft is None:
            return
        draft.over = True
        if draft.task is not None and not draft.sending:
            draft.task.cancel()

    def close(self) -> None:
        for key in list(self._drafts):
            self.forget(key)

    async def replace(self, shown: Shown, text: str, *, attempts: int, max_wait: float) -> Result:
        """Edit the draft into (the first part of) the reply, in the chat's pace, waiting out short flood waits;
        a longer wait comes back as `retry` with its `retry_after`. `failed`: the draft is gone (deleted, too
        old to edit) and the reply must be sent as a new message."""
        if text == shown.text:
            return Result("sent", message_id=shown.message_id)
        chat_id = shown.target.chat_id
        result = Result("retry")
        for _ in range(attempts):
            wait = self._wait(chat_id)
            if wait > max_wait:
                return Result("retry", retry_after=wait, error=result.error or "waiting for Telegram's flood limit")
            if wait > 0:
                await self.sleep(wait)
            result = await edit_text(self._bot, chat_id, shown.message_id, text, timeout=self._timeout)
            self._paced(chat_id, result)
            if result.verdict != "retry":
                return result
        return result

    # the worker -----------------------------------------------------------------------------------------------

    def _admit(self, key: str, draft: _Draft) -> None:
        earlier = self._drafts.get(key)
        if earlier is not None:
            self.forget(key)
        while len(self._drafts) >= MAX_DRAFTS:
            self.forget(next(iter(self._drafts)))
        self._drafts[key] = draft

    def _worth_showing(self, draft: _Draft) -> bool:
        started = draft.first_at if draft.first_at is not None else self.clock()
        return len(draft.latest.strip()) >= self.min_chars or self.clock() - started >= self.min_wait

    async def _pump(self, draft: _Draft) -> None:
        try:
            while not draft.over:
                if draft.target is None:
                    draft.sending = True  # the reply's address may need the database: let finishing wait
                    try:
                        draft.target = await self._locate(draft.message)
                    finally:
                        draft.sending = False
                    continue
                wait = self._wait(draft.target.chat_id)
                if wait > 0:
                    await self.sleep(wait)  # meanwhile the text grows; the latest is what goes
                    continue
                text = self._cut(draft)
                if not text or (draft.shown is not None and text == draft.shown.text):
                    return  # the next growth starts the worker again
                if draft.shown is None and not self._may_send(draft.target):
                    draft.over = True  # replies are queued for this chat (or it blocked the bot): no drafts
                    return
                draft.sending = True
                try:
                    result = await self._show(draft, text)
                finally:
                    draft.sending = False
                self._paced(draft.target.chat_id, result)
                self._settle(draft, text, result)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("telegram_draft_failed", interaction_id=draft.message.interaction_id)
            draft.over = True

    async def _show(self, draft: _Draft, text: str) -> Result:
        assert draft.target is not None
        if draft.shown is None:
            return await send_text(self._bot, draft.target, text, timeout=self._timeout)
        return await edit_text(self._bot, draft.shown.target.chat_id, draft.shown.message_id, text,
                               timeout=self._timeout)

    def _settle(self, draft: _Draft, text: str, result: Result) -> None:
        """What one request for the draft came to: shown, try again in the chat's pace, or stop drafting."""
        assert draft.target is not None
        if result.verdict == "sent" and draft.shown is None and result.message_id is not None:
            target = draft.target if result.migrated_to is None else Target(result.migrated_to)
            draft.shown = Shown(target, result.message_id, text)
        elif result.verdict == "sent" and draft.shown is not None:
            draft.shown = replace(draft.shown, text=text)
        elif draft.shown is None and result.retry_after is None:
            draft.over = True  # it may have arrived after all: never a second draft message
        elif result.verdict == "retry":
            draft.failures += 1
            draft.over = draft.failures >= MAX_FAILURES
        else:
            draft.over = True  # deleted, refused: the reply goes out by itself
        if draft.over:
            log.info("telegram_draft_stopped", interaction_id=draft.message.interaction_id, error=result.error)

    def _cut(self, draft: _Draft) -> str:
        text = draft.latest.strip()
        if utf16_len(text) > LIMIT:
            draft.full = True
            return split_text(text)[0]
        return text

    def _wait(self, chat_id: int) -> float:
        due = self._next.get(chat_id)
        return 0.0 if due is None else max(0.0, due - self.clock())

    def _paced(self, chat_id: int, result: Result) -> None:
        """The next request to the chat waits the interval, or the flood wait Telegram asked for."""
        self._next.put(chat_id, self.clock() + max(self.interval, result.retry_after or 0.0))
