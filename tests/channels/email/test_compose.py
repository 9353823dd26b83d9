"""Replies in the sender's thread and later messages in a known thread: headers, subjects, recipients; and the
round trip (our reply parsed back is in the thread, and is itself never answered)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from email import policy
from email.parser import BytesParser

import pytest

from channels.email.compose import (
    MAX_CC,
    MAX_REFERENCES,
    bounded_references,
    compose_message,
    compose_reply,
    reply_recipients,
    reply_subject,
    subject_base,
)
from channels.email.headers import automated_reason
from channels.email.mail import Address, MailError, MailPart
from channels.email.postmark_inbound import parse_postmark
from channels.email.rfc5322 import parse_rfc5322
from tests.channels.email.mails import simple_mail
from tests.conftest import SHARED

RECEIVED = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
US = Address("assistant@localhost", "Assistant")


def parse(raw: bytes, **kwargs: str):
    return parse_rfc5322(raw, received_at=RECEIVED, **kwargs)


@pytest.mark.parametrize(("subject", "reply"), [
    ("Budget", "Re: Budget"),
    ("Re: Budget", "Re: Budget"),
    ("RE: Re: re:Budget", "Re: Budget"),
    ("Aw: Budget", "Re: Budget"),
    ("AW: RE: Budget", "Re: Budget"),
    ("SV: Budget", "Re: Budget"),
    ("Antw: Budget", "Re: Budget"),
    ("Re[2]: Budget", "Re: Budget"),
    ("Re (3): Budget", "Re: Budget"),
    ("Re：Budget", "Re: Budget"),  # a full-width colon
    ("Fwd: Budget", "Re: Fwd: Budget"),
    ("FW: Budget", "Re: Fwd: Budget"),
    ("WG: Budget", "Re: Fwd: Budget"),
    ("Re: Fwd: Re: Budget", "Re: Fwd: Budget"),
    ("Fwd: Fwd: Budget", "Re: Fwd: Budget"),
    ("", "Re: (no subject)"),
    ("Re:", "Re: (no subject)"),
    ("Refund request", "Re: Refund request"),  # "Re" only as a prefix with its colon
    ("Review: Q3", "Re: Review: Q3"),
    ("Fwdx: thing", "Re: Fwdx: thing"),
    ("[team] Re: Budget", "Re: [team] Re: Budget"),  # a list tag first: left alone
    ("Line\r\nbreak\tinjected", "Re: Line break injected"),
])
def test_reply_subjects_never_stack(subject: str, reply: str) -> None:
    assert reply_subject(subject) == reply
    assert reply_subject(reply) == reply  # answering our own answer adds nothing


def test_subject_base_is_the_conversation_title() -> None:
    assert subject_base("RE: Aw: Fwd: Re: Budget 2027") == ("Budget 2027", True)
    assert subject_base("Budget") == ("Budget", False)


def test_a_reply_in_the_thread() -> None:
    original = parse(simple_mail(headers={"References": "<Root@X> <Mid@X>", "Message-ID": "<Leaf.1@Mail.X>",
                                          "Subject": "Re: Budget", "Cc": "Bob <bob@example.com>"}))
    reply = compose_reply(original=original, from_address=US, text="Here you go.",
                          date=datetime(2026, 12, 4, 13, 0, tzinfo=timezone(timedelta(hours=1))))
    assert reply["From"] == "Assistant <assistant@localhost>"
    assert reply["To"] == "Sam <sam@example.com>"
    assert reply["Cc"] == "Bob <bob@example.com>"  # the sender addressed several people: all kept
    assert reply["Subject"] == "Re: Budget"
    assert reply["In-Reply-To"] == "<Leaf.1@Mail.X>"  # the id spelled as the sender's client spelled it
    assert reply["References"] == "<Root@X> <Mid@X> <Leaf.1@Mail.X>"
    assert reply["Auto-Submitted"] == "auto-replied"
    assert reply["X-Auto-Response-Suppress"] == "All"
    assert reply["Date"] == "Fri, 04 Dec 2026 13:00:00 +0100"
    assert reply["Message-ID"].endswith("@localhost>") and reply["Message-ID"] != original.message_id
    assert reply.get_content() == "Here you go.\n"


def test_a_chosen_message_id_and_a_naive_date() -> None:
    original = parse(simple_mail())
    reply = compose_reply(original=original, from_address=US, text="x", message_id="<ours-1@localhost>",
                          date=datetime(2026, 12, 4, 13, 0))
    assert reply["Message-ID"] == "<ours-1@localhost>"
    assert reply["Date"] == "Fri, 04 Dec 2026 13:00:00 +0000"
    assert compose_reply(original=original, from_address=US, text="x")["Message-ID"] != compose_reply(
        original=original, from_address=US, text="x")["Message-ID"]  # fresh every time


def test_references_are_bounded_keeping_the_root() -> None:
    ids = [f"m{n}@x" for n in range(60)]
    bounded = bounded_references(ids)
    assert len(bounded) == MAX_REFERENCES and bounded[0] == "m0@x" and bounded[-1] == "m59@x"
    assert bounded[1:] == ids[-(MAX_REFERENCES - 1):]
    assert bounded_references(["a@x", "A@X", "b@x", "a@x"]) == ["b@x", "a@x"]
    references = " ".join(f"<{item}>" for item in ids)
    original = parse(simple_mail(headers={"References": references, "Message-ID": "<last@x>"}))
    header = compose_reply(original=original, from_address=US, text="x")["References"]
    assert header.split() == [f"<{item}>" for item in bounded_references([*original.references, "last@x"])]
    assert header.split()[-1] == "<last@x>" and len(header.split()) == MAX_REFERENCES


def test_ids_that_cannot_be_written_are_left_out() -> None:
    message = compose_message(from_address=US, to=[Address("sam@example.com")], subject="Reminder", text="x",
                              references=["good@x", "bad id@x", "ünï@x"])
    assert message["References"] == "<good@x>"
    assert message["In-Reply-To"] is None  # the newest id was unwritable


def test_recipients_for_a_reply() -> None:
    mail = parse(simple_mail(to="Assistant <assistant+research@localhost>, Ann <ann@example.com>",
                             headers={"Cc": "bob@example.com, Sam <SAM@example.com>, Assistant <assistant@localhost>"}))
    recipients = reply_recipients(mail, own_addresses=["assistant@localhost"])
    assert [a.email for a in recipients.to] == ["sam@example.com"]
    assert [a.email for a in recipients.cc] == ["ann@example.com", "bob@example.com"]  # never ourselves
    assert reply_recipients(mail, own_addresses=["assistant@localhost"], keep_cc=False).cc == ()
    alone = parse(simple_mail(to="assistant@localhost"))
    assert reply_recipients(alone, own_addresses=["assistant@localhost"]).cc == ()


def test_the_delivered_to_address_counts_as_ours() -> None:
    mail = parse(simple_mail(to="team@example.com, helper@example.com"), recipient="helper@example.com")
    assert [a.email for a in reply_recipients(mail).cc] == ["team@example.com"]


def test_reply_to_is_honoured_but_never_to_us_or_a_robot() -> None:
    mail = parse(simple_mail(headers={"Reply-To": "Sam Home <sam@home.example>"}))
    assert [a.email for a in reply_recipients(mail).to] == ["sam@home.example"]
    ours = parse(simple_mail(headers={"Reply-To": "assistant@localhost"}))
    assert [a.email for a in reply_recipients(ours, own_addresses=["assistant@localhost"]).to] == ["sam@example.com"]
    robot = parse(simple_mail(headers={"Reply-To": "noreply@example.com"}))
    assert [a.email for a in reply_recipients(robot).to] == ["sam@example.com"]


def test_cc_is_bounded() -> None:
    many = ", ".join(f"p{n}@example.com" for n in range(40))
    mail = parse(simple_mail(headers={"Cc": many}))
    assert len(reply_recipients(mail).cc) == MAX_CC


@pytest.mark.parametrize("headers", [{"List-Id": "<team.lists.example.com>"}, {"Auto-Submitted": "auto-replied"},
                                     {"Precedence": "bulk"}, {"Return-Path": "<>"}])
def test_no_reply_to_a_list_or_a_robot(headers: dict[str, str]) -> None:
    mail = parse(simple_mail(headers=headers))
    assert not reply_recipients(mail)
    with pytest.raises(MailError) as caught:
        compose_reply(original=mail, from_address=US, text="x")
    assert caught.value.reason == "no_recipient"


def test_no_reply_to_ourselves() -> None:
    mail = parse(simple_mail(sender="Assistant <assistant@localhost>"))
    with pytest.raises(MailError) as caught:
        compose_reply(original=mail, from_address=US, text="x")
    assert caught.value.reason == "no_recipient"


def test_explicit_recipients_win() -> None:
    mail = parse(simple_mail(headers={"Cc": "bob@example.com"}))
    reply = compose_reply(original=mail, from_address=US, text="x", cc=[])
    assert reply["Cc"] is None and reply["To"] == "Sam <sam@example.com>"
    reply = compose_reply(original=mail, from_address=US, text="x", to=[Address("x@example.com")],
                          cc=[Address("x@example.com"), Address("y@example.com", 'Y "Why", Jr')])
    assert reply["To"] == "x@example.com" and reply["Cc"] == '"Y \\"Why\\", Jr" <y@example.com>'


def test_a_reminder_in_a_known_thread() -> None:
    message = compose_message(from_address=US, to=[Address("sam@example.com", "Sam")], subject="Re: Re: Flights",
                              text="Reminder: check in opens now.", references=["root@x", "ours-2@localhost"])
    assert message["Subject"] == "Re: Flights"
    assert message["In-Reply-To"] == "<ours-2@localhost>"
    assert message["References"] == "<root@x> <ours-2@localhost>"
    assert message["Auto-Submitted"] == "auto-generated"  # RFC 3834: not an answer to a particular mail
    parent = compose_message(from_address=US, to=[Address("sam@example.com")], subject="Flights", text="x",
                             references=["root@x"], in_reply_to="leaf@x")
    assert parent["In-Reply-To"] == "<leaf@x>" and parent["References"] == "<root@x> <leaf@x>"
    fresh = compose_message(from_address=US, to=[Address("sam@example.com")], subject="Your digest", text="x")
    assert fresh["Subject"] == "Your digest" and fresh["In-Reply-To"] is None and fresh["References"] is None
    with pytest.raises(MailError):
        compose_message(from_address=US, to=[], subject="x", text="x")


def test_attachments_go_out_and_bad_ones_do_not() -> None:
    parts = [MailPart("report.pdf", "application/pdf", b"%PDF"), MailPart("bad.png", "image/png", b"", error="x")]
    message = compose_message(from_address=US, to=[Address("sam@example.com")], subject="Report", text="Attached.",
                              attachments=parts)
    files = [(p.get_filename(), p.get_content_type(), p.get_content()) for p in message.iter_attachments()]
    assert files == [("report.pdf", "application/pdf", b"%PDF")]


def test_round_trip_our_reply_is_in_the_thread_and_never_answered() -> None:
    payload = json.loads((SHARED / "fixtures/postmark/official_postmark_gem/example_inbound.json").read_text())
    original = parse_postmark(payload, received_at=RECEIVED)
    reply = compose_reply(original=original, from_address=US, text="Thanks, received. Ünïcödé too.\n" + "x" * 2000)
    back = parse(reply.as_bytes(policy=policy.SMTP))
    assert back.in_reply_to == (original.message_id,)
    assert original.message_id in back.thread_ids
    assert back.subject == "Re: This is an inbound message"
    assert back.text.startswith("Thanks, received. Ünïcödé too.")
    assert back.automatic == "Auto-Submitted: auto-replied"  # a loop through another bot of ours stops here
    assert automated_reason(back, own_addresses=[US.email]) == "from our own address"
    # and a client answering our reply lands in the same thread through our Message-ID
    answer = parse(simple_mail(headers={"In-Reply-To": reply["Message-ID"],
                                        "References": f"{reply['References']} {reply['Message-ID']}"}))
    assert answer.thread_ids[0] == back.message_id
    parsed = BytesParser(policy=policy.default).parsebytes(reply.as_bytes())
    assert all(len(line) <= 998 for line in reply.as_bytes().split(b"\n")) and parsed["Subject"] == reply["Subject"]
