"""Mails parsed per second by the email channel's pure functions, and the memory a 5 MB attachment costs.

Two inputs, each the way the adapter gets it: RFC 5322 bytes from the SMTP listener (`parse_rfc5322`), and a
Postmark inbound webhook body (`json.loads` + `parse_postmark`). The typical mail is a reply: a short new text
above a quoted thread, plain and HTML alternatives, a thread of References, auth headers, one small attachment.
Then one mail carrying a 5 MB attachment, both ways, under tracemalloc: peak bytes allocated while parsing
(the input itself excluded) and the time it takes. One process, one core; no I/O.

    python tests/bench/email_parse_bench.py --mails 2000
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from channels.email.compose import compose_reply
from channels.email.mail import Address
from channels.email.postmark_inbound import parse_postmark
from channels.email.rfc5322 import parse_rfc5322

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
QUOTE = "\n".join(f"> line {n} of the earlier answer, with a few words to make it look like prose." for n in range(40))
NEW_TEXT = "Thanks, that helps a lot.\n\nCould you also check the figures for March?\n\nBest regards,\nSam"
BODY = f"{NEW_TEXT}\n\nOn Thu, 3 Dec 2026 at 10:00, Assistant <assistant@localhost> wrote:\n{QUOTE}\n"
HTML = "<div>" + NEW_TEXT.replace("\n", "<br>") + "</div><blockquote>" + QUOTE.replace("\n", "<br>") + "</blockquote>"
REFERENCES = " ".join(f"<m{n}.thread@mail.example.com>" for n in range(8))


def smtp_mail(attachment: bytes = b"small attachment\n" * 20) -> bytes:
    encoded = base64.encodebytes(attachment).decode()
    text = (
        "Received: from mail.example.com by mx.local; Fri, 4 Dec 2026 11:59:59 +0000\r\n"
        "Authentication-Results: mx.local; spf=pass smtp.mailfrom=sam@example.com; dkim=pass header.d=example.com\r\n"
        "From: Sam Example <sam@example.com>\r\nTo: Assistant <assistant+research@localhost>\r\n"
        "Cc: Bob <bob@example.com>\r\nSubject: Re: March figures\r\nDate: Fri, 4 Dec 2026 12:59:58 +0100\r\n"
        f"Message-ID: <reply.1@mail.example.com>\r\nIn-Reply-To: <m7.thread@mail.example.com>\r\n"
        f"References: {REFERENCES}\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="MIX"\r\n\r\n--MIX\r\n'
        'Content-Type: multipart/alternative; boundary="ALT"\r\n\r\n--ALT\r\n'
        "Content-Type: text/plain; charset=utf-8\r\n\r\n" + BODY.replace("\n", "\r\n") + "\r\n--ALT\r\n"
        "Content-Type: text/html; charset=utf-8\r\n\r\n" + HTML + "\r\n--ALT--\r\n--MIX\r\n"
        'Content-Type: application/octet-stream; name="data.bin"\r\n'
        'Content-Disposition: attachment; filename="data.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        + encoded.replace("\n", "\r\n") + "--MIX--\r\n")
    return text.encode()


def postmark_body(attachment: bytes = b"small attachment\n" * 20) -> bytes:
    payload = {
        "FromName": "Sam Example", "From": "sam@example.com",
        "FromFull": {"Email": "sam@example.com", "Name": "Sam Example", "MailboxHash": ""},
        "To": "assistant+research@inbound.example.com",
        "ToFull": [{"Email": "assistant+research@inbound.example.com", "Name": "Assistant",
                    "MailboxHash": "research"}],
        "Cc": "bob@example.com", "CcFull": [{"Email": "bob@example.com", "Name": "Bob", "MailboxHash": ""}],
        "OriginalRecipient": "assistant+research@inbound.example.com", "Subject": "Re: March figures",
        "MessageID": "73e6d360-66eb-11e1-8e72-a8904824019b", "MailboxHash": "research",
        "Date": "Fri, 4 Dec 2026 12:59:58 +0100", "TextBody": BODY, "HtmlBody": HTML, "StrippedTextReply": "",
        "Headers": [{"Name": "Received-SPF", "Value": "Pass (sender SPF authorized) identity=mailfrom; "
                                                      "envelope-from=sam@example.com"},
                    {"Name": "Message-ID", "Value": "<reply.1@mail.example.com>"},
                    {"Name": "In-Reply-To", "Value": "<m7.thread@mail.example.com>"},
                    {"Name": "References", "Value": REFERENCES}],
        "Attachments": [{"Name": "data.bin", "Content": base64.b64encode(attachment).decode(),
                         "ContentType": "application/octet-stream", "ContentLength": len(attachment)}],
    }
    return json.dumps(payload).encode()


def rate(label: str, count: int, work) -> float:
    work()  # warm: imports, compiled expressions
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        work()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    per_second = count / elapsed
    # CPU time too: on a shared machine the wall clock includes other processes' turns
    print(f"{label:<46} {per_second:6.0f} mails/s wall, {count / cpu:6.0f} per CPU-second "
          f"({cpu / count * 1000:.2f} ms CPU each, {count} mails)")
    return per_second


def peak(label: str, data: bytes, work) -> None:
    tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    started = time.perf_counter()
    result = work(data)
    elapsed = time.perf_counter() - started
    _, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = sum(len(part.content) for part in result.attachments)
    print(f"{label:<46} input {len(data) / 1e6:5.2f} MB, attachment {size / 1e6:4.2f} MB, "
          f"peak {(top - base) / 1e6:6.1f} MB above the input, {elapsed * 1000:.0f} ms (traced)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=2000)
    args = parser.parse_args()
    smtp, webhook = smtp_mail(), postmark_body()
    # sanity: the work is the real one
    mail = parse_rfc5322(smtp, received_at=NOW, recipient="assistant+research@localhost")
    assert mail.text.startswith("Thanks, that helps") and "earlier answer" not in mail.text, mail.text
    assert mail.authenticated and mail.mailbox_hash == "research" and len(mail.thread_ids) == 8
    hook = parse_postmark(json.loads(webhook), received_at=NOW)
    assert hook.text == mail.text and hook.authenticated, hook.text
    print(f"python {sys.version.split()[0]}, pid {os.getpid()}, SMTP mail {len(smtp)} bytes, "
          f"webhook body {len(webhook)} bytes")
    rate("SMTP bytes -> parse_rfc5322", args.mails,
         lambda: parse_rfc5322(smtp, received_at=NOW, recipient="assistant+research@localhost"))
    rate("Postmark body -> json.loads + parse_postmark", args.mails,
         lambda: parse_postmark(json.loads(webhook), received_at=NOW))
    rate("compose_reply + as_bytes", args.mails,
         lambda: compose_reply(original=mail, from_address=Address("assistant@localhost"),
                               text="Here are the March figures.").as_bytes())
    big = os.urandom(5 * 1024 * 1024)
    big_smtp, big_webhook = smtp_mail(big), postmark_body(big)
    peak("5 MB attachment, SMTP", big_smtp, lambda data: parse_rfc5322(data, received_at=NOW))
    peak("5 MB attachment, Postmark (json.loads incl.)", big_webhook,
         lambda data: parse_postmark(json.loads(data), received_at=NOW))
    started = time.perf_counter()
    parse_rfc5322(big_smtp, received_at=NOW)
    smtp_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    parse_postmark(json.loads(big_webhook), received_at=NOW)
    postmark_ms = (time.perf_counter() - started) * 1000
    print(f"{'5 MB attachment, untraced time':<46} SMTP {smtp_ms:.0f} ms, Postmark {postmark_ms:.0f} ms "
          "(the event loop would be blocked this long: the adapter parses big mail in asyncio.to_thread)")


if __name__ == "__main__":
    main()
