"""The Slack channel over the Events API against a fake Web API: signatures, inbound rules, threads, retries."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import select

from bot.store import tables as t
from channels.slack.channel import PATH, SlackChannel
from server.app import App
from server.settings import CHANNELS
from tests.conftest import SHARED, make_settings
from tests.fakes.fake_slack import (
    BOT_USER,
    SIGNING_SECRET,
    TEAM,
    FakeSlack,
    fake_slack,  # noqa: F401  (a fixture)
    slack_overrides,
    wait_for,
)
from tests.helpers import count, row_counts

EVENTS = sorted((SHARED / "fixtures" / "slack" / "events").glob("*.json"))
DOCS = SHARED / "fixtures" / "slack" / "docs_examples"


@dataclass
class Slack:
    app: App
    client: TestClient
    channel: SlackChannel
    fake: FakeSlack

    async def post(self, body: dict[str, Any] | bytes, *, secret: str = SIGNING_SECRET, age: int = 0,
                   retry: int | None = None, form: bool = False) -> tuple[int, Any]:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        timestamp = str(int(time.time()) - age)
        kind = "application/x-www-form-urlencoded" if form else "application/json"
        headers = {"X-Slack-Request-Timestamp": timestamp, "Content-Type": kind,
                   "X-Slack-Signature": SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=raw)}
        if retry is not None:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        response = await self.client.post(PATH, data=raw, headers=headers)
        return response.status, await response.json()

    async def replies(self, n: int) -> list[dict[str, Any]]:
        await wait_for(lambda: len(self.fake.posted()) >= n, message=f"{n} replies")
        return self.fake.posted()


@pytest.fixture
async def slack(tmp_path: Path, fake_slack: FakeSlack, aiohttp_client: Any) -> AsyncIterator[Slack]:  # noqa: F811
    settings = make_settings(tmp_path / "var", **slack_overrides(fake_slack))
    app = App(settings, channels=CHANNELS.builder(("http", "slack")))
    client = await aiohttp_client(app.web)
    channel = next(c for c in app.services.channels if isinstance(c, SlackChannel))
    yield Slack(app, client, channel, fake_slack)


_n = iter(range(1, 1_000_000))


def event(text: str, *, kind: str = "message", channel_type: str = "channel", channel: str = "C0001",
          user: str = "U0001", thread_ts: str | None = None, **extra: Any) -> dict[str, Any]:
    n = next(_n)
    ev: dict[str, Any] = {"type": kind, "user": user, "text": text, "ts": f"1700000100.{n:06d}",
                          "channel": channel, "channel_type": channel_type, **extra}
    if thread_ts:
        ev["thread_ts"] = thread_ts
    return {"type": "event_callback", "team_id": TEAM, "api_app_id": "A0001", "event": ev,
            "event_id": f"Ev{n:08d}", "event_time": 1700000100}


async def test_start_up_asks_who_the_bot_is(slack: Slack) -> None:
    assert slack.fake.calls[0][0] == "auth.test"
    assert slack.channel.bot_user_id == BOT_USER
    health = (await (await slack.client.get("/health")).json())["channels"]["slack"]
    assert health["status"] == "running"


async def test_url_verification_is_answered_with_the_challenge(slack: Slack) -> None:
    body = json.loads((SHARED / "fixtures/slack/events/test_events_url_verification__event_body.json").read_text())
    status, answer = await slack.post(body)
    assert status == 200 and answer == {"challenge": body["challenge"]}


@pytest.mark.parametrize(("secret", "age"), [("wrong-secret", 0), (SIGNING_SECRET, 600)])
async def test_bad_or_stale_signature_is_refused_and_nothing_stored(slack: Slack, secret: str, age: int) -> None:
    before = await row_counts(slack.app)
    status, body = await slack.post(event("hi", channel_type="im", channel="D0001"), secret=secret, age=age)
    assert status == 401 and body["error"]["code"] == "unauthenticated"
    assert await row_counts(slack.app) == before
    assert not slack.fake.posted()


async def test_mention_is_answered_in_its_thread(slack: Slack) -> None:
    body = event(f"<@{BOT_USER}> hello", kind="app_mention")
    assert (await slack.post(body))[0] == 200
    [reply] = await slack.replies(1)
    assert reply["channel"] == "C0001" and reply["thread_ts"] == body["event"]["ts"]


async def test_dm_is_answered_and_retries_answered_once(slack: Slack) -> None:
    body = event("hello", channel_type="im", channel="D0001")
    assert (await slack.post(body))[0] == 200
    assert (await slack.post(body, retry=1))[0] == 200
    slack.channel._seen.clear()  # as after a restart: the store's (channel, ts) still remembers
    assert (await slack.post(body, retry=2))[0] == 200
    await slack.replies(1)
    await slack.app.services.pipeline.drain()
    assert len(slack.fake.posted()) == 1
    assert "thread_ts" not in slack.fake.posted()[0]  # a DM without threads is answered at its root


async def test_channel_message_without_mention_is_ignored_but_thread_follow_up_is_answered(slack: Slack) -> None:
    assert (await slack.post(event("just chatting")))[0] == 200
    mention = event(f"<@{BOT_USER}> hi", kind="app_mention")
    await slack.post(mention)
    await slack.replies(1)
    root = mention["event"]["ts"]
    await slack.post(event("and one more thing", thread_ts=root))
    replies = await slack.replies(2)
    assert [r["thread_ts"] for r in replies] == [root, root]
    await slack.post(event("unrelated thread", thread_ts="1600000000.000001"))
    await slack.app.services.pipeline.drain()
    assert len(slack.fake.posted()) == 2


async def test_thread_follow_up_after_a_restart_still_lands_in_the_thread(slack: Slack) -> None:
    mention = event(f"<@{BOT_USER}> hi", kind="app_mention")
    await slack.post(mention)
    await slack.replies(1)
    slack.channel._threads.clear()  # as after a restart: the conversation in the store says it is ours
    root = mention["event"]["ts"]
    await slack.post(event("still there?", thread_ts=root))
    replies = await slack.replies(2)
    assert replies[1]["thread_ts"] == root


async def test_bot_and_own_messages_are_ignored(slack: Slack) -> None:
    await slack.post(event("from me", channel_type="im", channel="D0001", user=BOT_USER))
    await slack.post(event("from a bot", channel_type="im", channel="D0001", bot_id="B0999"))
    await slack.post(event("edited", channel_type="im", channel="D0001", subtype="message_changed"))
    await slack.app.services.pipeline.drain()
    assert not slack.fake.posted()
    assert slack.channel.health()["ignored"] == 3


async def test_429_retry_after_is_honoured_and_the_reply_sent_once(slack: Slack) -> None:
    slack.fake.fail("chat.postMessage", 429, retry_after=1)
    started = time.monotonic()
    await slack.post(event("hello", channel_type="im", channel="D0001"))
    await slack.replies(1)
    assert time.monotonic() - started >= 0.9
    await slack.app.services.pipeline.drain()
    assert len(slack.fake.posted()) == 1


async def test_markup_in_replies_is_escaped() -> None:
    from channels.slack.outbound import split_text, to_mrkdwn
    assert to_mrkdwn("a < b & **c** [x](https://e.com)") == "a &lt; b &amp; *c* <https://e.com|x>"
    assert all(len(c) <= 3900 for c in split_text("word " * 3000))


@pytest.mark.parametrize("path", EVENTS, ids=lambda p: p.stem)
async def test_every_fixture_is_handled_or_ignored_without_error(slack: Slack, path: Path) -> None:
    status, _ = await slack.post(path.read_bytes())
    assert status == 200


async def test_docs_examples_that_are_not_json_are_rejected_cleanly(slack: Slack) -> None:
    for path in sorted(DOCS.glob("*_as_printed.txt")):
        status, body = await slack.post(path.read_bytes())
        assert status == 400 and body["error"]["code"] == "bad_request"


async def test_an_edit_updates_the_stored_text_without_a_second_answer(slack: Slack) -> None:
    body = event("helo", channel_type="im", channel="D0001")
    await slack.post(body)
    await slack.replies(1)
    ts = body["event"]["ts"]
    edit = event("", channel_type="im", channel="D0001", subtype="message_changed",
                 message={"type": "message", "user": "U0001", "text": "hello", "ts": ts})
    assert (await slack.post(edit))[0] == 200
    await slack.app.services.pipeline.drain()
    assert len(slack.fake.posted()) == 1
    stored = t.message.c.external_id == f"{TEAM}:D0001:{ts}"
    row = await slack.app.services.db.one(select(t.message.c.text).where(stored))
    assert row is not None and row.text == "hello"


async def test_slash_command_is_acknowledged_at_once_and_answered_in_the_channel(slack: Slack) -> None:
    raw = (SHARED / "fixtures/slack/events/test_slash_command__slash_command_body.form.txt").read_bytes()
    status, body = await slack.post(raw, form=True)
    assert status == 200 and body["response_type"] == "ephemeral"  # another command's name: told, not run
    raw = raw.replace(b"command=%2Fhello-world", b"command=%2Fthinklio").replace(b"text=Hi", b"text=%2Fhelp")
    status, body = await slack.post(raw, form=True)
    assert status == 200 and body["text"] == "Working on it…"
    [reply] = await slack.replies(1)
    assert reply["channel"] == "C111" and "thread_ts" not in reply and reply["text"]


async def test_a_shared_file_is_downloaded_with_the_bot_token_into_knowledge(slack: Slack) -> None:
    url = slack.fake.add_file("notes.txt", b"The office wifi password is hunter2.")
    body = event("", channel_type="im", channel="D0001", subtype="file_share",
                 files=[{"id": "F1", "name": "notes.txt", "mimetype": "text/plain", "size": 36, "url_private": url}])
    assert (await slack.post(body))[0] == 200
    [reply] = await slack.replies(1)
    assert slack.fake.downloads == [("notes.txt", "Bearer xoxb-test-token")]
    assert reply["text"]
    assert "notes.txt" in reply["text"]  # the knowledge reader took it


async def test_group_dm_is_answered_only_when_mentioned(slack: Slack) -> None:
    await slack.post(event("talking among ourselves", channel_type="mpim", channel="G0001"))
    await slack.app.services.pipeline.drain()
    assert not slack.fake.posted()
    body = event(f"<@{BOT_USER}> what time is it", channel_type="mpim", channel="G0001")
    await slack.post(body)
    [reply] = await slack.replies(1)
    assert reply["channel"] == "G0001" and reply["thread_ts"] == body["event"]["ts"]


async def test_a_slack_outage_loses_no_reply(slack: Slack) -> None:
    slack.fake.fail("chat.postMessage", 500, times=2)
    await slack.post(event("hello", channel_type="im", channel="D0001"))
    await slack.replies(1)
    await slack.app.services.pipeline.drain()
    assert len(slack.fake.posted()) == 1
    assert len([c for c, p in slack.fake.calls if c == "chat.postMessage"]) == 3


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel", "is_archived"])
async def test_a_reply_slack_refuses_for_good_is_recorded_not_retried(slack: Slack, error: str) -> None:
    slack.fake.fail("chat.postMessage", 200, error=error)
    await slack.post(event("hello", channel_type="im", channel="D0001"))
    await wait_for(lambda: bool(slack.fake.called("chat.postMessage")), message="the one attempt")
    await slack.app.services.pipeline.drain()
    await slack.channel.outbox.flush()
    assert [p["_failed"] for _, p in slack.fake.called("chat.postMessage")] == [error]
    assert await count(slack.app, t.outbox) == 0  # nothing left to try again
    metrics = await (await slack.client.get("/metrics")).text()
    assert 'thinklio_delivery_failed_total{channel="slack"} 1.0' in metrics
    reply = t.message.c.direction == "out"
    assert await count(slack.app, t.message, reply) == 1  # the answer itself is kept


async def test_a_queued_reply_refused_for_good_is_given_up_with_its_error(slack: Slack) -> None:
    slack.fake.fail("chat.postMessage", 500)
    slack.fake.fail("chat.postMessage", 200, error="is_archived")
    await slack.post(event("hello", channel_type="im", channel="D0001"))
    rows = t.outbox.c.status == "failed"
    await wait_for_rows(slack.app, rows, 1)
    row = await slack.app.services.db.one(select(t.outbox.c.attempts, t.outbox.c.last_error).where(rows))
    assert row is not None and (row.attempts, row.last_error) == (2, "is_archived")
    await slack.channel.outbox.flush()
    assert len(slack.fake.called("chat.postMessage")) == 2 and not slack.fake.posted()


async def wait_for_rows(app: App, where: Any, n: int) -> None:
    deadline = time.monotonic() + 10
    while await count(app, t.outbox, where) < n:
        assert time.monotonic() < deadline, "timed out waiting for outbox rows"
        await asyncio.sleep(0.02)
