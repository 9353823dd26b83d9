"""RFC 5322 bytes as the SMTP listener receives them: broken headers, bad charsets, missing parts, attachments,
bounces. A mail is refused only when nobody could be answered; every refusal is a `MailError` with a reason."""

from __future__ import annotations

import base64
import json
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from channels.email.decoding import decode_base64, safe_filename
from channels.email.mail import MailError
from channels.email.postmark_inbound import parse_postmark
from channels.email.rfc5322 import MAX_PARTS, parse_rfc5322
from tests.channels.email.mails import postmark_as_rfc5322, simple_mail
from tests.conftest import SHARED

RECEIVED = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def parse(raw: bytes, **kwargs: str | None):
    return parse_rfc5322(raw, received_at=RECEIVED, **kwargs)


@pytest.mark.parametrize(("raw", "reason"), [
    (b"", "not_a_mail"),
    (b"   \r\n\r\n  ", "not_a_mail"),
    (b"just some text, no headers at all\n", "not_a_mail"),
    (b"\x00\xff\xfe binary junk \x89PNG\r\n\x1a\n", "not_a_mail"),
    (simple_mail(headers={"From": ""}), "no_sender"),
    (simple_mail(headers={"From": "   "}).replace(b"Message-ID", b"From:   \r\nMessage-ID"), "no_sender"),
    (simple_mail(sender="undisclosed-recipients:;"), "bad_sender"),
    (simple_mail(sender="Sam Smith"), "bad_sender"),
    (simple_mail(sender="<@>"), "bad_sender"),
])
def test_unusable_mail_is_refused_with_a_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(MailError) as caught:
        parse(raw)
    assert caught.value.reason == reason
    assert caught.value.message and reason in str(caught.value)


def test_not_bytes_is_not_a_mail() -> None:
    with pytest.raises(MailError) as caught:
        parse_rfc5322("From: a@b.c\r\n\r\nhi", received_at=RECEIVED)  # type: ignore[arg-type]
    assert caught.value.reason == "not_a_mail"


def test_a_plain_mail() -> None:
    mail = parse(simple_mail(body="Hello there,\r\nsecond line\r\n"), recipient="<Assistant+Research@Localhost>")
    assert mail.message_id == "m1@example.com" and mail.sender.email == "sam@example.com"
    assert mail.sender.name == "Sam" and mail.subject == "Hello"
    assert mail.text == "Hello there,\nsecond line"
    assert mail.date == datetime(2026, 12, 4, 10, tzinfo=timezone(timedelta(hours=1)))
    assert mail.recipient == "assistant+research@localhost" and mail.mailbox_hash == "research"
    assert mail.automatic is None and mail.authenticated is False and mail.attachments == ()


def test_sender_header_used_when_from_is_missing_and_first_from_wins() -> None:
    raw = simple_mail(headers={"From": "", "Sender": "Ops <ops@example.com>"})
    assert parse(raw).sender.email == "ops@example.com"
    two = simple_mail(sender="a@example.com, b@example.com")
    assert parse(two).sender.email == "a@example.com"


def test_broken_headers_degrade_field_by_field() -> None:
    raw = (b"From: =?utf-8?q?Bro=ken?= <sam@example.com>\r\n"
           b"To: \"unterminated <a@x.com>, , <>, bob@example.com\r\n"
           b"Cc: :;:,@@,\r\n"
           b"Subject: =?x-unknown?q?Hello?= =?utf-8?b?!!notbase64?=\r\n"
           b"Date: Tuesday sometime\r\n"
           b"Message-ID: no brackets and spaces\r\n"
           b"In-Reply-To: <<<>>>\r\n"
           b"Content-Type: text/plain; charset=\"\r\n"
           b"Content-Transfer-Encoding: x-unknown\r\n"
           b"X-Broken-Fold:\r\n"
           b" \r\n"
           b"\r\n"
           b"body survives\r\n")
    mail = parse(raw)
    assert mail.sender.email == "sam@example.com"
    assert "bob@example.com" in [a.email for a in mail.to]
    assert mail.cc == ()
    assert "Hello" in mail.subject
    assert mail.date == RECEIVED  # unreadable Date: the receive time
    assert mail.in_reply_to == ()
    assert mail.text == "body survives"
    assert mail.message_id.endswith("@thinklio.invalid")  # no usable Message-ID: a stable generated one


