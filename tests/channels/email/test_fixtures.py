"""Every shared Postmark fixture through `parse_postmark`, and as RFC 5322 bytes through `parse_rfc5322`: each
one parses or is refused with a `MailError` and a stable reason, never another exception."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from channels.email.mail import InboundMail, MailError
from channels.email.postmark_inbound import parse_postmark
from channels.email.rfc5322 import parse_rfc5322
from tests.channels.email.mails import postmark_as_rfc5322
from tests.conftest import SHARED

FIXTURES = SHARED / "fixtures" / "postmark"
RECEIVED = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
ALL = sorted(FIXTURES.rglob("*.json"))

# What each fixture must give: a mail (with the facts checked below) or the reason it is refused.
EXPECTED_REFUSALS = {
    "postmarker_2017_webhook_fixtures/delivery_webhook.json": "postmark_event",
    "postmarker_2017_webhook_fixtures/delivery_webhook.raw.json": "postmark_event",
    "postmarker_2017_webhook_fixtures/open_webhook.json": "postmark_event",
    "postmarker_2017_webhook_fixtures/open_webhook.raw.json": "postmark_event",
}


def _name(path: Path) -> str:
    return path.relative_to(FIXTURES).as_posix()


def _load(name: str) -> dict[str, object]:
    return json.loads((FIXTURES / name).read_text())


def test_the_fixture_folder_is_all_there() -> None:
    assert len(ALL) == 12, [_name(path) for path in ALL]


@pytest.mark.parametrize("path", ALL, ids=_name)
def test_every_fixture_parses_or_is_refused_with_a_reason(path: Path) -> None:
    payload = json.loads(path.read_text())
    expected = EXPECTED_REFUSALS.get(_name(path))
    if expected:
        with pytest.raises(MailError) as caught:
            parse_postmark(payload, received_at=RECEIVED)
        assert caught.value.reason == expected and caught.value.code == "bad_request"
        assert caught.value.envelope()["error"]["details"] == {"reason": expected}
        return
    mail = parse_postmark(payload, received_at=RECEIVED)
    assert isinstance(mail, InboundMail)
    assert mail.message_id and mail.sender.email == mail.sender.email.lower() and "@" in mail.sender.email
    assert mail.date.tzinfo is not None


INBOUND = [path for path in ALL if "FromFull" in json.loads(path.read_text())]  # bounces have no RFC 5322 form


def test_the_inbound_fixtures() -> None:
    assert len(INBOUND) == 6


@pytest.mark.parametrize("path", INBOUND, ids=_name)
def test_every_inbound_fixture_as_smtp_bytes_gives_the_same_mail(path: Path) -> None:
    payload = json.loads(path.read_text())
    from_postmark = parse_postmark(payload, received_at=RECEIVED)
    from_smtp = parse_rfc5322(postmark_as_rfc5322(payload), received_at=RECEIVED,
                              recipient=payload.get("OriginalRecipient"))  # type: ignore[arg-type]
    assert from_smtp.message_id == from_postmark.message_id
    assert from_smtp.sender.email == from_postmark.sender.email
    assert from_smtp.subject == from_postmark.subject
    assert from_smtp.date == from_postmark.date
    assert [(a.name, a.content, a.error) for a in from_smtp.attachments] == [
        (a.name, a.content, a.error) for a in from_postmark.attachments]
    assert from_smtp.authenticated == from_postmark.authenticated


def test_postmark_current_shape() -> None:
    mail = parse_postmark(_load("official_postmark_skills/inbound_payload_example.json"), received_at=RECEIVED)
    assert mail.message_id == "caexample123@mail.example.com"  # the Message-ID header wins over MessageID
    assert mail.spelled_message_id == "CAExample123@mail.example.com"
    assert mail.mailbox_hash == "ticket-456" and mail.recipient == "support+ticket-456@yourdomain.com"
    assert mail.text == "I still haven't received my order."
    assert mail.subject == "Re: Issue with my order"
    assert mail.date == datetime(2025, 4, 5, 16, 59, 1, tzinfo=timezone(timedelta(hours=2)))
    assert mail.automatic is None and mail.authenticated is False
    # "base64-encoded-content" is not base64: kept as a bad attachment, the mail still answered
    assert [(a.name, a.error) for a in mail.bad_attachments] == [("screenshot.png", "invalid base64")]
    assert mail.attachments[0].content == b""


def test_gem_example_invalid_base64_attachments_are_notes_and_spf_passes() -> None:
    mail = parse_postmark(_load("official_postmark_gem/example_inbound.json"), received_at=RECEIVED)
    assert [(a.name, a.media_type, a.error) for a in mail.attachments] == [
        ("myimage.png", "image/png", "invalid base64"), ("mypaper.doc", "application/msword", "invalid base64")]
    assert mail.good_attachments == ()
    assert mail.sender.email == "myuser@theirdomain.com" and mail.sender.name == "John Doe"
    assert [a.email for a in mail.cc] == ["sample.cc@emaildomain.com", "another.cc@emaildomain.com"]
    assert mail.reply_to[0].email == "myusersreplyaddress@theirdomain.com"
    # Received-SPF: Pass ... envelope-from=myUser@theirDomain.com: the From domain is proven
    assert mail.authenticated is True
    assert mail.message_id == "cagxpo2wkfxhwz5ufycr3h_j9snmg+5axuovfefl6djwbjsyzaa@mail.gmail.com"


def test_mvdnbrk_samples_full_fields_win_and_good_attachment_decodes() -> None:
    mail = parse_postmark(_load("mvdnbrk_postmark_inbound/inbound.json"), received_at=RECEIVED)
    assert mail.sender.email == "john@example.com"  # FromFull over the plain From
    assert [a.email for a in mail.to] == ["jane+ahoy@inbound.postmarkapp.com"]
    assert mail.mailbox_hash == "ahoy"
    assert mail.text == "Okay, thank you for testing this inbound message!"  # StrippedTextReply
    good = mail.good_attachments
    assert [(a.name, a.content, a.media_type) for a in good] == [("test.txt", b"test", "plain/text")]
    assert mail.attachments[0].content_id == "myimage.png@01ce7342.75e71f80"
    # "Received-SPF: Pass (sender SPF authorized)" names no domain: it proves nothing about john@example.com
    assert mail.authenticated is False
    camel = parse_postmark(_load("mvdnbrk_postmark_inbound/inbound-camelcase-message-id.json"), received_at=RECEIVED)
    assert camel.message_id == "test-messag-id@mail.example.com"  # `Message-Id` casing of the header name
    assert camel.attachments == () and camel.cc == ()


def test_postmarker_inbound_quirks() -> None:
    mail = parse_postmark(_load("postmarker_2017_webhook_fixtures/inbound_webhook.json"), received_at=RECEIVED)
    # no Message-ID header: Postmark's MessageID is the external id
    assert mail.message_id == "73e6d360-66eb-11e1-8e72-a8904824019b"
    # the stray ">" of the plain Cc string is ignored: the structured CcFull is read
    assert [a.email for a in mail.cc] == ["firstcc@postmarkapp.com", "secondcc@postmarkapp.com"]
    assert mail.date == datetime(2014, 8, 1, 16, 45, 32, tzinfo=timezone(timedelta(hours=-4)))  # "-04:00"
    assert mail.text == "This is the reply text"
    assert mail.full_text == "This is a test text body."
    assert mail.attachments[0].content == b"This is attachment contents, base-64 encoded."
    assert mail.mailbox_hash == "SampleHash"
    raw = parse_postmark(_load("postmarker_2017_webhook_fixtures/inbound_webhook.raw.json"), received_at=RECEIVED)
    assert raw == mail


def test_postmark_bounce_webhook_is_an_automatic_mail() -> None:
    mail = parse_postmark(_load("postmarker_2017_webhook_fixtures/bounce_webhook.json"), received_at=RECEIVED)
    assert mail.automatic == "bounce (Postmark HardBounce)"
    assert mail.bounced == ("john@example.com",)
    assert mail.headers["x-postmark-message-id"] == "883953f4-6105-42a2-a16a-77a8eac79483"
    assert mail.date == datetime(2014, 8, 1, 13, 28, 10, 273539, tzinfo=timezone(timedelta(hours=-4)))


@pytest.mark.parametrize(("header", "value", "reason"), [
    ("Auto-Submitted", "auto-replied", "Auto-Submitted: auto-replied"),
    ("List-Id", "<team.example.com>", "mailing list (list-id)"),
    ("Return-Path", "<>", "null return path"),
    ("X-Spam-Status", "Yes, score=9.1", "spam"),
])
def test_postmark_headers_feed_the_same_checks(header: str, value: str, reason: str) -> None:
    payload = _load("official_postmark_skills/inbound_payload_example.json")
    payload["Headers"] = [*payload["Headers"], {"Name": header, "Value": value}]  # type: ignore[list-item]
    assert parse_postmark(payload, received_at=RECEIVED).automatic == reason


def test_postmark_authentication_results_header() -> None:
    payload = _load("official_postmark_skills/inbound_payload_example.json")
    payload["Headers"] = [{"Name": "Authentication-Results",
                           "Value": "mx.postmarkapp.com; dkim=pass header.d=example.com"}]
    assert parse_postmark(payload, received_at=RECEIVED).authenticated is True
    payload["Headers"] = [{"Name": "Authentication-Results",
                           "Value": "mx.postmarkapp.com; dkim=pass header.d=elsewhere.example"}]
    assert parse_postmark(payload, received_at=RECEIVED).authenticated is False
