"""Replies out through the fake Bot API: splitting, markup, typing, flood waits, outages, the outbox across a
restart, and users who blocked the bot."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from agents.llm.base import ChatMessage, ChatResult, ToolSpec, Usage
from bot.store import tables as t
from channels.telegram.channel import TelegramChannel
from channels.telegram.webhook import PATH, SECRET_HEADER
from server.app import App
from server.settings import CHANNELS
from tests.conftest import make_settings
from tests.fakes.fake_telegram import (
    WEBHOOK_SECRET,
    FakeTelegram,
    fake_telegram,  # noqa: F401  (a fixture)
    message_update,
    telegram_overrides,
    wait_for,
)
from tests.fakes.scripted_provider import ScriptedProvider
from tests.helpers import count

MARKUP = "Use *bold*, _italics_, [a link](http://x) and <b>tags</b> & `code` \\ ~ | > # + - = { } . !"
QUESTION = "please write me a short story about the sea"  # nothing triage answers: the harness (model) does


class SlowProvider(ScriptedProvider):
    """Answers only when released, so the channel has time to show "typing"."""

    def __init__(self, answer: str) -> None:
        super().__init__(lambda messages, tools: ChatResult(answer, (), Usage(10, 10), "scripted-model"))
        self.release = asyncio.Event()

    async def chat(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = (), **options: Any) -> ChatResult:
        await self.release.wait()
        return await super().chat(messages, tools, **options)


@dataclass
class Bot:
    app: App
    client: TestClient
    channel: TelegramChannel
    fake: FakeTelegram

    async def post(self, update: dict[str, Any]) -> None:
        response = await self.client.post(PATH, data=json.dumps(update), headers={SECRET_HEADER: WEBHOOK_SECRET})
        assert response.status == 200

    async def outbox(self, status: str | None = None) -> list[Any]:
        query = select(t.outbox).order_by(t.outbox.c.id)
        if status:
            query = query.where(t.outbox.c.status == status)
        return await self.app.services.db.all(query)


def answering(text: str) -> ScriptedProvider:
    return ScriptedProvider(lambda messages, tools: ChatResult(text, (), Usage(10, 10), "scripted-model"))


@pytest.fixture
def provider() -> ScriptedProvider:
    return answering("Sure.")


@pytest.fixture
async def tg(tmp_path: Path, fake_telegram: FakeTelegram, aiohttp_client: Any,  # noqa: F811
             provider: ScriptedProvider) -> AsyncIterator[Bot]:
    settings = make_settings(tmp_path / "var", **telegram_overrides(fake_telegram))
    app = App(settings, channels=CHANNELS.builder(("telegram",)), provider=provider)
    client = await aiohttp_client(app.web)
    yield Bot(app, client, next(iter(app.services.channels)), fake_telegram)  # type: ignore[arg-type]


# Seven paragraphs of ~1,500 characters: two fit in a message, three do not.
LONG = "\n\n".join(f"Paragraph {n}. " + " ".join(["word"] * 300) for n in range(1, 8))


@pytest.mark.parametrize("provider", [answering(LONG)])
async def test_long_reply_is_split_on_paragraphs(tg: Bot) -> None:
    await tg.post(message_update(QUESTION))
    await wait_for(lambda: len(tg.fake.texts()) >= 4, message="the parts of the reply")
    await tg.app.services.pipeline.drain()
    parts = tg.fake.texts()
    assert len(parts) == 4
    assert all(len(part) <= 4096 for part in parts)
    assert all(part.startswith("Paragraph") and part.endswith("word") for part in parts)
    assert "\n\n".join(parts) == LONG


@pytest.mark.parametrize("provider", [answering(MARKUP)])
async def test_markup_reaches_the_user_exactly_as_written(tg: Bot) -> None:
    await tg.post(message_update(QUESTION))
    await wait_for(lambda: tg.fake.texts() == [MARKUP], message="the reply, intact")
    assert "parse_mode" not in tg.fake.sent()[0].params


@pytest.mark.parametrize("provider", [SlowProvider("Done thinking.")])
async def test_typing_is_shown_while_the_model_works(tg: Bot, provider: SlowProvider) -> None:
    tg.channel.typing_delay = 0
    await tg.post(message_update(QUESTION))
    await wait_for(lambda: bool(tg.fake.called("sendChatAction")), message="typing")
    action = tg.fake.called("sendChatAction")[0]
    assert (action.chat_id, action.params["action"]) == (4242, "typing")
    provider.release.set()
    await wait_for(lambda: tg.fake.texts() == ["Done thinking."], message="the reply")
    methods = [c.method for c in tg.fake.calls if c.method in ("sendChatAction", "sendMessage")]
    assert methods[-1] == "sendMessage" and methods[0] == "sendChatAction"


async def test_flood_wait_is_honoured_then_the_reply_goes_out(tg: Bot) -> None:
    tg.fake.fail("sendMessage", 429, retry_after=1)
    await tg.post(message_update(QUESTION))
    await wait_for(lambda: tg.fake.texts() == ["Sure."], message="the reply after the flood wait")
    assert len(tg.fake.called("sendMessage")) == 2
    assert await tg.outbox() == []  # handled while the conversation waited: nothing to persist


@pytest.mark.parametrize("failure", [{"status": 500}, {"status": 502, "html": True}], ids=["500", "502-html"])
async def test_server_error_is_retried_then_the_reply_goes_out(tg: Bot, failure: dict[str, Any]) -> None:
    tg.fake.fail("sendMessage", times=2, **failure)
    await tg.post(message_update(QUESTION))
    await wait_for(lambda: tg.fake.texts() == ["Sure."], message="the reply after the errors")
    assert len(tg.fake.called("sendMessage")) == 3


async def test_reply_waits_in_the_outbox_while_telegram_is_down(tg: Bot) -> None:
    tg.fake.down = 500
    await tg.post(message_update(QUESTION))
    await tg.app.services.pipeline.drain()
    [row] = await tg.outbox("pending")
    assert row.text == "Sure." and row.attempts >= 1 and "Internal Server Error" in row.last_error
    assert tg.channel.health()["outbox_waiting"] == 1
    # Another message to the same chat queues behind it, so the order holds.
    await tg.post(message_update("/help"))
    await tg.app.services.pipeline.drain()
    assert len(await tg.outbox("pending")) == 2
    tg.fake.down = None
    await wait_for(lambda: len(tg.fake.texts()) == 2, message="the queued replies")
    assert tg.fake.texts()[0] == "Sure." and tg.fake.texts()[1].startswith("I'm")
    await wait_for(lambda: tg.channel.health()["outbox_waiting"] == 0, message="an empty outbox")
    assert [r.status for r in await tg.outbox()] == ["sent", "sent"]


async def test_outbox_is_sent_after_a_restart(tmp_path: Path, fake_telegram: FakeTelegram) -> None:  # noqa: F811
    settings = make_settings(tmp_path / "var", **telegram_overrides(fake_telegram))
    fake_telegram.down = 502
    first = App(settings, channels=CHANNELS.builder(("telegram",)), provider=answering("Kept for later."))
    await first.start()
    channel = next(iter(first.services.channels))
    await channel.handle_update(message_update(QUESTION))  # type: ignore[attr-defined]
    await first.services.pipeline.drain()
    await first.stop()
    assert not fake_telegram.texts()

    fake_telegram.down = None
    second = App(settings, channels=CHANNELS.builder(("telegram",)), provider=answering("unused"))
    await second.start()
    try:
        channel = next(iter(second.services.channels))
        await wait_for(lambda: fake_telegram.texts() == ["Kept for later."], message="the reply after restart")
        await wait_for(lambda: channel.health()["outbox_waiting"] == 0, message="an empty outbox")
        rows = await second.services.db.all(select(t.outbox.c.status))
        assert [r.status for r in rows] == ["sent"]
    finally:
        await second.stop()


async def test_blocked_user_is_recorded_and_not_retried(tg: Bot) -> None:
    tg.fake.blocked.add(4242)
    await tg.post(message_update(QUESTION))
    await tg.app.services.pipeline.drain()
    assert len(tg.fake.called("sendMessage")) == 1  # 403 is final: no retries, nothing queued
    [blocked] = await tg.app.services.db.all(select(t.blocked_chat))
    assert (blocked.channel_type, blocked.chat_id) == ("telegram", "4242")
    assert "blocked" in blocked.reason
    assert await tg.outbox("pending") == []
    assert tg.channel.health()["blocked_chats"] == 1
    # Later replies to the chat (a recovered turn, say) are not even attempted.
    tg.channel.outbox.wake()
    await tg.channel.outbox.flush()
    assert len(tg.fake.called("sendMessage")) == 1
    # The user unblocks the bot: Telegram says so, and replies flow again.
    tg.fake.blocked.clear()
    await tg.post({"update_id": 77, "my_chat_member": {
        "chat": {"id": 4242, "type": "private", "first_name": "Ada"},
        "from": {"id": 4242, "is_bot": False, "first_name": "Ada"}, "date": 1_760_000_000,
        "old_chat_member": {"status": "kicked", "user": {"id": 1, "is_bot": True, "first_name": "T"},
                            "until_date": 0},
        "new_chat_member": {"status": "member", "user": {"id": 1, "is_bot": True, "first_name": "T"}}}})
    assert await count(tg.app, t.blocked_chat) == 0
    await tg.post(message_update("/help"))
    await wait_for(lambda: len(tg.fake.texts()) == 1, message="a reply after unblocking")


async def test_blocking_seen_in_my_chat_member_is_recorded(tg: Bot) -> None:
    await tg.post({"update_id": 78, "my_chat_member": {
        "chat": {"id": 5151, "type": "private", "first_name": "Bo"},
        "from": {"id": 5151, "is_bot": False, "first_name": "Bo"}, "date": 1_760_000_000,
        "old_chat_member": {"status": "member", "user": {"id": 1, "is_bot": True, "first_name": "T"}},
        "new_chat_member": {"status": "kicked", "user": {"id": 1, "is_bot": True, "first_name": "T"},
                            "until_date": 0}}})
    assert await count(tg.app, t.blocked_chat, t.blocked_chat.c.chat_id == "5151") == 1


@pytest.mark.parametrize("provider", [answering("Sure.")])
async def test_group_upgraded_to_a_supergroup_gets_the_reply_there(tg: Bot) -> None:
    tg.fake.fail("sendMessage", 400, "Bad Request: group chat was upgraded to a supergroup chat",
                 migrate_to_chat_id=-100999)
    await tg.post(message_update("/help", chat_id=-555, chat_type="group",
                                 entities=[{"type": "bot_command", "offset": 0, "length": 5}]))
    await wait_for(lambda: len(tg.fake.texts(-100999)) == 1, message="the reply in the supergroup")
    assert "reply_parameters" not in tg.fake.sent(-100999)[0].params  # old message ids mean nothing there


async def test_replies_in_groups_survive_a_deleted_question(tg: Bot) -> None:
    await tg.post(message_update("/help", chat_id=-555, chat_type="group", message_id=3,
                                 entities=[{"type": "bot_command", "offset": 0, "length": 5}]))
    await wait_for(lambda: len(tg.fake.texts(-555)) == 1, message="the reply")
    assert tg.fake.sent(-555)[0].json("reply_parameters") == {"message_id": 3, "allow_sending_without_reply": True}


async def test_rate_limited_user_gets_one_notice(tmp_path: Path, fake_telegram: FakeTelegram,  # noqa: F811
                                                 aiohttp_client: Any) -> None:
    settings = make_settings(tmp_path / "var", **telegram_overrides(fake_telegram),
                             rate_limit_per_minute=1, rate_limit_burst=1)
    app = App(settings, channels=CHANNELS.builder(("telegram",)))
    client = await aiohttp_client(app.web)
    bot = Bot(app, client, next(iter(app.services.channels)), fake_telegram)  # type: ignore[arg-type]
    for n in range(4):
        await bot.post(message_update(f"/help {n}", entities=[{"type": "bot_command", "offset": 0, "length": 5}]))
    await wait_for(lambda: len(fake_telegram.texts()) == 2, message="one answer and one notice")
    await app.services.pipeline.drain()
    await bot.channel.outbox.flush()
    texts = fake_telegram.texts()
    assert texts.count(texts[-1]) == 1 and "faster than I can read" in " ".join(texts)
    assert await count(app, t.interaction) == 1
