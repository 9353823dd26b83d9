"""Long answers streamed into one Telegram message through the fake Bot API: one send, paced edits that end
with the reply, flood waits honoured, a deleted draft replaced by a fresh message, long replies split, short
ones sent as before.

Time here is virtual: the drafts' pacing and the model's pauses sleep on `VirtualTime`, which moves only when
nothing is being sent, straight to the next sleeper's deadline. The fake stamps each call with that time, so the
spacing of edits is checked exactly, and no test waits for a real second.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select, update

from agents.llm.base import ChatMessage, ChatResult, TextSink, ToolSpec, Usage
from bot.store import tables as t
from channels.telegram.channel import TelegramChannel
from channels.telegram.drafts import INTERVAL
from channels.telegram.inbound import Target
from channels.telegram.outbound import split_text
from channels.telegram.replies import MAX_INLINE_WAIT
from channels.telegram.sender import edit_text, send_text
from channels.telegram.webhook import PATH, SECRET_HEADER
from server.app import App
from server.settings import CHANNELS
from tests.conftest import make_settings
from tests.fakes.fake_telegram import (
    BOT_USERNAME,
    WEBHOOK_SECRET,
    Call,
    FakeTelegram,
    fake_telegram,  # noqa: F401  (a fixture)
    mention_entity,
    message_update,
    telegram_overrides,
    wait_for,
)
from tests.fakes.scripted_provider import ScriptedProvider

QUESTION = "please write me a short story about the sea"  # nothing triage answers: the harness (model) does
CHAT = 4242
STORY = " ".join(f"The sea rolled in, wave {n}, and the gulls called over the harbour." for n in range(1, 25))
LONG = "\n\n".join(f"Paragraph {n}. " + " ".join(["word"] * 300) for n in range(1, 8))  # four messages' worth


class VirtualTime:
    """A monotonic clock whose sleepers wake only when the test moves time on."""

    def __init__(self) -> None:
        self.now = 100.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        entry = (self.now + seconds, asyncio.get_running_loop().create_future())
        self._sleepers.append(entry)
        try:
            await entry[1]
        finally:
            self._sleepers.remove(entry)

    def advance(self) -> None:
        """To the earliest sleeper's deadline, waking everyone due by then."""
        waiting = [(due, future) for due, future in self._sleepers if not future.done()]
        if not waiting:
            return
        self.now = max(self.now, min(due for due, _ in waiting))
        for due, future in waiting:
            if due <= self.now:
                future.set_result(None)

    async def run_until(self, condition: Callable[[], bool], *, idle: Callable[[], bool],
                        message: str = "condition") -> None:
        """Let the loop work; whenever no request is under way, move time on. A bound on tries, not a timing."""
        for _ in range(5_000):
            if condition():
                return
            await asyncio.sleep(0.002)
            if idle():
                self.advance()
        raise AssertionError(f"never reached: {message}")


class StreamingProvider(ScriptedProvider):
    """Writes its answer in pieces, pausing (in virtual time) between them, as a model on a slow machine does.
    `streamed` is how much of it the callback sees (the rest arrives only with the result); `at` maps a piece's
    number to something to do once it was handed on."""

    def __init__(self, answer: str, *, piece: int = 30, pause: float = 0.25, streamed: int | None = None,
                 at: dict[int, Callable[[], None]] | None = None) -> None:
        super().__init__(lambda messages, tools: ChatResult(answer, (), Usage(10, 10), "scripted-model"))
        self.answer = answer
        self.piece = piece
        self.pause = pause
        self.streamed = len(answer) if streamed is None else streamed
        self.at = at or {}
        self.time = VirtualTime()
        self.finished = False

    async def chat(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = (), *,
                   on_text: TextSink | None = None, **options: Any) -> ChatResult:
        self.calls.append((list(messages), list(tools)))
        for number, end in enumerate(range(self.piece, self.streamed + self.piece, self.piece), start=1):
            if on_text is not None:
                on_text(self.answer[:min(end, self.streamed)])
            if number in self.at:
                self.at[number]()
            await self.time.sleep(self.pause)
        self.finished = True
        return ChatResult(self.answer, (), Usage(10, 10), "scripted-model")


