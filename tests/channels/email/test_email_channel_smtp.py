"""The email channel over real SMTP sessions (smtplib to the aiosmtpd listener): routing, threading, dedupe,
loop protection, and replies written to the outbox folder."""

from __future__ import annotations

import smtplib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.store import tables as t
from tests.channels.email.email_env import Mailbox, add_agents, body_of, build, mail
from tests.helpers import count, row_counts


@pytest.fixture
async def box(tmp_path: Path, aiohttp_client: Any) -> Mailbox:
    return await build(tmp_path, aiohttp_client)


async def test_a_mail_is_answered_in_its_thread_from_the_agents_address(box: Mailbox) -> None:
    await box.send(mail(body="/help", subject="Help please", message_id="<first@example.com>"))
    [reply] = await box.replies(1)
    assert reply["To"] == "Sam <sam@example.com>"
    assert reply["From"].addresses[0].addr_spec == "assistant@localhost"
    assert reply["Subject"] == "Re: Help please"
    assert reply["In-Reply-To"] == "<first@example.com>"
    assert reply["References"] == "<first@example.com>"
    assert reply["Auto-Submitted"] == "auto-replied"
    assert "Commands" in body_of(reply)  # the command was answered as a command
    health = (await (await box.client.get("/health")).json())["channels"]["email"]
    assert health["status"] == "running" and health["last_mail_at"] and health["outbound"] == "folder"
    assert health["inbound"] == [f"smtp 127.0.0.1:{box.port}", "postmark"]


async def test_unknown_recipient_is_refused_at_rcpt_with_nothing_stored(box: Mailbox) -> None:
    before = await row_counts(box.app)
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        await box.send(mail(to="nobody@localhost"), to=["nobody@localhost"])
    assert refused.value.recipients["nobody@localhost"][0] == 550
    assert await row_counts(box.app) == before


async def test_the_same_mail_twice_is_answered_once(box: Mailbox) -> None:
    raw = mail(body="/whoami", message_id="<twice@example.com>")
    await box.send(raw)
    await box.replies(1)
    await box.send(raw)
    await box.settled()
    assert len(box.written()) == 1
    assert await count(box.app, t.interaction) == 1


@pytest.mark.parametrize("headers", [
    {"Auto-Submitted": "auto-replied"},
    {"Precedence": "bulk"},
    {"List-Id": "<team.lists.example.com>"},
    {"X-Autoreply": "yes"},
])
async def test_automated_mail_gets_no_answer_and_nothing_stored(box: Mailbox, headers: dict[str, str]) -> None:
    before = await row_counts(box.app)
    await box.send(mail(body="I am out of office", headers=headers))
    await box.settled()
    assert box.written() == []
    assert await row_counts(box.app) == before
    assert box.channel.counts["ignored"] == 1


async def test_a_bounce_gets_no_answer(box: Mailbox) -> None:
    raw = mail(sender="MAILER-DAEMON@mx.example.com", subject="Undelivered Mail Returned to Sender",
               body="This is the mail system at host mx.example.com. I'm sorry to have to inform you...")
    await box.send(raw, sender="")
    await box.settled()
    assert box.written() == []
    assert await count(box.app, t.message) == 0


async def test_mail_from_our_own_address_is_not_answered(box: Mailbox) -> None:
    await box.send(mail(sender="Assistant <assistant+x@localhost>", body="a loop"), sender="assistant@localhost")
    await box.settled()
    assert box.written() == [] and await count(box.app, t.message) == 0


async def test_three_mails_of_a_thread_land_in_one_conversation(box: Mailbox) -> None:
    await box.send(mail(body="/whoami", subject="Plans", message_id="<a1@example.com>"))
    [first] = await box.replies(1)
    ours = first["Message-ID"]
    # The second answers our reply and carries the whole chain in References.
    await box.send(mail(body="/help", subject="Re: Plans", message_id="<a2@example.com>", in_reply_to=ours,
                        references=f"<a1@example.com> {ours}"))
    second = (await box.replies(2))[1]
    assert second["Subject"] == "Re: Plans"
    assert second["In-Reply-To"] == "<a2@example.com>"
    assert "<a1@example.com>" in second["References"] and ours in second["References"]
    # The third names only our last reply (some clients keep no References) and quotes everything.
    quoted = "\n".join(f"> {line}" for line in body_of(second).splitlines())
    await box.send(mail(body=f"/whoami\n\nOn Thu, Sam wrote:\n{quoted}", subject="RE: Re: Plans",
                        message_id="<a3@example.com>", in_reply_to=second["Message-ID"]))
    third = (await box.replies(3))[2]
    assert third["Subject"] == "Re: Plans"
    assert third["In-Reply-To"] == "<a3@example.com>"
    conversations = await box.app.services.db.all(select(t.conversation))
    assert len(conversations) == 1 and conversations[0].title == "Plans"
    texts = [row.text for row in await box.app.services.db.all(
        select(t.message.c.text).where(t.message.c.direction == "in").order_by(t.message.c.id))]
    assert texts == ["/whoami", "/help", "/whoami"]  # the quoted history is not part of the message


async def test_a_new_subject_without_references_is_a_new_conversation(box: Mailbox) -> None:
    await box.send(mail(body="/whoami", subject="One", message_id="<n1@example.com>"))
    await box.send(mail(body="/whoami", subject="Two", message_id="<n2@example.com>"))
    await box.replies(2)
    assert await count(box.app, t.conversation) == 2


async def test_a_stranger_naming_a_message_id_gets_a_conversation_of_their_own(box: Mailbox) -> None:
    await box.send(mail(body="/whoami", subject="Private", message_id="<p1@example.com>"))
    await box.replies(1)
    await box.send(mail(body="/whoami", sender="eve@evil.example", subject="Re: Private",
                        message_id="<p2@evil.example>", in_reply_to="<p1@example.com>"), sender="eve@evil.example")
    await box.replies(2)
    rows = await box.app.services.db.all(select(t.conversation))
    assert len(rows) == 2 and len({row.user_id for row in rows}) == 2


async def test_cc_is_kept_and_our_own_address_left_out(box: Mailbox) -> None:
    await box.send(mail(body="/whoami", cc="Kim <kim@example.com>, assistant@localhost", message_id="<c1@x.com>"))
    [reply] = await box.replies(1)
    assert reply["Cc"] == "Kim <kim@example.com>"


async def test_plus_addressing_over_smtp_and_an_unknown_tag_refused(box: Mailbox) -> None:
    await add_agents(box, "research")
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        await box.send(mail(to="assistant+nobody@localhost"), to=["assistant+nobody@localhost"])
    await box.send(mail(body="/whoami", to="assistant+research@localhost", message_id="<tag@example.com>"),
                   to=["assistant+research@localhost"])
    [reply] = await box.replies(1)
    assert reply["From"].addresses[0].addr_spec == "assistant+research@localhost"
    channel = await box.app.services.directory.channel("email-research")
    assert channel is not None and await count(box.app, t.conversation, t.conversation.c.channel_id == channel.id) == 1


async def test_an_html_only_mail_is_read_as_text(box: Mailbox) -> None:
    raw = (b"From: Sam <sam@example.com>\r\nTo: assistant@localhost\r\nSubject: Hi\r\nMessage-ID: <h@example.com>\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
           b"<html><body><p>/whoami</p></body></html>\r\n")
    await box.send(raw)
    await box.replies(1)
    [row] = await box.app.services.db.all(select(t.message.c.text).where(t.message.c.direction == "in"))
    assert row.text == "/whoami"
