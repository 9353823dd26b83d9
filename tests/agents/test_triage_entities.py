"""Entity extraction: times relative to a fixed now and zone, durations, places, lists, tasks and facts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from agents.triage import INTENTS, Triage
from agents.triage.normalise import normalise
from agents.triage.when import duration_seconds
from bot.places import default_gazetteer, valid_zone

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)  # Tuesday; 15:00 in Berlin (CET, before the DST switch)
TZ = ZoneInfo("Europe/Berlin")


@pytest.fixture(scope="module")
def triage() -> Triage:
    return Triage(handled_intents=frozenset(INTENTS) - {"none"})


@pytest.mark.parametrize(("text", "when", "reminder_text"), [
    ("remind me to call mum tomorrow at 5pm", "2026-03-11T17:00:00+01:00", "call mum"),
    ("remind me in 10 minutes to check the oven", "2026-03-10T15:10:00+01:00", "check the oven"),
    ("remnd me in 5 minuts to check the pasta", "2026-03-10T15:05:00+01:00", "check the pasta"),
    ("remind me tomorrow at quarter past six to feed the cat", "2026-03-11T18:15:00+01:00", "feed the cat"),
    ("remind me tomorow morning to water the plants", "2026-03-11T09:00:00+01:00", "water the plants"),
    ("remind me next thursday to pay rent", "2026-03-12T09:00:00+01:00", "pay rent"),
    ("remind me in 3 days to call the bank", "2026-03-13T15:00:00+01:00", "call the bank"),
    ("remind me at 5 to leave", "2026-03-10T17:00:00+01:00", "leave"),
    ("remind me at noon to eat", "2026-03-11T12:00:00+01:00", "eat"),
    ("remind me at 10:30pm to lock up", "2026-03-10T22:30:00+01:00", "lock up"),
    ("remind me tonight to take out the bins", "2026-03-10T20:00:00+01:00", "take out the bins"),
    ("remind me on the 23rd to renew my passport", "2026-03-23T09:00:00+01:00", "renew my passport"),
    ("remind me on friday at 3 to call the dentist", "2026-03-13T15:00:00+01:00", "call the dentist"),
    ("Remind me to buy flowers 💐 in an hour and a half!", "2026-03-10T16:30:00+01:00", "buy flowers"),
    # 21 days crosses the switch to summer time: the wall clock stays at 15:00
    ("remind me in 21 days to renew the lease", "2026-03-31T15:00:00+02:00", "renew the lease"),
])
def test_reminder_times(triage: Triage, text: str, when: str, reminder_text: str) -> None:
    res = triage.parse(text, now=NOW, tz=TZ)
    assert res.intent == "reminder_set"
    assert res.direct
    assert res.entities["when"] == when
    assert res.entities["text"] == reminder_text


@pytest.mark.parametrize(("text", "seconds"), [
    ("set a timer for half an hour", 1800),
    ("set a timer for 10 minutes", 600),
    ("wake me up in 2 hours", 7200),
    ("remind me in 1 hour and 30 minutes to stretch", 5400),
    ("remind me in twenty-five minutes to flip the steak", 1500),
    ("start a 7 minute timer", 420),
])
def test_durations(triage: Triage, text: str, seconds: int) -> None:
    res = triage.parse(text, now=NOW, tz=TZ)
    assert res.intent == "reminder_set"
    assert res.entities["duration_s"] == seconds
    assert datetime.fromisoformat(res.entities["when"]) == NOW + timedelta(seconds=seconds)


@pytest.mark.parametrize(("phrase", "seconds"), [
    ("half an hour", 1800), ("a quarter of an hour", 900), ("90 seconds", 90), ("2 days", 172800),
    ("a couple of minutes", 120), ("one week", 604800), ("1.5 hours", 5400),
])
def test_duration_phrases(phrase: str, seconds: int) -> None:
    assert duration_seconds(phrase) == seconds


@pytest.mark.parametrize(("text", "recurrence", "when"), [
    ("every weekday at 9 remind me to stand up", {"freq": "weekdays", "time": "09:00"},
     "2026-03-11T09:00:00+01:00"),
    ("remind me to take my pills every day at 8am", {"freq": "daily", "time": "08:00"},
     "2026-03-11T08:00:00+01:00"),
    ("remind me every monday at 7:30 to put the bins out",
     {"freq": "weekly", "weekday": "monday", "time": "07:30"}, "2026-03-16T07:30:00+01:00"),
])
def test_recurrence(triage: Triage, text: str, recurrence: dict[str, object], when: str) -> None:
    res = triage.parse(text, now=NOW, tz=TZ)
    assert res.intent == "reminder_set"
    assert res.entities["recurrence"] == recurrence
    assert res.entities["when"] == when
    assert "remind" not in res.entities["text"]


def test_reminder_without_time_or_text_is_direct_and_leaves_the_slot_empty(triage: Triage) -> None:
    res = triage.parse("remind me to call bob", now=NOW, tz=TZ)
    assert (res.intent, res.direct, res.entities) == ("reminder_set", True, {"text": "call bob"})  # asks when
    vague = triage.parse("remind me to do something", now=NOW, tz=TZ)
    assert (vague.intent, vague.direct, vague.entities) == ("reminder_set", True, {"text": ""})  # asks what


@pytest.mark.parametrize(("text", "place", "zone"), [
    ("what time is it in adelaide", "adelaide", "Australia/Adelaide"),
    ("WHAT TIME IS IT IN SYDNEY, AUSTRALIA?", "sydney australia", "Australia/Sydney"),
    ("what's the time in london", "london", "Europe/London"),
    ("what time is it in punta gorda, florida", "punta gorda florida", "America/New_York"),
    ("what is the current time in the pacific time zone", "pacific time zone", "America/Los_Angeles"),
    ("what time is it in mexico city", "mexico city", "America/Mexico_City"),
    ("time in buenos aires", "buenos aires", "America/Argentina/Buenos_Aires"),
    ("what is the current est time", "est", "America/New_York"),
    ("what time is it in kathmandu", "kathmandu", "Asia/Kathmandu"),
    ("wat time is it in Reykjavik ⏰", "reykjavik", "Atlantic/Reykjavik"),
])
def test_places(triage: Triage, text: str, place: str, zone: str) -> None:
    res = triage.parse(text, now=NOW, tz=TZ)
    assert res.intent == "time" and res.direct
    assert res.entities["place"] == place and res.entities["timezone"] == zone


@pytest.mark.parametrize(("place", "zone"), [
    ("glenwood springs, co", "America/Denver"), ("the central timezone", "America/Chicago"),
    ("hst timezone", "Pacific/Honolulu"), ("new york", "America/New_York"), ("russia", "Europe/Moscow"),
    ("daniel boone national forest", None), ("my house", None), ("usa", "America/New_York"),
    ("central time", "America/Chicago"), ("mountain", "America/Denver"), ("paris", "Europe/Paris"),
    ("paris texas", "America/Chicago"), ("portland maine", "America/New_York"), ("bombay", "Asia/Kolkata"),
    ("São Paulo", "America/Sao_Paulo"), ("ourense", "Europe/Madrid"), ("time", None), ("the morning", None),
])
def test_gazetteer_zone(place: str, zone: str | None) -> None:
    assert default_gazetteer().zone(place) == zone


def test_gazetteer_names_the_choice_and_the_zones() -> None:
    places = default_gazetteer()
    paris = places.find("paris")
    assert paris is not None and paris.name == "Paris, France"  # the more populous Paris
    usa = places.find("the usa")
    assert usa is not None and "America/Los_Angeles" in usa.zones  # several zones, none picked for the user


def test_valid_zone() -> None:
    assert valid_zone("europe/berlin") == "Europe/Berlin"
    assert valid_zone("Mars/Olympus") is None


@pytest.mark.parametrize(("text", "intent", "entities"), [
    ("add eggs to my groceries list", "task_add", {"list": "shopping", "task": "eggs"}),
    ("add Buy Milk to my todo list", "task_add", {"list": "todo", "task": "Buy Milk"}),
    ("add tent to my camping list", "task_add", {"list": "camping", "task": "tent"}),
    ("put call the plumber on my to-do list", "task_add", {"list": "todo", "task": "call the plumber"}),
    ("please add “oat milk” to the shopping list", "task_add", {"list": "shopping", "task": "oat milk"}),
    ("remove bread from my shopping list", "task_remove", {"list": "shopping", "task": "bread"}),
    ("clear my shopping list", "task_clear", {"list": "shopping"}),
    ("is milk on my shopping list", "task_list", {"list": "shopping", "query": "milk"}),
    ("what's on my to do list", "task_list", {"list": "todo"}),
    ("mark pay rent as done", "task_done", {"task": "pay rent"}),
    ("take the eggs off my list", "task_remove", {"task": "the eggs"}),
    ("remove eggs from list", "task_remove", {"task": "eggs"}),
    ("delete eggs from my shopping list", "task_remove", {"list": "shopping", "task": "eggs"}),
    ("show me my lists", "task_list", {"all": True}),
    ("what's on the list", "task_list", {}),
    ("make a new list called packing", "list_create", {"list": "packing"}),
])
def test_lists_and_tasks(triage: Triage, text: str, intent: str, entities: dict[str, str]) -> None:
    res = triage.parse(text, now=NOW, tz=TZ)
    assert (res.intent, res.entities) == (intent, entities)
    assert res.direct


@pytest.mark.parametrize(("text", "entities"), [
    ("remember that the wifi password is “hunter2”", {"fact": "the wifi password is hunter2",
                                                      "subject": "wifi password", "value": "hunter2"}),
    ("my name is Brad 😎", {"subject": "name", "value": "Brad"}),
    ("call me jo", {"subject": "name", "value": "Jo"}),
    ("you can call me Mary-Ann", {"subject": "name", "value": "Mary Ann"}),
    ("stop calling me Dave, my name's Bob", {"subject": "name", "value": "Bob"}),
    ("my time zone is europe/berlin", {"subject": "time zone", "value": "Europe/Berlin",
                                       "timezone": "Europe/Berlin"}),
])
def test_facts(triage: Triage, text: str, entities: dict[str, str]) -> None:
    res = triage.parse(text, now=NOW, tz=TZ)
    assert res.intent == "remember" and res.direct
    assert res.entities == entities


def test_unknown_zone_is_not_stored(triage: Triage) -> None:
    res = triage.parse("my time zone is Mars/Olympus", now=NOW, tz=TZ)
    assert res.intent == "remember" and not res.direct
    assert "timezone" not in res.entities


@pytest.mark.parametrize(("text", "offset", "day"), [
    ("what's the date", 0, "2026-03-10"),
    ("what day is it tomorrow", 1, "2026-03-11"),
    ("what date will it be in 4 days", 4, "2026-03-14"),
    ("what will the date be 30 days from now", 30, "2026-04-09"),
    ("what's the date the day after tomorrow", 2, "2026-03-12"),
])
def test_date_entities(triage: Triage, text: str, offset: int, day: str) -> None:
    res = triage.parse(text, now=NOW, tz=TZ)
    assert res.intent == "date" and res.direct
    assert res.entities == {"offset_days": offset, "date": day}


def test_date_uses_user_zone(triage: Triage) -> None:
    # 14:00 UTC is already 04:00 the next day at UTC+14
    res = triage.parse("what is the date", now=NOW, tz=ZoneInfo("Pacific/Kiritimati"))
    assert res.entities["date"] == "2026-03-11"


@pytest.mark.parametrize(("raw", "text"), [
    ("Wat time is it in Adelaide?? 😀", "what time is it in adelaide"),
    ("it’s “fine”", "it is fine"),
    ("remnd me tomorow", "remind me tomorrow"),
    ("I'm leaving-goodbye!", "i am leaving goodbye"),
])
def test_normalise(raw: str, text: str) -> None:
    assert normalise(raw).text == text
