"""Long answers streamed into Telegram in real time: what reaches the Bot API, and how soon.

An app in this process (SQLite on a fresh data dir) runs its Telegram channel against the fake Bot API on
loopback (tests/fakes/fake_telegram.py, real aiogram, real HTTP, real time). C chats each ask a question at once;
a scripted model writes each answer (A characters) in pieces of P characters every S seconds, as a model on a
small machine does. Figures per run, over the chats:
- requests: sendMessage and editMessageText calls per chat (Telegram allows about one edit a second per chat);
- gap: the shortest time between two requests to one chat;
- first draft: from the model's first words to the draft message;
- final: from the model's last words to the reply being in place (all its parts, for a long one);
- after 429: with --flood, the first edit to each chat is answered 429 (retry_after 2); the time from that
  refusal to the chat's next request.

    python tests/bench/telegram_drafts_bench.py --chats 5 --chars 2400 --piece 12 --every 0.03
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from agents.llm.base import ChatMessage, ChatResult, TextSink, ToolSpec, Usage
from channels.telegram.outbound import split_text
from server.app import App
from server.settings import CHANNELS
from tests.conftest import make_settings
from tests.fakes.fake_telegram import FakeTelegram, message_update, telegram_overrides
from tests.fakes.scripted_provider import ScriptedProvider


class RealTimeWriter(ScriptedProvider):
    def __init__(self, chars: int, piece: int, every: float) -> None:
        super().__init__(lambda messages, tools: ChatResult("", (), Usage(1, 1), "scripted-model"))
        self.chars, self.piece, self.every = chars, piece, every
        self.started: dict[str, float] = {}  # the answer's first words -> when
        self.ended: dict[str, float] = {}

    async def chat(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = (), *,
                   on_text: TextSink | None = None, **options: Any) -> ChatResult:
        question = str(messages[-1].content)
        tag = question.rsplit(" ", 1)[-1]
        answer = (f"Answer {tag}: " + "the tide came in and went out again. " * (self.chars // 37 + 1))[:self.chars]
        answer = answer.strip()
        for end in range(self.piece, len(answer) + self.piece, self.piece):
            if on_text is not None:
                on_text(answer[:end])
            self.started.setdefault(answer, time.monotonic())
            await asyncio.sleep(self.every)
        self.ended[answer] = time.monotonic()
        return ChatResult(answer, (), Usage(10, 10), "scripted-model")


async def run(chats: int, chars: int, piece: int, every: float, flood: bool) -> None:
    fake = await FakeTelegram().start()
    with tempfile.TemporaryDirectory() as data:
        settings = make_settings(Path(data), **telegram_overrides(fake))
        writer = RealTimeWriter(chars, piece, every)
        app = App(settings, channels=CHANNELS.builder(("telegram",)), provider=writer)
        await app.start()
        try:
            channel: Any = next(iter(app.services.channels))
            if flood:
                fake.fail("editMessageText", 429, retry_after=2, times=chats)
            ids = [50_000 + n for n in range(chats)]
            for chat_id in ids:
                await channel.handle_update(message_update(f"please write me a long story {chat_id}",
                                                           chat_id=chat_id, user={"id": chat_id, "is_bot": False,
                                                                                  "first_name": "U"}))
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and len(writer.ended) < chats:
                await asyncio.sleep(0.05)
            await app.services.pipeline.drain(timeout=60)
            report(fake, writer, ids, flood)
        finally:
            await app.stop()
            await fake.close()


def report(fake: FakeTelegram, writer: RealTimeWriter, ids: list[int], flood: bool) -> None:
    answers = {answer.split(":")[0].split()[-1]: answer for answer in writer.ended}
    rows = []
    for chat_id in ids:
        answer = answers[str(chat_id)]
        calls = [c for c in fake.calls if c.chat_id == chat_id and c.method in ("sendMessage", "editMessageText")]
        gaps = [b.at - a.at for a, b in itertools.pairwise(calls)]
        parts = split_text(answer)
        refused = [i for i, c in enumerate(calls) if c in fake.refused]
        after = calls[refused[0] + 1].at - calls[refused[0]].at if refused else None
        rows.append((chat_id, sum(c.method == "sendMessage" for c in calls),
                     sum(c.method == "editMessageText" for c in calls), min(gaps) if gaps else 0.0,
                     calls[0].at - writer.started[answer], calls[-1].at - writer.ended[answer], after,
                     fake.texts(chat_id) == parts))
    streaming = writer.chars / writer.piece * writer.every
    print(f"{len(ids)} chats, {writer.chars} characters each, written over {streaming:.1f} s"
          f"{' (the first edit to each chat answered 429, retry_after 2)' if flood else ''}")
    print(f"{'chat':>6} {'sends':>5} {'edits':>5} {'min gap s':>9} {'first draft s':>13} {'final s':>8} "
          f"{'after 429 s':>11} ok")
    for chat_id, sends, edits, gap, first, final, after, ok in rows:
        waited = "-" if after is None else f"{after:.2f}"
        print(f"{chat_id:>6} {sends:>5} {edits:>5} {gap:>9.2f} {first:>13.2f} {final:>8.2f} {waited:>11} "
              f"{'yes' if ok else 'NO'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=5)
    parser.add_argument("--chars", type=int, default=2400)
    parser.add_argument("--piece", type=int, default=12, help="characters the model writes at a time")
    parser.add_argument("--every", type=float, default=0.03, help="seconds between pieces")
    parser.add_argument("--flood", action="store_true")
    args = parser.parse_args()
    asyncio.run(run(args.chats, args.chars, args.piece, args.every, args.flood))


if __name__ == "__main__":
    main()
