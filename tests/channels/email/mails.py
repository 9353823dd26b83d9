"""Mails for the email tests, written as bytes by hand so every quirk is exactly the one under test."""

from __future__ import annotations

import base64
import binascii
from typing import Any

HEADERS_WE_WRITE = {"from", "to", "cc", "subject", "date", "content-type", "mime-version",
                    "content-transfer-encoding", "reply-to"}


def _address(item: dict[str, Any]) -> str:
    name = item.get("Name") or ""
    return f'"{name}" <{item["Email"]}>' if name else item["Email"]


def _is_base64(value: str) -> bool:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def postmark_as_rfc5322(payload: dict[str, Any]) -> bytes:
    """The mail a Postmark inbound payload describes, as the SMTP listener would receive it (attachments with
    their content as given, so Postmark's invalid placeholders stay invalid base64)."""
    lines = [f"From: {_address(payload['FromFull'])}"]
    if payload.get("ToFull"):
        lines.append("To: " + ", ".join(_address(item) for item in payload["ToFull"]))
    if payload.get("CcFull"):
        lines.append("Cc: " + ", ".join(_address(item) for item in payload["CcFull"]))
    if payload.get("ReplyTo"):
        lines.append(f"Reply-To: {payload['ReplyTo']}")
    lines += [f"Subject: {payload.get('Subject', '')}", f"Date: {payload['Date']}"]
    names = {header["Name"].lower() for header in payload.get("Headers", [])}
    for header in payload.get("Headers", []):
        if header["Name"].lower() not in HEADERS_WE_WRITE:
            lines.append(f"{header['Name']}: {header['Value']}")
    if "message-id" not in names:
        lines.append(f"Message-ID: <{payload['MessageID']}>")
    lines += ["MIME-Version: 1.0", 'Content-Type: multipart/mixed; boundary="MIXED"', "", "--MIXED",
              'Content-Type: multipart/alternative; boundary="ALT"', "", "--ALT",
              "Content-Type: text/plain; charset=utf-8", "", payload.get("TextBody", ""), "--ALT",
              "Content-Type: text/html; charset=utf-8", "", payload.get("HtmlBody", ""), "--ALT--"]
    for item in payload.get("Attachments", []):
        lines += ["--MIXED", f'Content-Type: {item["ContentType"]}; name="{item["Name"]}"',
                  f'Content-Disposition: attachment; filename="{item["Name"]}"',
                  "Content-Transfer-Encoding: base64"]
        if item.get("ContentID"):
            lines.append(f"Content-ID: <{item['ContentID']}>")
        lines += ["", item["Content"]]
    lines.append("--MIXED--")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def simple_mail(*, body: str = "Hello there", headers: dict[str, str] | None = None,
                sender: str = "Sam <sam@example.com>", to: str = "assistant@localhost",
                subject: str = "Hello", message_id: str = "<m1@example.com>") -> bytes:
    """A one-part text mail; `headers` added after the standard ones (a value of "" drops that header)."""
    base = {"From": sender, "To": to, "Subject": subject, "Message-ID": message_id,
            "Date": "Fri, 04 Dec 2026 10:00:00 +0100", "MIME-Version": "1.0",
            "Content-Type": "text/plain; charset=utf-8"}
    for name, value in (headers or {}).items():
        base.pop(name, None)
        if value:
            base[name] = value
    lines = [f"{name}: {value}" for name, value in base.items()]
    return ("\r\n".join([*lines, "", body]) + "\r\n").encode("utf-8")
