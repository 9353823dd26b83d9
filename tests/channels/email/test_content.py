"""The new text of a mail: quoted history and signatures cut, HTML converted, slash commands seen."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from channels.email.content import PARSE_LIMIT, html_to_text, new_text, strip_reply
from channels.email.postmark_inbound import parse_postmark
from channels.email.rfc5322 import parse_rfc5322
from tests.channels.email.mails import simple_mail

RECEIVED = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)

GMAIL = """Awesome! That works now.

    def f():
        return 1

Thanks,
Sam

On Wed, Dec 20, 2023 at 13:37, Assistant <assistant@localhost> wrote:
> The good news is that I found a much better query.
> It should run much faster now. Can you double-check?
"""
OUTLOOK = """Yes please, book it.

From: Assistant <assistant@localhost>
Sent: Monday, December 1, 2026 10:00 AM
To: Sam <sam@example.com>
Subject: Re: Flights

Shall I book the 9:40?"""
OUTLOOK_OLD = "Sure.\n\n-----Original Message-----\nFrom: a@b.c\nSent: Monday\nTo: x\nSubject: y\n\nold text"
GERMAN = "Passt, danke.\n\nAm 20.12.2023 um 13:37 schrieb Assistant <assistant@localhost>:\n> alter Text\n"
FRENCH = "Oui, merci.\n\nLe lun. 1 déc. 2026 à 10:00, Assistant <a@b.c> a écrit :\n> avant\n"
SIGNATURE = "Here is the question.\n\n-- \nSam Smith\nCEO, Example Ltd\n+1 555 0100\n"
PHONE = "Okay, go ahead.\n\nSent from my iPhone"
BOTTOM_QUOTE = "Sure thing\n\n> quoted line one\n> quoted line two\n"
SEPARATOR = "Reply here\n________________________________\nFrom: Bob\nSent: x\nTo: y\nSubject: z\n\nold"


@pytest.mark.parametrize(("text", "expected"), [
    (GMAIL, "Awesome! That works now.\n\n    def f():\n        return 1"),  # indentation kept
    (OUTLOOK, "Yes please, book it."),
    (OUTLOOK_OLD, "Sure."),
    (GERMAN, "Passt, danke."),
    (FRENCH, "Oui, merci."),
    (SIGNATURE, "Here is the question."),
    (PHONE, "Okay, go ahead."),
    (BOTTOM_QUOTE, "Sure thing"),
    (SEPARATOR, "Reply here"),
], ids=["gmail", "outlook", "outlook-old", "german", "french", "signature", "phone", "bottom-quote", "separator"])
def test_quoted_history_and_signatures_are_cut(text: str, expected: str) -> None:
    assert new_text(text=text) == expected


@pytest.mark.parametrize("text", [
    "Todo:\n- buy milk\n- call Bob\n\nWhat do you think?",  # a hyphen list is not a signature
    "From: the report, sales are up.\nTo: be honest, I expected more.\nCan you summarise?",
    "> question one?\nanswer one\n> question two?\nanswer two",  # interleaved: the quotes are the context
    "Just a plain message.\nSecond line.",
    "Got it.\nThanks, one more thing: what time is the meeting?",  # "Thanks," starting a sentence, not a signature
    "Answer.\n\nBest,\n" + "\n".join(f"line {n}" for n in range(15)),  # too long to be a signature
])
def test_text_without_history_is_kept_whole(text: str) -> None:
    assert new_text(text=text) == text


def test_a_sentence_starting_like_a_signature_above_a_quote_is_kept() -> None:
    text = "Yes.\n\nThanks, one more thing: what time?\n\nOn Mon, Jan 1, 2024 at 10:00 AM Bob <b@x.com> wrote:\n> old"
    assert new_text(text=text) == "Yes.\n\nThanks, one more thing: what time?"
    signed = "Yes.\n\nThanks,\nSam\n\nOn Mon, Jan 1, 2024 at 10:00 AM Bob <b@x.com> wrote:\n> old"
    assert new_text(text=signed) == "Yes."


def test_interleaved_answers_lose_only_their_signature() -> None:
    text = "> question one?\nanswer one\n> question two?\nanswer two\n\nBest regards,\nSam"
    assert new_text(text=text) == "> question one?\nanswer one\n> question two?\nanswer two"


def test_nothing_left_after_cutting_keeps_the_whole_text() -> None:
    assert new_text(text="> all quoted\n> nothing new") == "> all quoted\n> nothing new"
    assert new_text(text="Sent from my iPhone") == "Sent from my iPhone"
    assert new_text(text="") == "" and new_text(text=None) == ""


def test_postmark_stripped_reply_wins_and_blank_ones_do_not() -> None:
    assert new_text(text=GMAIL, stripped="Just this.") == "Just this."
    assert new_text(text=OUTLOOK, stripped="  \n ") == "Yes please, book it."
    assert new_text(text=GMAIL, stripped="Just this.", strip=False).startswith("Awesome!")


def test_html_only_mail_becomes_text_and_is_cut_too() -> None:
    html = ('<div dir="ltr">Hello <b>world</b><br>see <a href="https://x.example/a">the link</a></div>'
            '<div class="gmail_quote"><div>On Mon, Jan 1, 2024 at 10:00 AM Bob &lt;bob@x.com&gt; wrote:<br></div>'
            '<blockquote>old stuff</blockquote></div>')
    assert new_text(text="", html=html) == "Hello **world**\nsee [the link](https://x.example/a)"
    assert "old stuff" in new_text(text="", html=html, strip=False)
    assert html_to_text("<p>caf&eacute; &amp; <img src='x.png' alt='pic'>cake</p>") == "café & cake"
    assert html_to_text("<p>unclosed <b>bold <div>").startswith("unclosed **bold")


def test_a_plain_part_wins_over_html() -> None:
    assert new_text(text="plain", html="<p>html</p>") == "plain"
    assert new_text(text="  ", html="<p>html</p>") == "html"


def test_a_huge_body_is_cut_only_in_its_head_and_kept_otherwise() -> None:
    body = "line of text\n" * (PARSE_LIMIT // 13 + 1000)
    assert new_text(text=body) == body.strip()
    assert strip_reply("New.\n\nOn Mon, Jan 1, 2024 at 10:00 AM Bob <b@x.com> wrote:\n" + "> q\n" * 50_000) == "New."


@pytest.mark.parametrize(("body", "command"), [
    ("/jobs", "/jobs"),
    ("/help me please\nmore text", "/help me please"),
    ("\n\n  /remind tomorrow 9am call Bob  \n", "/remind tomorrow 9am call Bob"),
    ("/jobs\n\nOn Mon, Jan 1, 2024 at 10:00 AM Bob <b@x.com> wrote:\n> earlier", "/jobs"),
    ("please run /jobs", None),
    ("first line\n/jobs", None),  # only the first line is a command
    ("/", None),
    ("// a comment", None),
    ("/ 5 is division", None),
    ("", None),
])
def test_a_slash_command_on_the_first_line(body: str, command: str | None) -> None:
    mail = parse_rfc5322(simple_mail(body=body), received_at=RECEIVED)
    assert mail.command_line == command


def test_postmark_command_comes_from_the_stripped_reply() -> None:
    payload = {"FromFull": {"Email": "sam@example.com"}, "MessageID": "x1", "Subject": "Re: jobs",
               "TextBody": "/jobs\n\n> old", "StrippedTextReply": "/jobs"}
    assert parse_postmark(payload, received_at=RECEIVED).command_line == "/jobs"


def test_huge_html_is_converted_only_up_to_its_limit() -> None:
    from channels.email.content import HTML_LIMIT

    text = html_to_text("<p>word</p>" * (HTML_LIMIT // 5))  # twice the limit
    assert abs(text.count("word") - HTML_LIMIT // len("<p>word</p>")) <= 1
