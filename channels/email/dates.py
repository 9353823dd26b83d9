"""A mail's `Date` as an aware datetime, whatever the sending software wrote; the receive time when unreadable.

Real-world Date headers break RFC 5322 in a few recurring ways (see the shared fixture `date_strings.tsv`):
a zone comment cut short (`+0100 (West-Europe (stand`), an offset with a colon (`-04:00`, which
`email.utils` reads as no zone at all and silently returns a naive time), `GMT+03:00` forms, impossible
fields (hour 27). Postmark's own webhooks use ISO 8601 with seven fractional digits. We repair the first three,
read ISO 8601 ourselves, and fall back for the rest: this function never raises.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# `+hh:mm` / `GMT+hh:mm` / `UTC+hhmm` / `+hh` at the end -> `+hhmm`, the one form email.utils keeps.
_OFFSET = re.compile(r"(?:\b(?:GMT|UTC|UT))?\s*([+-])(\d{1,2}):?(\d{2})?\s*$", re.IGNORECASE)
_COMMENT = re.compile(r"\([^()]*\)")
_ISO = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?\s*$",
                  re.IGNORECASE)
_TIME = re.compile(r"\d{1,2}:\d{2}")


def parse_date(value: object, *, fallback: datetime) -> datetime:
    """`value` as an aware datetime with the sender's offset kept; `fallback` (made aware) when unreadable."""
    fallback = _aware(fallback)
    if not isinstance(value, str) or not value.strip():
        return fallback
    try:
        parsed = _iso(value) or _rfc5322(value)
    except (ValueError, TypeError, IndexError, OverflowError):  # email.utils' failures, in every version
        return fallback
    return _aware(parsed) if parsed is not None else fallback


def _aware(value: datetime) -> datetime:
    # A naive time means "-0000" or a zone name email.utils does not know (CET): UTC is the honest reading.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _iso(value: str) -> datetime | None:
    match = _ISO.match(value)
    if match is None:
        return None
    day, clock, fraction, zone = match.groups()
    fraction = fraction or ""  # Postmark writes seven digits; fromisoformat keeps six
    zone = "+00:00" if zone in (None, "Z", "z") else zone
    return datetime.fromisoformat(f"{day}T{clock}{fraction}{zone}")


def _rfc5322(value: str) -> datetime | None:
    text = " ".join(value.split())
    while (stripped := _COMMENT.sub(" ", text)) != text:  # nested comments, innermost first
        text = stripped
    text = text.split("(", 1)[0].strip()  # a comment left open by truncation
    time_match = _TIME.search(text)
    if time_match is None:
        return None
    # Only an offset after the time of day is a zone (a bare "-04" before it would be part of a date).
    head, tail = text[: time_match.end()], text[time_match.end():]
    tail = _OFFSET.sub(lambda m: f" {m.group(1)}{int(m.group(2)):02d}{m.group(3) or '00'}", tail)
    return parsedate_to_datetime(f"{head}{tail}")
