"""The Telegram channel in webhook mode against the fake Bot API: set-up, the secret, inbound rules, replies."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.store import tables as t
from channels.telegram.channel import TelegramChannel
from channels.telegram.inbound import FILES_NOT_SUPPORTED
from channels.telegram.webhook import PATH, SECRET_HEADER
from server.app import App
from server.settings import CHANNELS
from tests.conftest import SHARED, make_settings
from tests.fakes.fake_telegram import (
    BOT_ID,
    BOT_USERNAME,
    WEBHOOK_SECRET,
    WEBHOOK_URL,
    FakeTelegram,
    command_entity,
    fake_telegram,  # noqa: F401  (a fixture)
    mention_entity,
    message_update,
    telegram_overrides,
    wait_for,
)
from tests.helpers import count, row_counts

FIXTURES = sorted((SHARED / "fixtures" / "telegram" / "updates").glob("*.json"))
GROUP = -1001234567890


@dataclass
class Bot:
    app: App
    client: TestClient
    channel: TelegramChannel
    fake: FakeTelegram

    async def post(self, update: dict[str, Any], secret: str | None = WEBHOOK_SECRET) -> tuple[int, Any]:
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        response = await self.client.post(PATH, data=json.dumps(update), headers=headers)
        return response.status, await response.json()

    async def replies(self, n: int, chat_id: int | None = None) -> list[str]:
        await wait_for(lambda: len(self.fake.texts(chat_id)) >= n, message=f"{n} replies")
        return self.fake.texts(chat_id)

    async def settled(self) -> None:
        """Every accepted message answered (and delivered or queued)."""
        await self.app.services.pipeline.drain()


@pytest.fixture
async def tg(tmp_path: Path, fake_telegram: FakeTelegram, aiohttp_client: Any) -> AsyncIterator[Bot]:  # noqa: F811
    settings = make_settings(tmp_path / "var", **telegram_overrides(fake_telegram))
    app = App(settings, channels=CHANNELS.builder(("http", "telegram")))
    client = await aiohttp_client(app.web)
    channel = next(c for c in app.services.channels if isinstance(c, TelegramChannel))
    yield Bot(app, client, channel, fake_telegram)


async def test_start_up_registers_the_webhook_and_the_commands_menu(tg: Bot) -> None:
    assert [c.method for c in tg.fake.calls[:3]] == ["getMe", "setMyCommands", "setWebhook"]
    hook = tg.fake.called("setWebhook")[0]
    assert hook.params["url"] == WEBHOOK_URL
    assert hook.params["secret_token"] == WEBHOOK_SECRET
    assert set(hook.json("allowed_updates")) >= {"message", "edited_message"}
    menu = {c["command"] for c in tg.fake.called("setMyCommands")[0].json("commands")}
    visible = {c.name for c in tg.app.services.commands.visible_to(None)}
    assert menu == visible and "start" in menu
    assert not menu & {c.name for c in tg.app.services.commands.all() if c.admin}
    health = (await (await tg.client.get("/health")).json())["channels"]["telegram"]
    assert health["status"] == "running" and health["mode"] == "webhook" and health["bot"] == f"@{BOT_USERNAME}"


async def test_private_message_gets_a_plain_text_reply_in_the_same_chat(tg: Bot) -> None:
    status, body = await tg.post(message_update("hello there"))
    assert (status, body) == (200, {})
    [reply] = await tg.replies(1)
    sent = tg.fake.sent()[0]
    assert sent.chat_id == 4242 and reply
    assert "parse_mode" not in sent.params and "reply_parameters" not in sent.params  # no threading in private
    health = tg.channel.health()
    assert health["last_update_at"] is not None and health["updates"] == 1


@pytest.mark.parametrize("secret", [None, "wrong-secret", ""])
async def test_webhook_without_the_right_secret_is_rejected_and_nothing_is_stored(tg: Bot, secret: str | None) -> None:
    before = await row_counts(tg.app)
    status, body = await tg.post(message_update("hello"), secret=secret)
    assert status == (401 if secret is None else 403)
    assert body["error"]["code"] == ("unauthenticated" if secret is None else "forbidden")
    assert await row_counts(tg.app) == before
    assert tg.channel.health()["updates"] == 0
    assert not tg.fake.called("sendMessage")


async def test_a_body_that_is_not_an_update_is_a_bad_request(tg: Bot) -> None:
    response = await tg.client.post(PATH, data=b"[1, 2]", headers={SECRET_HEADER: WEBHOOK_SECRET})
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "bad_request"


async def test_redelivered_update_and_message_get_one_reply(tg: Bot) -> None:
    update = message_update("hi")
    assert (await tg.post(update))[0] == 200
    assert (await tg.post(update))[0] == 200  # the same update_id again (Telegram retrying)
    again = {**update, "update_id": update["update_id"] + 1}  # the same message under another update id
    assert (await tg.post(again))[0] == 200
    tg.channel._seen.clear()  # as after a restart: only the store remembers
    assert (await tg.post(update))[0] == 200
    await tg.replies(1)
    await tg.settled()
    assert len(tg.fake.texts()) == 1
    assert await count(tg.app, t.interaction) == 1


async def test_every_real_update_is_handled_or_ignored(tg: Bot) -> None:
    assert len(FIXTURES) == 34
    expected: dict[int, int] = {}  # private chat -> replies it should get
    for path in FIXTURES:
        update = json.loads(path.read_text())
        status, body = await tg.post(update)
        assert (status, body) == (200, {}), path.name
        message = update.get("message") or {}
        if message.get("chat", {}).get("type") == "private" and (message.get("text") or message.get("caption")):
            expected[message["chat"]["id"]] = expected.get(message["chat"]["id"], 0) + 1
    await tg.settled()
    for chat_id, n in expected.items():
        await tg.replies(n, chat_id)
    assert await count(tg.app, t.interaction) == sum(expected.values())
    assert await count(tg.app, t.interaction, t.interaction.c.status == "failed") == 0
    assert not [c for c in tg.fake.sent() if c.chat_id is not None and c.chat_id < 0]  # no group was addressed
    # Photos and videos without a caption in private chats get the "not supported yet" notice instead.
    await wait_for(lambda: FILES_NOT_SUPPORTED in tg.fake.texts(250918540), message="the files notice")
    assert tg.channel.health()["updates"] == 34


async def test_group_answers_only_when_addressed(tg: Bot) -> None:
    bot_message = {"message_id": 7, "date": 1_760_000_000, "chat": {"id": GROUP, "type": "supergroup"},
                   "from": {"id": BOT_ID, "is_bot": True, "first_name": "Thinklio", "username": BOT_USERNAME}}
    other_message = {**bot_message, "from": {"id": 99, "is_bot": False, "first_name": "Bob"}}
    mention = f"hey @{BOT_USERNAME} what time is it"
    cases = [
        (message_update(mention, chat_id=GROUP, chat_type="supergroup", message_id=11,
                        entities=mention_entity(mention, f"@{BOT_USERNAME}")), True),
        (message_update("and what date is it", chat_id=GROUP, chat_type="supergroup", message_id=12,
                        reply_to=bot_message), True),
        (message_update(f"/help@{BOT_USERNAME}", chat_id=GROUP, chat_type="supergroup", message_id=13,
                        entities=command_entity(f"/help@{BOT_USERNAME}")), True),
        (message_update("/help@other_bot", chat_id=GROUP, chat_type="supergroup", message_id=14,
                        entities=command_entity("/help@other_bot")), False),
        (message_update("what time is it", chat_id=GROUP, chat_type="supergroup", message_id=15), False),
        (message_update("what time is it", chat_id=GROUP, chat_type="group", message_id=16,
                        reply_to=other_message), False),
        (message_update("hi @someone_else", chat_id=GROUP, chat_type="supergroup", message_id=17,
                        entities=mention_entity("hi @someone_else", "@someone_else")), False),
    ]
    for update, _ in cases:
        assert (await tg.post(update))[0] == 200
    await tg.settled()
    answered = sorted(c.json("reply_parameters")["message_id"] for c in tg.fake.sent(GROUP))
    assert answered == [11, 12, 13]
    assert await count(tg.app, t.interaction) == 3
    texts = [row.text for row in await tg.app.services.db.all(
        select(t.message.c.text).where(t.message.c.direction == "in").order_by(t.message.c.id))]
    assert texts[0] == "hey what time is it"  # the bot's own mention is not part of the question


async def test_forum_topic_replies_go_to_the_topic(tg: Bot) -> None:
    text = f"@{BOT_USERNAME} hello"
    await tg.post(message_update(text, chat_id=GROUP, chat_type="supergroup", message_id=21, thread_id=5,
                                 entities=mention_entity(text, f"@{BOT_USERNAME}")))
    await tg.replies(1)
    sent = tg.fake.sent()[0]
    assert sent.params["message_thread_id"] == "5"
    assert sent.json("reply_parameters")["message_id"] == 21
    conversation = await tg.app.services.db.one(select(t.conversation.c.external_key)
                                                .where(t.conversation.c.external_key.like(f"{GROUP}%")))
    assert conversation is not None and conversation.external_key == f"{GROUP}:5"


async def test_edited_message_is_a_new_message_with_its_own_id(tg: Bot) -> None:
    await tg.post(message_update("hello", message_id=31))
    await tg.replies(1)
    await tg.post(message_update("what time is it", message_id=31, edit_date=1_760_000_100))
    await tg.replies(2)
    ids = {row.external_id for row in await tg.app.services.db.all(
        select(t.message.c.external_id).where(t.message.c.direction == "in"))}
    assert ids == {"4242:31", "4242:31:1760000100"}


async def test_start_with_a_deep_link_payload_is_the_start_command(tg: Bot) -> None:
    await tg.post(message_update("/start ref-campaign_42", entities=command_entity("/start ref-campaign_42")))
    [reply] = await tg.replies(1)
    assert reply.startswith("Hello Ada Lovelace!")
    row = await tg.app.services.db.one(select(t.interaction.c.intent, t.interaction.c.tier))
    assert row is not None and (row.tier, row.intent) == ("command", "/start")


async def test_photos_get_a_notice_once_and_captions_are_read(tg: Bot) -> None:
    photo = [{"file_id": "AgACAgIAAxk", "file_unique_id": "AQAD", "width": 90, "height": 67, "file_size": 1200}]
    update = message_update(photo=photo)
    await tg.post(update)
    await tg.post(update)  # redelivered
    tg.channel._seen.clear()
    await tg.post(update)  # redelivered after a restart
    await wait_for(lambda: FILES_NOT_SUPPORTED in tg.fake.texts(), message="the notice")
    await tg.post(message_update(caption="what time is it", photo=photo))
    await tg.replies(2)
    await tg.settled()
    assert tg.fake.texts().count(FILES_NOT_SUPPORTED) == 1
    assert await count(tg.app, t.interaction) == 1  # only the caption went to the pipeline


async def test_admin_by_telegram_id_gets_admin_commands(tmp_path: Path, fake_telegram: FakeTelegram,  # noqa: F811
                                                        aiohttp_client: Any) -> None:
    settings = make_settings(tmp_path / "var", admins=["telegram:4242"], **telegram_overrides(fake_telegram))
    app = App(settings, channels=CHANNELS.builder(("telegram",)))
    client = await aiohttp_client(app.web)
    bot = Bot(app, client, next(iter(app.services.channels)), fake_telegram)  # type: ignore[arg-type]
    await bot.post(message_update("/whoami", entities=command_entity("/whoami")))
    [reply] = await bot.replies(1)
    assert "platform admin" in reply and "telegram:4242" in reply
