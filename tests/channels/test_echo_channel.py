"""A channel from outside `channels/`, registered in one line, receives and answers; its own data about each
message comes back with the reply, also when the reply is sent by the next run of the server."""

from __future__ import annotations

import asyncio
from pathlib import Path

from channels.registry import ChannelRegistry
from server.app import App
from tests.channels.echo import EchoChannel
from tests.conftest import make_settings


def registry() -> ChannelRegistry:
    channels = ChannelRegistry()
    channels.register("tests.channels.echo")  # the one line
    return channels


def started_echo(app: App) -> EchoChannel:
    [channel] = app.services.channels
    assert isinstance(channel, EchoChannel)
    return channel


async def test_a_channel_registered_in_one_line_receives_and_answers(tmp_path: Path) -> None:
    channels = registry()
    app = App(make_settings(tmp_path / "var"), channels=channels.builder(["echo"]), registry=channels)
    await app.start()
    try:
        echo = started_echo(app)
        ticket = await echo.receive("alice", "what time is it?", thread="t-1", message_id="m-1")
        outcome = await ticket.done
        reply = await asyncio.wait_for(echo.delivered.get(), 5)
        assert outcome.status == "completed" and outcome.tier == "triage"
        assert reply.text == outcome.reply and "UTC" in reply.text
        assert reply.channel == "echo" and reply.conversation_key == "t-1"
        assert reply.metadata == {"thread": "t-1", "reply_to": "m-1"}
        assert echo.health()["status"] == "running"
    finally:
        await app.stop()


async def test_the_channel_data_survives_a_restart(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "var")
    channels = registry()
    first = App(settings, channels=channels.builder(["echo"]), registry=channels)
    await first.start()
    await first.services.platform.set_status("maintenance", actor="test")
    ticket = await started_echo(first).receive("bob", "what time is it?", thread="t-9", message_id="m-9")
    assert (await ticket.done).status == "queued"
    await first.stop()

    second = App(settings, channels=channels.builder(["echo"]), registry=channels)
    await second.start()
    try:
        echo = started_echo(second)
        await second.services.platform.set_status("online", actor="test")  # the queue is answered now
        reply = await asyncio.wait_for(echo.delivered.get(), 5)
        assert "UTC" in reply.text
        assert reply.conversation_key == "t-9"
        assert reply.metadata == {"thread": "t-9", "reply_to": "m-9"}
    finally:
        await second.stop()
