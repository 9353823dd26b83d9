"""Long polling against the fake Bot API: every real update, and recovery from hangs, 409s and errors."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.store import tables as t
from channels.telegram.channel import TelegramChannel
from server.app import App
from server.settings import CHANNELS
from tests.conftest import SHARED, make_settings
from tests.fakes.fake_telegram import (
    FakeTelegram,
    fake_telegram,  # noqa: F401  (a fixture)
    message_update,
    telegram_overrides,
    wait_for,
)
from tests.helpers import count

FIXTURES = sorted((SHARED / "fixtures" / "telegram" / "updates").glob("*.json"))


async def polling_app(tmp_path: Path, fake: FakeTelegram, **overrides: Any) -> App:
    settings = make_settings(tmp_path / "var", **telegram_overrides(fake, mode="polling", **overrides))
    assert CHANNELS.enabled(settings) == ["http", "telegram"]
    app = App(settings, channels=CHANNELS.builder(CHANNELS.enabled(settings)))
    await app.start()
    return app


def channel_of(app: App) -> TelegramChannel:
    return next(c for c in app.services.channels if isinstance(c, TelegramChannel))


@pytest.fixture
async def polling(tmp_path: Path, fake_telegram: FakeTelegram) -> AsyncIterator[App]:  # noqa: F811
    app = await polling_app(tmp_path, fake_telegram)
    try:
        yield app
    finally:
        await app.stop()


async def test_polling_deletes_the_webhook_first_and_answers(polling: App, fake_telegram: FakeTelegram) -> None:  # noqa: F811
    await wait_for(lambda: bool(fake_telegram.called("getUpdates")), message="the first poll")
    methods = [c.method for c in fake_telegram.calls]
    assert methods.index("deleteWebhook") < methods.index("getUpdates")
    assert fake_telegram.called("deleteWebhook")[0].params["drop_pending_updates"] == "false"
    fake_telegram.push_update(message_update("hello"))
    await wait_for(lambda: len(fake_telegram.texts(4242)) == 1, message="the reply")
    health = channel_of(polling).health()
    assert health["status"] == "running" and health["mode"] == "polling"
    assert health["last_update_at"] is not None


async def test_every_real_update_through_polling(polling: App, fake_telegram: FakeTelegram) -> None:  # noqa: F811
    expected: dict[int, int] = {}
    for path in FIXTURES:
        update = json.loads(path.read_text())
        fake_telegram.push_update(update)
        message = update.get("message") or {}
        if message.get("chat", {}).get("type") == "private" and (message.get("text") or message.get("caption")):
            expected[message["chat"]["id"]] = expected.get(message["chat"]["id"], 0) + 1
    channel = channel_of(polling)
    await wait_for(lambda: channel.health()["updates"] == len(FIXTURES), message="every update handled")
    for chat_id, n in expected.items():
        await wait_for(lambda chat_id=chat_id, n=n: len(fake_telegram.texts(chat_id)) >= n,  # type: ignore[misc]
                       message=f"replies in chat {chat_id}")
    await polling.services.pipeline.drain()
    assert await count(polling, t.interaction) == sum(expected.values())
    assert await count(polling, t.interaction, t.interaction.c.status == "failed") == 0
    # The one update aiogram's schema rejects (a newer unique_gift) did not wedge the poller: all were confirmed.
    await wait_for(lambda: fake_telegram.pending_updates == 0, message="every update confirmed")
    assert channel.health()["status"] == "running"


async def test_polling_recovers_after_the_server_hangs(tmp_path: Path, fake_telegram: FakeTelegram) -> None:  # noqa: F811
    fake_telegram.hang("getUpdates")
    app = await polling_app(tmp_path, fake_telegram, telegram_request_timeout=0.5)
    try:
        channel = channel_of(app)
        fake_telegram.push_update(message_update("hello"))
        await wait_for(lambda: len(fake_telegram.texts()) == 1, message="the reply after the hang")
        assert len(fake_telegram.called("getUpdates")) >= 2
        assert channel.health()["status"] == "running"
    finally:
        await app.stop()


async def test_polling_conflict_is_reported_and_retried(tmp_path: Path, fake_telegram: FakeTelegram) -> None:  # noqa: F811
    fake_telegram.fail("getUpdates", 409, times=3)
    app = await polling_app(tmp_path, fake_telegram)
    try:
        channel = channel_of(app)
        fake_telegram.push_update(message_update("hello"))
        await wait_for(lambda: len(fake_telegram.texts()) == 1, message="the reply after the conflicts")
        health = channel.health()
        assert health["conflicts"] == 3 and health["status"] == "running"
        # After a conflict the webhook is deleted again, in case someone set one.
        assert len(fake_telegram.called("deleteWebhook")) >= 2
    finally:
        await app.stop()


async def test_a_webhook_left_set_is_removed_and_polling_works(tmp_path: Path,
                                                               fake_telegram: FakeTelegram) -> None:  # noqa: F811
    fake_telegram.webhook_url = "https://old.example.test/hook"
    app = await polling_app(tmp_path, fake_telegram)
    try:
        fake_telegram.push_update(message_update("hello"))
        await wait_for(lambda: len(fake_telegram.texts()) == 1, message="the reply")
        assert fake_telegram.webhook_url is None
    finally:
        await app.stop()


async def test_polling_survives_server_errors_and_an_unreachable_server(tmp_path: Path,
                                                                       fake_telegram: FakeTelegram) -> None:  # noqa: F811
    fake_telegram.fail("getUpdates", 500, times=2)
    fake_telegram.fail("getUpdates", 502, html=True)
    app = await polling_app(tmp_path, fake_telegram)
    try:
        channel = channel_of(app)
        await wait_for(lambda: channel.health()["status"] in ("retrying", "running"), message="a state")
        fake_telegram.push_update(message_update("hello"))
        await wait_for(lambda: len(fake_telegram.texts()) == 1, message="the reply after the errors")
        assert channel.health()["status"] == "running"
    finally:
        await app.stop()


async def test_start_up_with_telegram_down_retries_in_the_background(tmp_path: Path,
                                                                    fake_telegram: FakeTelegram) -> None:  # noqa: F811
    fake_telegram.down = 502
    app = await polling_app(tmp_path, fake_telegram)  # the server still starts
    try:
        channel = channel_of(app)
        assert channel.health()["status"] == "retrying"
        assert "Bad Gateway" in channel.health()["last_error"]
        fake_telegram.down = None
        fake_telegram.push_update(message_update("hello"))
        await wait_for(lambda: len(fake_telegram.texts()) == 1, message="the reply once Telegram is back")
        assert channel.health()["status"] == "running"
    finally:
        await app.stop()


async def test_wrong_token_is_reported(tmp_path: Path, fake_telegram: FakeTelegram) -> None:  # noqa: F811
    app = await polling_app(tmp_path, fake_telegram, telegram_token="987654321:WRONG-token")
    try:
        assert channel_of(app).health()["status"] == "unauthorized"
    finally:
        await app.stop()


def test_no_token_no_channel(tmp_path: Path) -> None:
    assert CHANNELS.enabled(make_settings(tmp_path, telegram_token="")) == ["http"]