def test_a_missing_message_id_gives_the_same_id_for_the_same_bytes() -> None:
    raw = simple_mail(headers={"Message-ID": ""})
    first, again = parse(raw), parse(raw)
    assert first.message_id == again.message_id and first.message_id.endswith("@thinklio.invalid")
    assert parse(simple_mail(headers={"Message-ID": ""}, body="other")).message_id != first.message_id


def test_eight_bit_headers_and_bad_charsets() -> None:
    raw = ("From: Jörg Müller <joerg@example.de>\r\nSubject: Grüße aus Köln\r\nMessage-ID: <u@x>\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n\r\nGrüße!\r\n").encode()
    mail = parse(raw)
    assert mail.sender.name == "Jörg Müller" and mail.subject == "Grüße aus Köln" and mail.text == "Grüße!"
    latin = ("From: Jörg <joerg@example.de>\r\nSubject: Café\r\nMessage-ID: <l@x>\r\n"
             "Content-Type: text/plain; charset=iso-8859-1\r\n\r\nCafé crème\r\n").encode("latin-1")
    mail = parse(latin)
    assert mail.sender.name == "Jörg" and mail.subject == "Café" and mail.text == "Café crème"
    for charset in (b"x-no-such-charset", b"base64", b"rot13", b"utf-8\"; foo=\"", b"idna"):
        raw = (b"From: a@example.com\r\nMessage-ID: <c@x>\r\nContent-Type: text/plain; charset=" + charset
               + b"\r\n\r\ncaf\xc3\xa9 ok\r\n")
        assert parse(raw).text in ("café ok", "caf\u00c3\u00a9 ok", "caf\ufffd\ufffd ok"), charset
    lying = (b"From: a@example.com\r\nMessage-ID: <d@x>\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
             b"caf\xc3\xa9\r\n")
    assert parse(lying).text == "café"  # declared ASCII, sent UTF-8: the common lie


def _multipart(*parts: bytes, boundary: bytes = b"B", subtype: bytes = b"mixed", close: bool = True) -> bytes:
    head = (b"From: Sam <sam@example.com>\r\nTo: assistant@localhost\r\nSubject: Files\r\nMessage-ID: <mp@x>\r\n"
            b"MIME-Version: 1.0\r\nContent-Type: multipart/" + subtype + b"; boundary=\"" + boundary + b"\"\r\n\r\n")
    body = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts)
    return head + body + (b"--" + boundary + b"--\r\n" if close else b"")


TEXT = b"Content-Type: text/plain; charset=utf-8\r\n\r\nSee attached."
PDF = (b"Content-Type: application/pdf; name=\"r.pdf\"\r\nContent-Disposition: attachment; filename=\"r.pdf\"\r\n"
       b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(b"%PDF-1.4 report" * 20))
BAD = (b"Content-Type: image/png\r\nContent-Disposition: attachment; filename=\"bad.png\"\r\n"
       b"Content-Transfer-Encoding: base64\r\n\r\n[BASE64-ENCODED CONTENT]")


def test_attachments_decoded_and_a_bad_one_is_a_note() -> None:
    mail = parse(_multipart(TEXT, PDF, BAD))
    assert mail.text == "See attached."
    assert [(a.name, a.media_type, a.error) for a in mail.attachments] == [
        ("r.pdf", "application/pdf", None), ("bad.png", "image/png", "invalid base64")]
    assert mail.attachments[0].content == b"%PDF-1.4 report" * 20
    assert mail.bad_attachments[0].content == b"" and mail.good_attachments == (mail.attachments[0],)


def test_missing_parts_and_a_missing_closing_boundary() -> None:
    assert parse(_multipart()).text == ""  # multipart with no parts at all: still a mail
    assert parse(_multipart(TEXT, PDF, close=False)).attachments[0].name == "r.pdf"
    wrong_boundary = _multipart(TEXT, boundary=b"B").replace(b'boundary="B"', b'boundary="Z"')
    assert parse(wrong_boundary).sender.email == "sam@example.com"
    no_boundary = _multipart(TEXT).replace(b'; boundary="B"', b"")
    assert parse(no_boundary).sender.email == "sam@example.com"


