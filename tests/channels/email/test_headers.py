"""Thread ids, the automated-mail checks (loops and backscatter) and sender authentication."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from channels.email.headers import (
    authenticated,
    automated_reason,
    base_address,
    normalise_id,
    parse_addresses,
    parse_ids,
    plus_tag,
)
from channels.email.rfc5322 import parse_rfc5322
from tests.channels.email.mails import simple_mail

RECEIVED = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _mail(headers: dict[str, str] | None = None, *, envelope_from: str | None = None, **fields: str):
    return parse_rfc5322(simple_mail(headers=headers, **fields), received_at=RECEIVED, envelope_from=envelope_from)


# ---- thread ids --------------------------------------------------------------------------------------------

def test_ids_are_normalised() -> None:
    assert normalise_id(" <ABC.def@Mail.Example.COM> ") == "abc.def@mail.example.com"
    assert parse_ids("<a@x> <B@X>\r\n\t<c@x>") == ("a@x", "b@x", "c@x")
    assert parse_ids("a@x, b@x") == ("a@x", "b@x")  # no brackets, commas: broken clients
    assert parse_ids("<a@x> <A@X> <b@x>") == ("a@x", "b@x")  # duplicates once
    assert parse_ids("<A@X>", spelled=True) == ("A@X",)
    assert parse_ids("") == () and parse_ids(None) == () and parse_ids("no ids here") == ()
    many = " ".join(f"<m{n}@x>" for n in range(80))
    assert parse_ids(many, limit=50) == tuple(f"m{n}@x" for n in range(30, 80))  # the newest kept


def test_thread_ids_nearest_first() -> None:
    mail = _mail({"In-Reply-To": "<Parent@x>", "References": "<root@x> <middle@x> <parent@x>"})
    assert mail.in_reply_to == ("parent@x",)
    assert mail.references == ("root@x", "middle@x", "parent@x")
    assert mail.thread_ids == ("parent@x", "middle@x", "root@x")
    assert mail.spelled_references == ("root@x", "middle@x", "parent@x")
    assert _mail().thread_ids == ()


def test_addresses_are_tolerant() -> None:
    found = parse_addresses(['"First Cc" <firstcc@postmarkapp.com>, secondCc@postmarkapp.com>', "bad, ,<>",
                             "=?utf-8?q?J=C3=B6rg?= <JOERG@Example.de>", "firstcc@postmarkapp.com"])
    assert [(a.email, a.name) for a in found] == [
        ("firstcc@postmarkapp.com", "First Cc"), ("secondcc@postmarkapp.com", None), ("joerg@example.de", "Jörg")]
    assert plus_tag("assistant+research@localhost") == "research" and plus_tag("assistant@localhost") is None
    assert base_address("Assistant+Research@LocalHost") == "assistant@localhost"


# ---- automated mail ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("headers", "reason"), [
    ({"Auto-Submitted": "auto-replied"}, "Auto-Submitted: auto-replied"),
    ({"Auto-Submitted": "Auto-Generated; owner-email=x@y"}, "Auto-Submitted: auto-generated"),
    ({"Precedence": "bulk"}, "Precedence: bulk"),
    ({"Precedence": "List"}, "Precedence: list"),
    ({"Precedence": "junk"}, "Precedence: junk"),
    ({"List-Id": "<team.lists.example.com>"}, "mailing list (list-id)"),
    ({"List-Unsubscribe": "<mailto:u@x>"}, "mailing list (list-unsubscribe)"),
    ({"X-Autoreply": "yes"}, "auto-reply (x-autoreply)"),
    ({"X-Autorespond": "Out of office"}, "auto-reply (x-autorespond)"),
    ({"Return-Path": "<>"}, "null return path"),
    ({"Return-Path": "<MAILER-DAEMON@mx.example.com>"}, "bounce sender (mailer-daemon)"),
    ({"Return-Path": "<postmaster@example.com>"}, "bounce sender (postmaster)"),
    ({"From": "Mail Delivery System <MAILER-DAEMON@mx.example.com>"}, "bounce sender (mailer-daemon)"),
    ({"From": "no-reply@service.example"}, "no-reply sender"),
    ({"Content-Type": "multipart/report; report-type=delivery-status; boundary=x"}, "delivery or feedback report"),
    ({"X-Failed-Recipients": "gone@example.com"}, "bounce"),
    ({"X-Spam-Flag": "YES"}, "spam"),
])
def test_automated_mail_gets_a_reason(headers: dict[str, str], reason: str) -> None:
    mail = _mail(headers)
    assert mail.automatic == reason
    assert automated_reason(mail) == reason


@pytest.mark.parametrize("headers", [
    {}, {"Auto-Submitted": "no"}, {"Auto-Submitted": "No (person)"}, {"Precedence": "first-class"},
    {"X-Autoreply": "no"}, {"Return-Path": "<sam@example.com>"}, {"X-Spam-Status": "No, score=-0.1"},
])
def test_a_person_s_mail_has_no_reason(headers: dict[str, str]) -> None:
    assert _mail(headers).automatic is None


def test_the_smtp_envelope_wins_over_a_return_path_header() -> None:
    assert _mail({"Return-Path": "<sam@example.com>"}, envelope_from="").automatic == "null return path"
    assert _mail({"Return-Path": "<>"}, envelope_from="sam@example.com").automatic is None
    assert _mail(envelope_from="<>").return_path == ""


def test_our_own_address_in_any_spelling() -> None:
    mail = _mail(sender="Assistant <Assistant+research@LocalHost>")
    assert mail.automatic is None  # the parser cannot know our addresses; the adapter passes them
    assert automated_reason(mail, own_addresses=["assistant@localhost"]) == "from our own address"
    assert automated_reason(mail, own_addresses=["other@localhost"]) is None


# ---- authentication ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("headers", "expected"), [
    ({"Received-SPF": "Pass (sender SPF authorized) identity=mailfrom; envelope-from=sam@example.com"}, True),
    ({"Received-SPF": 'pass (mx: domain of sam@mail.example.com) envelope-from="bounce@mail.example.com";'}, True),
    ({"Received-SPF": "Pass (sender SPF authorized) envelope-from=sam@evil.example"}, False),  # not the From's
    ({"Received-SPF": "Pass (sender SPF authorized)"}, False),  # no domain named: proves nothing
    ({"Received-SPF": "Fail identity=mailfrom; envelope-from=sam@example.com"}, False),
    ({"Received-SPF": "softfail envelope-from=sam@example.com"}, False),
    ({"Received-SPF": "pass identity=helo; helo=example.com; envelope-from=<>"}, True),
    ({"Authentication-Results": "mx.local; dkim=pass header.d=example.com header.s=s1"}, True),
    ({"Authentication-Results": "mx.local; dkim=pass (good) header.i=@example.com"}, True),
    ({"Authentication-Results": "mx.local; dkim=pass header.d=examplecom.net"}, False),
    ({"Authentication-Results": "mx.local; dkim=pass header.d=evil.example; spf=fail smtp.mailfrom=example.com"},
     False),
    ({"Authentication-Results": "mx.local; spf=pass smtp.mailfrom=sam@example.com; dkim=none"}, True),
    ({"Authentication-Results": "mx.local 1; dmarc=pass (p=none) header.from=example.com"}, True),
    ({"Authentication-Results": "mx.local; dmarc=pass header.from=other.example"}, False),
    ({"Authentication-Results": "mx.local; none"}, False),
    ({"Authentication-Results": "mx.local; dkim=fail header.d=example.com"}, False),
    ({}, False),
])
def test_authenticated_for_the_from_domain(headers: dict[str, str], expected: bool) -> None:
    mail = _mail(headers)
    assert mail.authenticated is expected
    assert authenticated(mail) is expected


def test_only_the_topmost_header_counts() -> None:
    # The receiving server prepends its verdict; a "pass" further down was written by whoever sent the mail.
    forged = b"Authentication-Results: mx.local; dkim=fail header.d=example.com\r\n" + simple_mail(
        headers={"Authentication-Results": "forged.example; dkim=pass header.d=example.com"})
    assert parse_rfc5322(forged, received_at=RECEIVED).authenticated is False
    trusted_first = b"Authentication-Results: mx.local; dkim=pass header.d=example.com\r\n" + simple_mail(
        headers={"Authentication-Results": "forged.example; dkim=fail header.d=example.com"})
    assert parse_rfc5322(trusted_first, received_at=RECEIVED).authenticated is True


def test_authserv_ids_restrict_whose_verdict_counts() -> None:
    mail = _mail({"Authentication-Results": "mx.local; dkim=pass header.d=example.com",
                  "Received-SPF": "Pass envelope-from=sam@example.com"})
    assert authenticated(mail) is True
    assert authenticated(mail, authserv_ids={"mx.local"}) is True
    assert authenticated(mail, authserv_ids={"relay.example.net"}) is False  # and Received-SPF is not believed