class Chat:
    def __init__(self, app: App, client: TestClient, fake: FakeTelegram, provider: StreamingProvider) -> None:
        self.app = app
        self.client = client
        self.fake = fake
        self.provider = provider
        self.time = provider.time
        self.channel: TelegramChannel = next(iter(app.services.channels))  # type: ignore[assignment]
        self.channel.drafts.clock = self.time
        self.channel.drafts.sleep = self.time.sleep
        fake.clock = self.time

    async def ask(self, text: str = QUESTION, **update: Any) -> None:
        response = await self.client.post(PATH, data=json.dumps(message_update(text, **update)),
                                          headers={SECRET_HEADER: WEBHOOK_SECRET})
        assert response.status == 200

    async def until(self, condition: Callable[[], bool], message: str) -> None:
        await self.time.run_until(condition, idle=self._idle, message=message)

    def _idle(self) -> bool:
        """Time moves on only while nothing is being sent, and not between the model's end and the reply's
        delivery (the pipeline's own work takes real time, in which no virtual time may pass)."""
        drafts = self.channel.drafts
        return not drafts.busy and (not self.provider.finished or not drafts)

    async def answered(self, text: str, chat_id: int = CHAT) -> None:
        await self.until(lambda: self.provider.finished and self.fake.texts(chat_id) == [text]
                         and not self.channel.drafts, "the reply in place")
        await self.app.services.pipeline.drain()

    def drafting(self) -> list[Call]:
        """The requests that showed the answer: sends and edits, in order (failed ones too)."""
        return [c for c in self.fake.calls if c.method in ("sendMessage", "editMessageText")]

    def edits(self) -> list[Call]:
        return self.fake.called("editMessageText")


@pytest.fixture
def provider() -> StreamingProvider:
    return StreamingProvider(STORY)


@pytest.fixture
async def chat(tmp_path: Path, fake_telegram: FakeTelegram, aiohttp_client: Any,  # noqa: F811
               provider: StreamingProvider) -> AsyncIterator[Chat]:
    settings = make_settings(tmp_path / "var", **telegram_overrides(fake_telegram))
    app = App(settings, channels=CHANNELS.builder(("telegram",)), provider=provider)
    client = await aiohttp_client(app.web)
    yield Chat(app, client, fake_telegram, provider)


def spaced(calls: Sequence[Call], at_least: float) -> bool:
    return all(later.at - earlier.at >= at_least for earlier, later in itertools.pairwise(calls))


async def test_long_answer_streams_into_one_message(chat: Chat) -> None:
    await chat.ask()
    await chat.answered(STORY)
    assert len(chat.fake.sent(CHAT)) == 1  # one message, edited: never a second one for the reply
    edits = chat.edits()
    pieces = len(STORY) // chat.provider.piece
    streaming = pieces * chat.provider.pause  # seconds the model wrote for
    # Edits kept to Telegram's pace: coalesced, not one per piece the model wrote.
    assert 2 <= len(edits) <= streaming / INTERVAL + 2 < pieces
    assert spaced(chat.drafting(), INTERVAL)
    assert edits[-1].params["text"] == STORY
    for call in chat.drafting():
        assert STORY.startswith(call.params["text"]) and "parse_mode" not in call.params
        assert call.chat_id == CHAT
    assert chat.channel.health()["drafting"] == 0  # nothing kept once the reply is in place


async def test_final_reply_edits_the_draft_instead_of_sending_again(chat: Chat) -> None:
    chat.provider.streamed = 200  # the end of the answer arrives only with the result
    await chat.ask()
    await chat.answered(STORY)
    assert len(chat.fake.sent(CHAT)) == 1
    assert chat.edits()[-1].params["text"] == STORY
    assert all(len(c.params["text"]) <= 200 for c in chat.drafting()[:-1])