def test_alternative_prefers_plain_and_html_only_is_converted() -> None:
    html = b"Content-Type: text/html; charset=utf-8\r\n\r\n<p>Hello <b>there</b></p>"
    assert parse(_multipart(TEXT, html, subtype=b"alternative")).text == "See attached."
    assert parse(_multipart(html, subtype=b"alternative")).text == "Hello **there**"
    empty_plain = b"Content-Type: text/plain\r\n\r\n  "
    assert parse(_multipart(empty_plain, html, subtype=b"alternative")).text == "Hello **there**"
    html_only = (b"From: a@example.com\r\nMessage-ID: <h@x>\r\nContent-Type: text/html\r\n\r\n"
                 b"<div>Hi<br>there</div>")
    assert parse(html_only).text == "Hi\nthere"


def test_inline_images_and_text_attachments() -> None:
    image = (b"Content-Type: image/png\r\nContent-ID: <Logo@X>\r\nContent-Transfer-Encoding: base64\r\n\r\n"
             + base64.b64encode(b"\x89PNG..."))
    notes = (b"Content-Type: text/plain; name=\"notes.txt\"\r\nContent-Disposition: attachment; "
             b"filename=\"notes.txt\"\r\n\r\nmy notes")
    calendar = b"Content-Type: text/calendar\r\n\r\nBEGIN:VCALENDAR"
    mail = parse(_multipart(TEXT, image, notes, calendar))
    assert mail.text == "See attached."  # an attached text file is not body
    assert [(a.name, a.media_type, a.content_id) for a in mail.attachments] == [
        (None, "image/png", "logo@x"), ("notes.txt", "text/plain", None), (None, "text/calendar", None)]
    assert mail.attachments[1].content == b"my notes"


def test_a_forwarded_message_is_an_attachment_not_body() -> None:
    inner = simple_mail(subject="Original topic", body="inner body")
    forwarded = b"Content-Type: message/rfc822\r\n\r\n" + inner
    mail = parse(_multipart(TEXT, forwarded))
    assert mail.text == "See attached."
    part = mail.attachments[0]
    assert (part.name, part.media_type) == ("Original topic.eml", "message/rfc822")
    assert b"inner body" in part.content and b"Subject: Original topic" in part.content


def test_file_names_cannot_climb_out() -> None:
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\Users\\x\\evil.exe") == "evil.exe"
    assert safe_filename("..hidden") == "hidden"
    assert safe_filename("a\x00b\r\n.txt") == "ab.txt"
    assert safe_filename("/") is None and safe_filename("  ") is None
    evil = PDF.replace(b'filename="r.pdf"', b'filename="../../x/=?utf-8?q?r=C3=A9sum=C3=A9?=.pdf"')
    assert parse(_multipart(TEXT, evil)).attachments[0].name == "résumé.pdf"


def test_crafted_nesting_is_bounded() -> None:
    deep = TEXT
    for level in range(60):
        boundary = f"L{level}".encode()
        deep = (b"Content-Type: multipart/mixed; boundary=\"" + boundary + b"\"\r\n\r\n--" + boundary + b"\r\n"
                + deep + b"\r\n--" + boundary + b"--")
    mail = parse(_multipart(deep))
    assert mail.sender.email == "sam@example.com" and mail.text == ""  # the text is below the depth bound
    wide = _multipart(*([PDF] * (MAX_PARTS + 50)))
    assert len(parse(wide).attachments) < MAX_PARTS


def test_base64_decoding_is_strict_on_characters_forgiving_on_padding() -> None:
    assert decode_base64("dGVzdA==") == b"test" and decode_base64("dGVzdA") == b"test"
    assert decode_base64("dGVz\r\n dA==") == b"test"
    for bad in ("[BASE64-ENCODED CONTENT]", "base64-encoded-content", "dGVzd", "dGVz!dA=="):
        with pytest.raises(ValueError):
            decode_base64(bad)


DSN = b"""From: Mail Delivery System <MAILER-DAEMON@mx.example.net>
To: assistant@localhost
Subject: Undelivered Mail Returned to Sender
Message-ID: <bounce1@mx.example.net>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="R"

--R
Content-Type: text/plain

This is the mail system. Your message could not be delivered.
--R
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; gone@example.org
Original-Recipient: rfc822;gone@example.org
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown
--R
Content-Type: message/rfc822

From: assistant@localhost
To: gone@example.org
Subject: Re: Hello
Message-ID: <ours1@localhost>

Our answer.
--R--
"""

