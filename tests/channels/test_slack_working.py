"""What a Slack user sees around a reply: the "working" signal while the model runs (the assistant thread status,
or a reaction where the app cannot set one) and the sender's name from users.info, cached."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from agents.llm.base import ChatMessage, ChatResult, ToolSpec, Usage
from bot.store import tables as t
from channels.slack.channel import SlackChannel
from channels.slack.users import Names
from channels.slack.working import REACTION, STATUS
from server.app import App
from server.settings import CHANNELS
from tests.conftest import make_settings
from tests.fakes.clock import FakeClock
from tests.fakes.fake_slack import (
    BOT_TOKEN,
    BOT_USER,
    TEAM,
    FakeSlack,
    fake_slack,  # noqa: F401  (a fixture)
    slack_overrides,
    wait_for,
)
from tests.fakes.scripted_provider import ScriptedProvider

from .test_slack_events import Slack, event

QUESTION = "please write me a short story about the sea"  # nothing triage answers: the model does
SIGNALS = ("assistant.threads.setStatus", "reactions.add", "reactions.remove")


class SlowProvider(ScriptedProvider):
    """Answers once released, so the signal can be seen while the model works."""

    def __init__(self, answer: str = "Once upon a tide.") -> None:
        super().__init__(lambda messages, tools: ChatResult(answer, (), Usage(10, 10), "scripted-model"))
        self.release = asyncio.Event()

    async def chat(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = (), **options: Any) -> ChatResult:
        await self.release.wait()
        return await super().chat(messages, tools, **options)


@pytest.fixture
def provider() -> SlowProvider:
    return SlowProvider()


@pytest.fixture
async def slack(tmp_path: Path, fake_slack: FakeSlack, aiohttp_client: Any,  # noqa: F811
                provider: SlowProvider) -> AsyncIterator[Slack]:
    settings = make_settings(tmp_path / "var", **slack_overrides(fake_slack))
    app = App(settings, channels=CHANNELS.builder(("slack",)), provider=provider)
    client = await aiohttp_client(app.web)
    channel = next(c for c in app.services.channels if isinstance(c, SlackChannel))
    yield Slack(app, client, channel, fake_slack)


def methods(fake: FakeSlack) -> list[str]:
    return [method for method, _ in fake.called(*SIGNALS, "chat.postMessage")]


async def test_a_model_turn_shows_the_thread_status_then_the_reply_clears_it(slack: Slack,
                                                                             provider: SlowProvider) -> None:
    body = event(f"<@{BOT_USER}> {QUESTION}", kind="app_mention")
    await slack.post(body)
    await wait_for(lambda: bool(slack.fake.called("assistant.threads.setStatus")), message="the status")
    [(_, status)] = slack.fake.called("assistant.threads.setStatus")
    assert (status["channel_id"], status["thread_ts"], status["status"]) == ("C0001", body["event"]["ts"], STATUS)
    assert not slack.fake.posted()  # shown while the model is still working
    provider.release.set()
    [reply] = await slack.replies(1)
    await slack.app.services.pipeline.drain()
    assert reply["text"] == "Once upon a tide." and reply["thread_ts"] == body["event"]["ts"]
    # Posting the reply clears the status: no second call, and no reaction.
    assert methods(slack.fake) == ["assistant.threads.setStatus", "chat.postMessage"]


async def test_where_the_status_is_refused_a_reaction_is_used_for_that_workspace(slack: Slack,
                                                                                 provider: SlowProvider) -> None:
    provider.release.set()
    slack.fake.fail("assistant.threads.setStatus", 200, error="not_allowed_token_type", times=5)
    first, second = (event(f"<@{BOT_USER}> {QUESTION}", kind="app_mention") for _ in range(2))
    await slack.post(first)
    await wait_for(lambda: len(slack.fake.called("reactions.remove")) == 1, message="the first reaction off")
    await slack.post(second)
    await wait_for(lambda: len(slack.fake.called("reactions.remove")) == 2, message="the second reaction off")
    # Tried once for the workspace; each message then gets the reaction, added before and removed after the reply.
    assert methods(slack.fake) == ["assistant.threads.setStatus", "reactions.add", "chat.postMessage",
                                   "reactions.remove", "reactions.add", "chat.postMessage", "reactions.remove"]
    reactions = slack.fake.called("reactions.add", "reactions.remove")
    assert [(p["channel"], p["timestamp"], p["name"]) for _, p in reactions] == [
        ("C0001", ts, REACTION) for ts in (first["event"]["ts"],) * 2 + (second["event"]["ts"],) * 2]


async def test_a_dm_at_its_root_gets_the_reaction(slack: Slack, provider: SlowProvider) -> None:
    provider.release.set()
    body = event(QUESTION, channel_type="im", channel="D0001")
    await slack.post(body)
    await wait_for(lambda: len(slack.fake.called("reactions.remove")) == 1, message="the reaction taken off")
    assert methods(slack.fake) == ["reactions.add", "chat.postMessage", "reactions.remove"]


async def test_a_failing_signal_never_touches_the_reply_and_a_passing_failure_is_not_remembered(
        slack: Slack, provider: SlowProvider) -> None:
    provider.release.set()
    slack.fake.fail("assistant.threads.setStatus", 500)
    slack.fake.fail("reactions.add", 200, error="too_many_reactions")
    await slack.post(event(f"<@{BOT_USER}> {QUESTION}", kind="app_mention"))
    [reply] = await slack.replies(1)
    assert reply["text"] == "Once upon a tide."
    await slack.post(event(f"<@{BOT_USER}> {QUESTION}", kind="app_mention"))
    await slack.replies(2)
    await slack.app.services.pipeline.drain()
    assert methods(slack.fake) == ["assistant.threads.setStatus", "reactions.add", "chat.postMessage",
                                   "assistant.threads.setStatus", "chat.postMessage"]


async def test_a_direct_answer_shows_no_signal(slack: Slack) -> None:
    await slack.post(event(f"<@{BOT_USER}> hello", kind="app_mention"))
    await slack.replies(1)
    await slack.app.services.pipeline.drain()
    row = await slack.app.services.db.one(select(t.interaction.c.tier))
    assert row is not None and row.tier == "triage"
    assert not slack.fake.called(*SIGNALS)


async def test_the_sender_is_named_from_users_info_once(slack: Slack, provider: SlowProvider) -> None:
    provider.release.set()
    slack.fake.users["U0001"] = {"id": "U0001", "name": "ada", "real_name": "Ada Lovelace",
                                 "profile": {"display_name": "Countess", "real_name": "Ada Lovelace"}}
    for text in ("hello", "hello again"):
        await slack.post(event(text, channel_type="im", channel="D0001"))
    await slack.replies(2)
    assert [p["user"] for _, p in slack.fake.called("users.info")] == ["U0001"]
    row = await slack.app.services.db.one(select(t.user_profile.c.display_name, t.channel_identity.c.display_name
                                                 .label("seen_as")).join(t.channel_identity))
    assert row is not None and (row.display_name, row.seen_as) == ("Countess", "Countess")


async def test_the_slack_locale_is_the_first_guess_of_the_language(slack: Slack, provider: SlowProvider) -> None:
    provider.release.set()
    slack.fake.users["U0001"] = {"id": "U0001", "name": "ana", "locale": "es-ES", "profile": {}}
    await slack.post(event("thanks!", channel_type="im", channel="D0001"))
    [reply] = await slack.replies(1)
    assert reply["text"] == "¡De nada!"
    assert [p.get("include_locale") for _, p in slack.fake.called("users.info")] == ["1"]
    row = await slack.app.services.db.one(select(t.user_profile.c.locale))
    assert row is not None and row.locale == "es_ES"


async def test_a_failing_users_info_never_holds_the_message_up(slack: Slack, provider: SlowProvider) -> None:
    provider.release.set()
    slack.fake.fail("users.info", 500)
    await slack.post(event("hello", channel_type="im", channel="D0001"))
    [reply] = await slack.replies(1)
    assert reply["text"]
    row = await slack.app.services.db.one(select(t.user_profile.c.display_name))
    assert row is not None and row.display_name == f"{TEAM}:U0001"  # the user id stands in


async def test_names_are_kept_an_hour_per_team_and_user(fake_slack: FakeSlack) -> None:  # noqa: F811
    fake_slack.users["U0001"] = {"id": "U0001", "name": "ada", "real_name": "Ada Lovelace", "profile": {}}
    fake_slack.users["U0002"] = {"id": "U0002", "name": "grace", "profile": {"display_name": " "}}
    clock = FakeClock()
    names = Names(AsyncWebClient(token=BOT_TOKEN, base_url=fake_slack.url), clock)
    assert (await names.person(TEAM, "U0001")).name == "Ada Lovelace"  # no display name: the real name
    assert (await names.person(TEAM, "U0001")).name == "Ada Lovelace"
    assert (await names.person(TEAM, "U0002")).name == "grace"  # a blank display name: the handle
    assert (await names.person(TEAM, "U0404")).name is None  # user_not_found: remembered too
    assert (await names.person(TEAM, "U0404")).name is None
    assert len(fake_slack.called("users.info")) == 3
    fake_slack.users["U0001"]["profile"] = {"display_name": "Countess"}
    clock.advance(minutes=61)
    assert (await names.person(TEAM, "U0001")).name == "Countess"
    assert len(fake_slack.called("users.info")) == 4


async def test_a_status_the_reply_did_not_clear_is_set_empty(slack: Slack, provider: SlowProvider) -> None:
    provider.release.set()
    slack.fake.fail("chat.postMessage", 500)  # the reply waits in the outbox: nothing in the thread clears it
    await slack.post(event(f"<@{BOT_USER}> {QUESTION}", kind="app_mention"))
    await slack.replies(1)
    await wait_for(lambda: len(slack.fake.called("assistant.threads.setStatus")) == 2, message="the status cleared")
    assert [p["status"] for _, p in slack.fake.called("assistant.threads.setStatus")] == [STATUS, ""]
