"""Postmark's inbound webhook: every shared fixture handled or rejected with nothing half-stored, basic auth,
the streamed body limit, and replies through the real postmarker client against a fake Postmark API,
including Postmark being down and coming back."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.store import tables as t
from tests.channels.email.email_env import AUTH, Mailbox, add_agents, build
from tests.conftest import SHARED
from tests.fakes.fake_postmark import (
    TOKEN,
    FakePostmark,
    fake_postmark,  # noqa: F401  (a fixture)
)
from tests.fakes.fake_slack import wait_for
from tests.helpers import count, row_counts

FIXTURES = sorted((SHARED / "fixtures" / "postmark").rglob("*.json"))
# The inbound addresses of the fixtures reach the default agent; their +tags name agents made for the test.
ALIASES = ["jane@inbound.postmarkapp.com", "1234@inbound.postmarkapp.com", "support@yourdomain.com",
           "451d9b70cf9364d23ff6f9d51d870251569e@inbound.postmarkapp.com", "yourhash@inbound.postmarkapp.com"]
TAG_AGENTS = ("ahoy", "samplehash", "ticket-456")
# What becomes of each: answered (with the notes a reply must carry), or left out.
EXPECTED: dict[str, tuple[str, tuple[str, ...]]] = {
    "inbound-camelcase-message-id.json": ("accepted", ()),
    "inbound.json": ("accepted", ("myimage.png",)),  # invalid base64; test.txt is read
    "example_inbound.json": ("accepted", ("myimage.png", "mypaper.doc")),  # both placeholders, not base64
    "inbound_payload_example.json": ("accepted", ("screenshot.png",)),
    "inbound_webhook.json": ("accepted", ()),
    "inbound_webhook.raw.json": ("accepted", ()),
    "bounce_webhook.json": ("blocked", ()),
    "bounce_webhook.raw.json": ("blocked", ()),
    "delivery_webhook.json": ("ignored", ()),
    "delivery_webhook.raw.json": ("ignored", ()),
    "open_webhook.json": ("ignored", ()),
    "open_webhook.raw.json": ("ignored", ()),
}


@pytest.fixture
async def box(tmp_path: Path, aiohttp_client: Any, fake_postmark: FakePostmark) -> AsyncIterator[Mailbox]:  # noqa: F811
    mailbox = await build(tmp_path, aiohttp_client, email_aliases=ALIASES, postmark_server_token=TOKEN,
                          postmark_api_base=fake_postmark.url, email_retry_seconds=0.05)
    await add_agents(mailbox, *TAG_AGENTS)
    yield mailbox


def test_every_fixture_has_an_expectation() -> None:
    assert sorted(p.name for p in FIXTURES) == sorted(EXPECTED)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
async def test_every_fixture_through_the_webhook(box: Mailbox, fake_postmark: FakePostmark, path: Path) -> None:  # noqa: F811
    expected, notes = EXPECTED[path.name]
    before = await row_counts(box.app)
    status, body = await box.post(json.loads(path.read_text()))
    assert status == 200 and body["status"] == expected
    await box.settled()
    if expected != "accepted":
        assert await row_counts(box.app) == before  # nothing stored, not even in part
        assert fake_postmark.sent == []
        if expected == "blocked":
            assert "john@example.com" in box.channel.blocklist
        return
    await wait_for(lambda: len(fake_postmark.sent) == 1, message="the reply sent through Postmark")
    [reply] = fake_postmark.sent
    assert await count(box.app, t.interaction) == 1
    headers = {h["Name"]: h["Value"] for h in reply["Headers"]}
    assert headers["Auto-Submitted"] == "auto-replied" and headers["In-Reply-To"].startswith("<")
    assert reply["Subject"].startswith("Re: ") and not reply["Subject"].startswith("Re: Re:")
    for name in notes:
        assert name in reply["TextBody"]


async def test_the_fixture_attachment_is_kept_and_read(box: Mailbox) -> None:
    payload = json.loads((SHARED / "fixtures/postmark/mvdnbrk_postmark_inbound/inbound.json").read_text())
    assert (await box.post(payload))[0] == 200
    await box.settled()
    [row] = await box.app.services.db.all(select(t.message.c.attachments).where(t.message.c.direction == "in"))
    [attachment] = row.attachments
    assert attachment["name"] == "test.txt" and attachment["size"] == 4
    files = list((box.channel.files.folder).rglob("*"))
    assert any(p.is_file() and p.read_bytes() == b"test" for p in files)


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Basic " + base64.b64encode(b"postmark:wrong").decode()},
    {"Authorization": "Basic " + base64.b64encode(b"someone:hook-secret").decode()},
    {"Authorization": "Basic not-base64!"},
    {"Authorization": "Bearer hook-secret"},
])
async def test_wrong_or_missing_basic_auth_is_refused_with_nothing_stored(box: Mailbox,
                                                                          headers: dict[str, str]) -> None:
    payload = json.loads((SHARED / "fixtures/postmark/official_postmark_skills/inbound_payload_example.json")
                         .read_text())
    before = await row_counts(box.app)
    status, body = await box.post(payload, headers=headers)
    assert status == 401 and body["error"]["code"] == "unauthenticated"
    assert await row_counts(box.app) == before


async def test_a_body_over_the_limit_is_refused_while_streaming(tmp_path: Path, aiohttp_client: Any) -> None:
    box = await build(tmp_path, aiohttp_client, email_max_mail_bytes=64 * 1024)

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit must hold on the stream
        yield b'{"From": "sam@example.com", "TextBody": "'
        for _ in range(200):
            yield b"x" * 1024
        yield b'"}'

    response = await box.client.post("/v1/channels/email/postmark", data=chunks(), headers=AUTH)
    assert response.status == 413 and (await response.json())["error"]["code"] == "bad_request"
    assert await count(box.app, t.message) == 0


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'{"Subject": "no sender"}'])
async def test_a_body_that_is_not_a_mail_is_a_bad_request(box: Mailbox, raw: bytes) -> None:
    status, body = await box.post(raw)
    assert status == 400 and body["error"]["code"] == "bad_request"
    assert await count(box.app, t.message) == 0


def inbound(text: str, *, message_id: str, sender: str = "sam@example.com", to: str = "assistant@localhost",
            headers: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"FromFull": {"Email": sender, "Name": "Sam"}, "ToFull": [{"Email": to, "Name": ""}],
            "OriginalRecipient": to, "Subject": "Question", "MessageID": message_id, "TextBody": text,
            "Date": "Thu, 26 Nov 2026 10:00:00 +0100", "Headers": headers or [], "Attachments": []}


async def test_an_unknown_recipient_is_acknowledged_with_nothing_stored(box: Mailbox) -> None:
    before = await row_counts(box.app)
    status, body = await box.post(inbound("/help", message_id="u-1", to="someone@elsewhere.example"))
    assert status == 200 and body["status"] == "unknown"
    status, body = await box.post(inbound("/help", message_id="u-2", to="assistant+nosuchagent@localhost"))
    assert status == 200 and body["status"] == "unknown"
    assert await row_counts(box.app) == before


async def test_plus_addressing_reaches_the_agent_named_by_the_tag(box: Mailbox, fake_postmark: FakePostmark) -> None:  # noqa: F811
    status, body = await box.post(inbound("/whoami", message_id="tag-1", to="assistant+ahoy@localhost"))
    assert (status, body["status"]) == (200, "accepted")
    await wait_for(lambda: len(fake_postmark.sent) == 1, message="the reply")
    assert fake_postmark.sent[0]["From"].endswith("<assistant+ahoy@localhost>")
    channel = await box.app.services.directory.channel("email-ahoy")
    assert channel is not None
    assert await count(box.app, t.message, t.message.c.channel_id == channel.id) == 2


async def test_a_redelivered_webhook_gets_no_second_reply(box: Mailbox, fake_postmark: FakePostmark) -> None:  # noqa: F811
    payload = inbound("hello there", message_id="again-1")  # a thread's first mail: read with its subject
    assert (await box.post(payload))[1]["status"] == "accepted"
    await wait_for(lambda: len(fake_postmark.sent) == 1, message="the reply")
    assert (await box.post(payload))[1]["status"] == "duplicate"
    await box.settled()
    assert len(fake_postmark.sent) == 1 and await count(box.app, t.interaction) == 1


async def test_postmark_down_then_back_loses_nothing(box: Mailbox, fake_postmark: FakePostmark) -> None:  # noqa: F811
    fake_postmark.fail(500, times=3)
    assert (await box.post(inbound("/whoami", message_id="down-1")))[1]["status"] == "accepted"
    await wait_for(lambda: len(fake_postmark.sent) == 1, message="the reply once Postmark is back")
    assert fake_postmark.attempts == 4
    await wait_for(lambda: box.channel.outbox.waiting == 0, message="the outbox settled")
    rows = await box.app.services.db.all(select(t.outbox))
    assert [row.status for row in rows] == ["sent"]


async def test_a_reply_postmark_refuses_for_good_is_recorded_failed(box: Mailbox,
                                                                    fake_postmark: FakePostmark) -> None:  # noqa: F811
    fake_postmark.fail(500)
    fake_postmark.fail(422, error_code=300)  # Invalid email request: it will never go
    assert (await box.post(inbound("/whoami", message_id="never-1")))[1]["status"] == "accepted"
    await wait_for(lambda: fake_postmark.attempts == 2, message="two attempts")
    await wait_for(lambda: box.channel.outbox.waiting == 0, message="the outbox settled")
    [row] = await box.app.services.db.all(select(t.outbox))
    assert row.status == "failed" and "300" in row.last_error
    assert fake_postmark.sent == []


async def test_an_inactive_recipient_is_blocked_until_they_write_again(box: Mailbox,
                                                                       fake_postmark: FakePostmark) -> None:  # noqa: F811
    fake_postmark.fail(422, error_code=406)
    assert (await box.post(inbound("/whoami", message_id="inactive-1")))[1]["status"] == "accepted"
    await wait_for(lambda: "sam@example.com" in box.channel.blocklist, message="the recipient blocked")
    [ticket] = await box.app.services.db.all(select(t.message.c.conversation_id).where(t.message.c.direction == "in"))
    with pytest.raises(Exception, match="refused our mail"):  # a reminder now would not go
        await box.app.services.pipeline.outlets.send(ticket.conversation_id, "Reminder: stretch")
    assert fake_postmark.attempts == 1
    assert (await box.post(inbound("/whoami", message_id="inactive-2")))[1]["status"] == "accepted"
    assert "sam@example.com" not in box.channel.blocklist
    await wait_for(lambda: len(fake_postmark.sent) == 1, message="the reply to the new mail")


async def test_a_sender_over_the_rate_limit_is_asked_to_retry_with_nothing_stored(
        tmp_path: Path, aiohttp_client: Any) -> None:
    box = await build(tmp_path, aiohttp_client, email_rate_burst=1, email_rate_per_hour=1)
    assert (await box.post(inbound("/whoami", message_id="rate-1")))[1]["status"] == "accepted"
    await box.settled()
    before = await row_counts(box.app)
    response = await box.client.post("/v1/channels/email/postmark", json=inbound("/whoami", message_id="rate-2"),
                                     headers=AUTH)
    assert response.status == 429 and response.headers["Retry-After"]
    assert (await response.json())["error"]["code"] == "rate_limited"
    assert await row_counts(box.app) == before