POSTFIX_PLAIN = b"""From: MAILER-DAEMON@mail.example.net (Mail Delivery System)
To: assistant@localhost
Subject: Undelivered Mail Returned to Sender
Message-ID: <pf1@mail.example.net>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="P"

--P
Content-Type: text/plain
Content-Description: Notification

This is the Postfix program at host mail.example.net.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

                        The Postfix program

<gone@example.org>: host mx.example.org said: 550 5.1.1 user unknown
--P--
"""


def test_bounces_are_found_with_flufl_bounce() -> None:
    mail = parse(DSN.replace(b"\n", b"\r\n"))
    assert mail.bounced == ("gone@example.org",)
    assert mail.automatic == "bounce"
    postfix = parse(POSTFIX_PLAIN)  # no DSN part: flufl's Postfix heuristics read the text
    assert postfix.bounced == ("gone@example.org",) and postfix.automatic == "bounce"
    assert postfix.sender.email == "mailer-daemon@mail.example.net"
    unknown = parse(POSTFIX_PLAIN.replace(b"Postfix program", b"mail program"), envelope_from="")
    assert unknown.bounced == () and unknown.automatic == "null return path"  # still never answered


@pytest.mark.parametrize("body", [
    "Hi,\n\n<gone@example.org>: host mx said: 550 5.1.1 user unknown\n\nwhat does this mean?",
    # flufl.bounce's heuristics do take these for bounces: only mail that looks like one is scanned
    "Hi, Gmail says:\n\nDelivery to the following recipient failed permanently:\n\n     gone@example.org\n\nWhy?",
    "I got this back:\n\n   ----- The following addresses had permanent fatal errors -----\n<gone@example.org>\n",
])
def test_a_persons_mail_is_never_scanned_as_a_bounce(body: str) -> None:
    mail = parse(simple_mail(body=body))
    assert mail.bounced == () and mail.automatic is None


def _mutations(raw: bytes, count: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        data = bytearray(raw)
        choice = rng.randrange(4)
        if choice == 0 and data:  # truncate anywhere
            data = data[: rng.randrange(len(data))]
        elif choice == 1:  # flip bytes
            for _ in range(rng.randrange(1, 20)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif choice == 2:  # duplicate a slice (repeated headers, boundaries)
            start = rng.randrange(len(data))
            data[start:start] = data[start: start + rng.randrange(1, 200)]
        else:  # drop a line
            lines = bytes(data).split(b"\n")
            del lines[rng.randrange(len(lines))]
            data = bytearray(b"\n".join(lines))
        out.append(bytes(data))
    return out


SEEDS = [DSN, POSTFIX_PLAIN, _multipart(TEXT, PDF, BAD), simple_mail(headers={"References": "<a@x> <b@x>"})]
SEEDS += [postmark_as_rfc5322(json.loads(path.read_text()))
          for path in sorted((SHARED / "fixtures" / "postmark").rglob("*.json"))
          if "FromFull" in json.loads(path.read_text())]


@pytest.mark.parametrize("index", range(len(SEEDS)))
def test_mangled_mail_parses_or_is_refused_never_crashes(index: int) -> None:
    for raw in _mutations(SEEDS[index], 60, seed=index):
        try:
            mail = parse(raw)
        except MailError as error:
            assert error.reason in ("not_a_mail", "no_sender", "bad_sender")
            continue
        assert mail.message_id and mail.date.tzinfo is not None and "@" in mail.sender.email


def test_mangled_postmark_payloads_parse_or_are_refused() -> None:
    rng = random.Random(7)
    base = json.loads((SHARED / "fixtures/postmark/mvdnbrk_postmark_inbound/inbound.json").read_text())
    junk: list[object] = [None, 0, 1.5, True, "", "x", [], {}, [1, "a"], {"Name": 1}, [{"Value": "v"}]]
    for _ in range(300):
        payload = dict(base)
        for key in rng.sample(sorted(payload), rng.randrange(1, 5)):
            payload[key] = rng.choice(junk)
        try:
            mail = parse_postmark(payload, received_at=RECEIVED)
        except MailError as error:
            assert error.reason in ("not_a_mail", "no_sender", "bad_sender", "postmark_event")
            continue
        assert mail.message_id and "@" in mail.sender.email
    for value in (None, [], "text", 3, [base]):
        with pytest.raises(MailError):
            parse_postmark(value, received_at=RECEIVED)  # type: ignore[arg-type]