async def test_flood_wait_on_an_edit_is_honoured_and_the_reply_lands_once(chat: Chat) -> None:
    chat.provider.at[8] = lambda: chat.fake.fail("editMessageText", 429, retry_after=3)
    await chat.ask()
    await chat.answered(STORY)
    [refused] = chat.fake.refused
    assert refused.method == "editMessageText"
    calls = chat.drafting()
    after = calls[calls.index(refused) + 1]
    assert after.at - refused.at >= 3  # nothing more to the chat until the flood wait is over
    assert len(chat.fake.sent(CHAT)) == 1 and chat.fake.texts(CHAT) == [STORY]
    assert await chat.app.services.db.all(select(t.outbox)) == []


async def test_deleted_draft_falls_back_to_a_fresh_message(chat: Chat) -> None:
    def delete() -> None:
        [first] = chat.fake.message_ids(CHAT)
        chat.fake.delete_message(CHAT, first)

    chat.provider.at[20] = delete
    await chat.ask()
    await chat.answered(STORY)
    assert len(chat.fake.sent(CHAT)) == 2  # the draft (now deleted), then the reply by itself
    assert chat.fake.texts(CHAT) == [STORY]
    assert await chat.app.services.db.all(select(t.outbox)) == []


@pytest.mark.parametrize("provider", [StreamingProvider(LONG, piece=300)])
async def test_long_reply_fills_the_draft_then_follows_in_parts(chat: Chat) -> None:
    await chat.ask()
    parts = split_text(LONG)
    await chat.until(lambda: chat.fake.texts(CHAT) == parts, "the reply in four parts")
    await chat.app.services.pipeline.drain()
    assert len(parts) == 4 and "\n\n".join(parts) == LONG
    assert len(chat.fake.sent(CHAT)) == 4  # the draft became the first part; the rest were sent after it
    assert all(len(c.params["text"].encode("utf-16-le")) // 2 <= 4096 for c in chat.drafting())
    # The draft grew with the answer until it held the first part, then stopped.
    drafted = [c.params["text"] for c in chat.drafting()[:-3]]
    assert all(LONG.startswith(text) for text in drafted) and drafted[-1] == parts[0]
    assert drafted.count(parts[0]) == 1


@pytest.mark.parametrize("provider", [StreamingProvider("Sure, it is 4.", piece=5, pause=0.1)])
async def test_short_answer_is_sent_without_a_draft(chat: Chat) -> None:
    await chat.ask()
    await chat.answered("Sure, it is 4.")
    assert [c.method for c in chat.drafting()] == ["sendMessage"]


@pytest.mark.parametrize("provider", [StreamingProvider("Hmm. Let me think about it.", piece=4, pause=0.5)])
async def test_slow_short_answer_is_drafted_after_a_while(chat: Chat) -> None:
    await chat.ask()
    await chat.answered("Hmm. Let me think about it.")
    first = chat.drafting()[0]
    assert first.method == "sendMessage" and len(first.params["text"]) < chat.channel.drafts.min_chars
    assert len(chat.fake.sent(CHAT)) == 1 and chat.edits()


async def test_a_long_flood_wait_queues_the_edit_in_the_outbox(chat: Chat) -> None:
    chat.provider.streamed = 200
    chat.provider.at[6] = lambda: chat.fake.fail("editMessageText", 429, retry_after=int(MAX_INLINE_WAIT) + 20,
                                                 times=2)
    await chat.ask()
    await chat.until(lambda: chat.provider.finished and not chat.channel.drafts, "the turn over")
    await chat.app.services.pipeline.drain()
    [row] = await chat.app.services.db.all(select(t.outbox).where(t.outbox.c.status == "pending"))
    [draft] = chat.fake.message_ids(CHAT)
    assert row.text == STORY and row.options["edit"] == draft
    # Due now: the outbox edits the draft into the reply (a second 429 first, then it goes).
    clock = chat.app.services.clock
    for _ in range(2):
        await chat.app.services.db.run(lambda conn: conn.execute(
            update(t.outbox).values(next_attempt_at=clock.now() - timedelta(seconds=1))))
        await chat.channel.outbox.flush()
    assert chat.fake.texts(CHAT) == [STORY] and len(chat.fake.sent(CHAT)) == 1
    assert [r.status for r in await chat.app.services.db.all(select(t.outbox))] == ["sent"]


async def test_an_edit_to_what_the_message_shows_counts_as_done(chat: Chat) -> None:
    # An earlier try that landed although its answer was lost, retried: Telegram says "not modified".
    target = Target(CHAT)
    sent = await send_text(chat.channel.bot, target, "All done.", timeout=2.0)
    assert sent.verdict == "sent" and sent.message_id is not None
    again = await edit_text(chat.channel.bot, CHAT, sent.message_id, "All done.", timeout=2.0)
    assert again.verdict == "sent" and chat.fake.texts(CHAT) == ["All done."]
    assert len(chat.edits()) == 1  # it was asked, and said "not modified"
    chat.fake.delete_message(CHAT, sent.message_id)
    gone = await edit_text(chat.channel.bot, CHAT, sent.message_id, "All done!", timeout=2.0)
    assert gone.verdict == "failed" and "message to edit not found" in (gone.error or "")


async def test_draft_in_a_forum_topic_answers_the_question_there(chat: Chat) -> None:
    group, text = -100777, f"@{BOT_USERNAME} {QUESTION}"
    await chat.ask(text, chat_id=group, chat_type="supergroup", message_id=21, thread_id=5,
                   entities=mention_entity(text, f"@{BOT_USERNAME}"))
    await chat.answered(STORY, group)
    [draft] = chat.fake.sent(group)
    assert draft.params["message_thread_id"] == "5" and draft.json("reply_parameters")["message_id"] == 21
    assert {c.chat_id for c in chat.drafting()} == {group} and chat.edits()[-1].params["text"] == STORY


async def test_a_queued_edit_of_a_draft_lands_after_a_restart(tmp_path: Path, fake_telegram: FakeTelegram,  # noqa: F811
                                                              aiohttp_client: Any) -> None:
    settings = make_settings(tmp_path / "var", **telegram_overrides(fake_telegram))
    provider = StreamingProvider(STORY, streamed=200)
    provider.at[6] = lambda: fake_telegram.fail("editMessageText", 429, retry_after=int(MAX_INLINE_WAIT) + 20)
    first = App(settings, channels=CHANNELS.builder(("telegram",)), provider=provider)
    chat = Chat(first, await aiohttp_client(first.web), fake_telegram, provider)
    await chat.ask()
    await chat.until(lambda: provider.finished and not chat.channel.drafts, "the turn over")
    await first.services.pipeline.drain()
    await first.stop()
    [draft] = fake_telegram.message_ids(CHAT)
    assert fake_telegram.texts(CHAT) != [STORY]  # only the draft so far

    second = App(settings, channels=CHANNELS.builder(("telegram",)), provider=answering_nothing())
    await second.services.db.run(lambda conn: conn.execute(  # the flood wait is over by now
        update(t.outbox).values(next_attempt_at=second.services.clock.now() - timedelta(seconds=1))))
    await second.start()
    try:
        await wait_for(lambda: fake_telegram.texts(CHAT) == [STORY], message="the reply edited in after restart")
        assert fake_telegram.message_ids(CHAT) == [draft] and len(fake_telegram.sent(CHAT)) == 1
    finally:
        await second.stop()


def answering_nothing() -> ScriptedProvider:
    return ScriptedProvider(lambda messages, tools: ChatResult("unused", (), Usage(1, 1), "scripted-model"))
