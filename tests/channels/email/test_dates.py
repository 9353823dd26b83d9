"""Every real-world Date of the shared `date_strings.tsv` parses with its zone kept, or falls back to the receive
time; nothing raises."""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from channels.email.dates import parse_date
from tests.conftest import SHARED

TABLE = SHARED / "fixtures" / "postmark" / "mvdnbrk_postmark_inbound" / "date_strings.tsv"
RECEIVED = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
_EXPECTED = re.compile(r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) \(?([+-]\d{4})\)?")


def _rows() -> list[tuple[str, str]]:
    with TABLE.open(newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    return [(row[0], row[1]) for row in rows[1:]]


def test_the_table_is_all_there() -> None:
    assert len(_rows()) == 12


@pytest.mark.parametrize(("value", "expected"), _rows(), ids=[row[0] for row in _rows()])
def test_every_date_string_of_the_table(value: str, expected: str) -> None:
    parsed = parse_date(value, fallback=RECEIVED)
    if expected.startswith("UNPARSEABLE"):
        assert parsed == RECEIVED
        return
    match = _EXPECTED.match(expected)
    assert match is not None, expected
    want = datetime.strptime(f"{match.group(1)} {match.group(2)}", "%Y-%m-%d %H:%M:%S %z")
    assert parsed == want
    assert parsed.utcoffset() == want.utcoffset()  # the same instant AND the sender's own offset


def test_colon_offsets_keep_their_zone() -> None:
    # email.utils reads "-04:00" as no zone at all: the naive time would be four hours wrong as UTC
    parsed = parse_date("Fri, 1 Aug 2014 16:45:32 -04:00", fallback=RECEIVED)
    assert parsed.utcoffset() == timedelta(hours=-4)
    assert parse_date("Fri, 1 Aug 2014 16:45:32 GMT+05:30", fallback=RECEIVED).utcoffset() == timedelta(
        hours=5, minutes=30)
    assert parse_date("Fri, 1 Aug 2014 16:45:32 +05", fallback=RECEIVED).utcoffset() == timedelta(hours=5)


@pytest.mark.parametrize("value", ["", "   ", "garbage", "Fri, 32 Aug 2014 16:45:32 +0000", "16:45",
                                   "Fri, 1 Aug 2014 16:45:32 +2500", "Fri, 1 Xyz 2014 16:45:32 +0000",
                                   None, 12345, b"Fri, 1 Aug 2014 16:45:32 +0000", "(((", "2014-13-01T00:00:00Z"])
def test_unreadable_values_fall_back_to_the_receive_time(value: object) -> None:
    assert parse_date(value, fallback=RECEIVED) == RECEIVED


def test_zone_names_and_no_zone() -> None:
    assert parse_date("Fri, 1 Aug 2014 16:45:32 EDT", fallback=RECEIVED).utcoffset() == timedelta(hours=-4)
    # "-0000" and unknown zone names: UTC, and always aware
    for value in ("Fri, 1 Aug 2014 16:45:32 -0000", "Fri, 1 Aug 2014 16:45:32 CET", "1 Aug 2014 16:45:32"):
        parsed = parse_date(value, fallback=RECEIVED)
        assert parsed == datetime(2014, 8, 1, 16, 45, 32, tzinfo=UTC), value


def test_postmark_iso_timestamps() -> None:
    parsed = parse_date("2014-08-01T13:28:10.2735393-04:00", fallback=RECEIVED)
    assert parsed == datetime(2014, 8, 1, 13, 28, 10, 273539, tzinfo=timezone(timedelta(hours=-4)))
    assert parse_date("2014-06-01T12:00:00", fallback=RECEIVED) == datetime(2014, 6, 1, 12, tzinfo=UTC)
    assert parse_date("2014-06-01T12:00:00Z", fallback=RECEIVED) == datetime(2014, 6, 1, 12, tzinfo=UTC)


def test_a_naive_fallback_is_made_aware() -> None:
    parsed = parse_date("nonsense", fallback=datetime(2026, 1, 1))
    assert parsed == datetime(2026, 1, 1, tzinfo=UTC)
