"""Socket Mode against a fake socket-mode server: envelopes acknowledged, answered, and a dropped connection
reconnected by itself, with /health saying so; slash commands answered in their ack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from channels.slack.channel import SlackChannel
from server.app import App
from server.settings import CHANNELS
from tests.conftest import SHARED, make_settings
from tests.fakes.fake_slack import (
    FakeSlack,
    fake_slack,  # noqa: F401  (a fixture)
    slack_overrides,
    wait_for,
)

from .test_slack_events import event


@pytest.fixture
async def socket_app(tmp_path: Path, fake_slack: FakeSlack, aiohttp_client: Any) -> AsyncIterator[App]:  # noqa: F811
    overrides = {**slack_overrides(fake_slack), "slack_app_token": "xapp-test", "slack_ping_seconds": 0.2}
    settings = make_settings(tmp_path / "var", **overrides)
    app = App(settings, channels=CHANNELS.builder(("slack",)))
    await aiohttp_client(app.web)
    yield app


async def test_socket_mode_answers_and_reconnects(socket_app: App, fake_slack: FakeSlack) -> None:  # noqa: F811
    channel = next(c for c in socket_app.services.channels if isinstance(c, SlackChannel))
    envelope = await fake_slack.push_envelope(event("hello", channel_type="im", channel="D0001"))
    await wait_for(lambda: len(fake_slack.posted()) == 1, message="the first reply")
    assert envelope in fake_slack.acks
    await wait_for(lambda: channel.health().get("connected") is True, message="connected in health")
    assert channel.health()["mode"] == "socket" and channel.health()["last_event_at"]
    await fake_slack.drop_connection()
    await wait_for(lambda: fake_slack.connections >= 2, message="a reconnect")
    await fake_slack.push_envelope(event("again", channel_type="im", channel="D0001"))
    await wait_for(lambda: len(fake_slack.posted()) == 2, message="the reply after the reconnect")
    await wait_for(lambda: channel.health().get("connected") is True, message="connected again")


async def test_a_slash_command_over_the_socket_is_answered_like_the_http_one(socket_app: App,
                                                                             fake_slack: FakeSlack) -> None:  # noqa: F811
    raw = (SHARED / "fixtures/slack/events/test_slash_command__slash_command_body.form.txt").read_text()
    form = {k: v[0] for k, v in parse_qs(raw.strip()).items()}
    other = await fake_slack.push_envelope(form, kind="slash_commands")  # another command's name: told, not run
    ours = await fake_slack.push_envelope({**form, "command": "/thinklio", "text": "/help"}, kind="slash_commands")
    broken = await fake_slack.push_envelope({"command": "/thinklio", "text": "hi"}, kind="slash_commands")
    await wait_for(lambda: {other, ours, broken} <= set(fake_slack.acks), message="the acks")
    assert fake_slack.ack_payloads[other] == {"response_type": "ephemeral", "text": "I only answer /thinklio."}
    assert fake_slack.ack_payloads[ours] == {"response_type": "ephemeral", "text": "Working on it…"}
    assert fake_slack.ack_payloads[broken]["text"].startswith("the slash command lacks")
    await wait_for(lambda: len(fake_slack.posted()) == 1, message="the answer in the channel")
    [reply] = fake_slack.posted()
    assert reply["channel"] == form["channel_id"] and "thread_ts" not in reply and reply["text"]
    await socket_app.services.pipeline.drain()
    assert len(fake_slack.posted()) == 1
