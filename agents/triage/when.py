"""Durations, clock times, dates and recurrences in normalised (lower-case) text.

Everything is resolved against an aware local "now" so that "tomorrow at 5pm" means the user's tomorrow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from .lexicon import MONTHS, NUM_WORD_RX, ORDINALS, PART_OF_DAY, UNIT_SECONDS, WEEKDAYS, word_number

_NUM = rf"(?:\d+(?:\.\d+)?|{NUM_WORD_RX}|an?|a couple of|a few)"
_UNIT = r"(?:seconds?|minutes?|mins?|hours?|h|m|s|days?|weeks?)"
_ONE_DUR = rf"(?:{_NUM}[ -]?(?:and a half )?{_UNIT}(?: and a half)?)"
_DUR = (rf"(?:half an? (?:hour|minute)|an? quarter (?:of an )?hour|{_ONE_DUR}(?:(?:,? and |,? ){_ONE_DUR})*)")
_DUR_RX = re.compile(_DUR)
_PART_RX = re.compile(rf"(?P<n>{_NUM})[ -]?(?P<half>and a half )?(?P<u>{_UNIT})(?P<half2> and a half)?")

_REL_RX = re.compile(rf"\b(?:in|after|within) (?:about |around |like )?(?P<d>{_DUR})\b|"
                     rf"\b(?P<d2>{_DUR}) (?:from now|from today|later)\b")
_FOR_RX = re.compile(rf"\b(?:for|of) (?:about )?(?P<d>{_DUR})\b|\b(?P<d2>{_DUR}) (?:timer|countdown)\b")

_HOUR_W = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\d{1,2})"
_MIN_W = rf"(?:\d{{1,2}}|{NUM_WORD_RX})"
_AMPM = r"(?:a\.?m\.?|p\.?m\.?)\b"
_CLOCK_RX = re.compile(
    r"\b(?:(?:at|@|by|for|around|about) )?(?:"
    rf"(?P<q>quarter|half|{_MIN_W}(?: minutes?)?) (?P<rel>past|after|to|til|till) (?P<qh>{_HOUR_W})|"
    rf"(?P<h>\d{{1,2}})(?::(?P<m>\d{{2}}))? ?(?P<ap>{_AMPM})?|"
    rf"(?P<wh>{_HOUR_W}) (?P<wm>thirty|fifteen|forty[- ]five|o'clock|oclock|{_MIN_W})(?: (?P<ap2>{_AMPM}))?|"
    rf"(?P<wh2>{_HOUR_W}) (?P<ap3>{_AMPM})|"
    r"(?P<noon>noon|midday|midnight|mid day)"
    r")(?: o'clock| oclock)?"
)
_AT_WORD_RX = re.compile(rf"\b(?:at|@|by) (?P<h>{_HOUR_W})\b(?: o'clock| oclock)?")
_MERIDIEM_RX = re.compile(r"\b(?:in the (?P<p>morning|afternoon|evening)|at (?P<n>night)|(?P<t>tonight))\b")

_DAY_RX = re.compile(
    r"\b(?:(?P<dat>(?:the )?day after tomorrow)|(?P<tom>tomorrow(?:'s)?)|(?P<tod>today(?:'s)?|tonight|"
    r"this (?:morning|afternoon|evening))|"
    rf"(?:(?:on |this |next |coming |on next |this coming )*(?P<wd>{'|'.join(WEEKDAYS)})s?)|"
    rf"(?:on )?(?:the )?(?P<dom>\d{{1,2}}|{'|'.join(ORDINALS)})(?:st|nd|rd|th)?(?: of (?P<mon1>"
    rf"{'|'.join(MONTHS)}))?\b(?(mon1)|(?= of (?:the|every|each) month|(?!)))|"
    rf"(?:on )?(?P<mon2>{'|'.join(m for m in MONTHS if len(m) > 3)}) (?:the )?(?P<dom2>\d{{1,2}}|"
    rf"{'|'.join(ORDINALS)})(?:st|nd|rd|th)?)\b"
)
_DOM_RX = re.compile(rf"\b(?:on )?the (?P<dom>\d{{1,2}}|{'|'.join(ORDINALS)})(?:st|nd|rd|th)\b")
_PART_DAY_RX = re.compile(r"\b(?:in the |this |tomorrow |at )?(?P<p>morning|afternoon|evening|night|tonight)"
                          r"\b")
_RECUR_RX = re.compile(
    r"\b(?:(?:every|each) (?:single )?(?P<unit>day|weekday|weekend|week|month|morning|evening|night|"
    rf"{'|'.join(WEEKDAYS)})s?|(?P<adv>daily|weekly|monthly|nightly|hourly)|on (?P<wds>weekdays|weekends)|"
    rf"every (?P<n>{_NUM}) (?P<u>minutes?|hours?|days?|weeks?))\b"
)


@dataclass(slots=True)
class WhenInfo:
    when: datetime | None = None
    duration_s: int | None = None
    recurrence: dict[str, object] | None = None
    spans: list[tuple[int, int]] = field(default_factory=list)
    date_only: bool = False


def duration_seconds(text: str) -> int | None:
    """Seconds in a duration phrase ("1 hour and 30 minutes", "half an hour"); None if none found."""
    if text.startswith("half a"):
        return 1800 if "hour" in text else 30
    if "quarter" in text:
        return 900
    total = 0.0
    for m in _PART_RX.finditer(text):
        raw = m["n"]
        n = 2.0 if raw == "a couple of" else 3.0 if raw == "a few" else (
            float(raw) if raw[0].isdigit() else float(word_number(raw) or 0))
        if m["half"] or m["half2"]:
            n += 0.5
        unit = m["u"]
        total += n * UNIT_SECONDS.get(unit, UNIT_SECONDS.get(unit.rstrip("s"), 0))
    return int(total) if total > 0 else None


def _hour_value(word: str) -> int:
    return int(word) if word.isdigit() else int(word_number(word) or 0)


def _clock(text: str) -> tuple[int, int, bool, tuple[int, int]] | None:
    """(hour, minute, meridiem_known, span) of the first clock time."""
    for m in _CLOCK_RX.finditer(text):
        if m["noon"]:
            return (0 if m["noon"] == "midnight" else 12), 0, True, m.span()
        if m["q"]:
            hour = _hour_value(m["qh"])
            q = m["q"].split()[0]
            mins = 15 if q == "quarter" else 30 if q == "half" else _hour_value(q)
            if m["rel"] in ("to", "til", "till"):
                hour, mins = (hour - 1) % 24, 60 - mins
            return hour, mins, False, m.span()
        if m["h"] is not None:
            has_at = m.group(0).startswith(("at ", "@ ", "by ", "around ", "about ", "for "))
            if not (m["ap"] or m["m"] or has_at):
                continue  # a bare number is a count, not a time
            if m.group(0).startswith("for ") and not (m["ap"] or m["m"]):
                continue
            hour, mins = int(m["h"]), int(m["m"] or 0)
            if hour > 23 or mins > 59:
                continue
            ap = (m["ap"] or "").replace(".", "")
            return _apply_ampm(hour, ap), mins, bool(ap) or hour > 12 or hour == 0, m.span()
        if m["wh"]:
            wm = m["wm"]
            if wm in ("o'clock", "oclock"):
                mins = 0
            else:
                mins = _hour_value(wm.replace("-", " "))
                if mins > 59:
                    continue
            ap = (m["ap2"] or "").replace(".", "")
            return _apply_ampm(_hour_value(m["wh"]), ap), mins, bool(ap), m.span()
        if m["wh2"]:
            ap = m["ap3"].replace(".", "")
            return _apply_ampm(_hour_value(m["wh2"]), ap), 0, True, m.span()
    m2 = _AT_WORD_RX.search(text)
    if m2:
        return _hour_value(m2["h"]) % 24, 0, False, m2.span()
    return None


def _apply_ampm(hour: int, ap: str) -> int:
    if ap.startswith("p") and hour < 12:
        return hour + 12
    if ap.startswith("a") and hour == 12:
        return 0
    return hour


def _day(text: str, today: date) -> tuple[date, tuple[int, int]] | None:
    m = _DAY_RX.search(text)
    if m is None:
        m = _DOM_RX.search(text)
        if m is None:
            return None
        return _day_of_month(today, _ordinal(m["dom"]), None), m.span()
    if m["dat"]:
        return today + timedelta(days=2), m.span()
    if m["tom"]:
        return today + timedelta(days=1), m.span()
    if m["tod"]:
        return today, m.span()
    if m["wd"]:
        ahead = (WEEKDAYS[m["wd"]] - today.weekday()) % 7 or 7
        return today + timedelta(days=ahead), m.span()
    if m["dom"]:
        return _day_of_month(today, _ordinal(m["dom"]), MONTHS.get(m["mon1"] or "")), m.span()
    return _day_of_month(today, _ordinal(m["dom2"]), MONTHS[m["mon2"]]), m.span()


def _ordinal(word: str) -> int:
    return int(word) if word.isdigit() else ORDINALS.get(word, 0)


def _day_of_month(today: date, dom: int, month: int | None) -> date:
    """Next date with that day of month (and month if given), today included."""
    year, mon = today.year, month or today.month
    for _ in range(24):
        try:
            candidate = date(year, mon, dom)
        except ValueError:
            candidate = None
        if candidate is not None and candidate >= today:
            return candidate
        if month:
            year += 1
        else:
            mon, year = (1, year + 1) if mon == 12 else (mon + 1, year)
    return today


def _recurrence(text: str) -> tuple[dict[str, object], tuple[int, int]] | None:
    m = _RECUR_RX.search(text)
    if m is None:
        return None
    if m["n"]:
        secs = duration_seconds(f"{m['n']} {m['u']}") or 0
        return {"freq": "interval", "interval_s": secs}, m.span()
    unit = m["unit"] or m["wds"] or m["adv"]
    unit = unit.rstrip("s") if unit not in ("weekdays", "weekends") else unit[:-1]
    freq = {"day": "daily", "morning": "daily", "evening": "daily", "night": "daily", "nightly": "daily",
            "weekday": "weekdays", "weekend": "weekends", "week": "weekly", "month": "monthly",
            "daily": "daily", "weekly": "weekly", "monthly": "monthly", "hourly": "hourly"}.get(unit)
    if freq is None:
        return {"freq": "weekly", "weekday": unit}, m.span()
    return {"freq": freq}, m.span()


def parse_when(text: str, now: datetime) -> WhenInfo:
    """Find a point in time, a duration and/or a recurrence in text; now must be in the user's zone."""
    info = WhenInfo()
    rel = _REL_RX.search(text)
    if rel:
        secs = duration_seconds(rel["d"] or rel["d2"])
        if secs:
            info.duration_s = secs
            info.when = now + timedelta(seconds=secs)
            info.spans.append(rel.span())
            info.date_only = secs >= 86400 and secs % 86400 == 0
    else:
        for_m = _FOR_RX.search(text)
        if for_m:
            secs = duration_seconds(for_m["d"] or for_m["d2"])
            if secs:
                info.duration_s = secs
                info.spans.append(for_m.span())
    rec = _recurrence(text)
    if rec:
        info.recurrence = rec[0]
        info.spans.append(rec[1])
    clock = _clock(text)
    day = _day(text, now.date())
    if rec and day is None and "weekday" in rec[0]:
        wd = WEEKDAYS[str(rec[0]["weekday"])]
        day = (now.date() + timedelta(days=(wd - now.weekday()) % 7 or 7), rec[1])
    if clock is None and day is None and not (rec and _PART_DAY_RX.search(text)):
        return info
    if info.when is not None and info.date_only and clock:
        day = (info.when.date(), rel.span() if rel else (0, 0))
    elif info.when is not None:
        return info
    part = _PART_DAY_RX.search(text)
    if clock is not None:
        hour, minute, known, span = clock
        info.spans.append(span)
        if not known:
            later_day = (day is not None and day[0] != now.date()) or rec is not None
            hour = _guess_meridiem(hour, text, now, later_day)
    elif part is not None:
        hour, minute = PART_OF_DAY[part["p"]], 0
        info.spans.append(part.span())
    else:
        hour, minute = 9, 0
        info.date_only = True
    target = day[0] if day else now.date()
    if day:
        info.spans.append(day[1])
    tzinfo = now.tzinfo
    moment = datetime.combine(target, time(hour % 24, minute), tzinfo)
    if day is None and moment <= now:
        moment += timedelta(days=1)  # "at 7" after 7 means the next 7
    if info.recurrence and info.recurrence.get("freq") in ("weekdays", "weekends"):
        want_weekend = info.recurrence["freq"] == "weekends"
        while (moment.weekday() >= 5) != want_weekend:
            moment += timedelta(days=1)
    info.when = moment
    info.date_only = info.date_only and clock is None and part is None
    return info


def _guess_meridiem(hour: int, text: str, now: datetime, other_day: bool) -> int:
    """Pick am or pm for an hour written without one, from a part of day or the next such hour."""
    m = _MERIDIEM_RX.search(text) or _PART_DAY_RX.search(text)
    if m:
        word = m.group(0)
        if "morning" in word:
            return 0 if hour == 12 else hour
        return hour + 12 if hour < 12 else hour
    if hour >= 12:
        return hour
    if other_day:
        return hour if hour >= 7 else hour + 12  # "tomorrow at 5" is rarely 5 am
    for h in (hour, hour + 12):
        if (h, 0) > (now.hour, now.minute):
            return h
    return hour
