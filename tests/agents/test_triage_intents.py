"""Intent and direct-answer decisions of the triage parser, written from everyday chat phrasing."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from agents.triage import DIRECT_NOW, INTENTS, Triage, TriageResult

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)  # a Tuesday
TZ = ZoneInfo("Europe/Berlin")
ALL = frozenset(INTENTS) - {"none"}


@pytest.fixture(scope="module")
def triage_all() -> Triage:
    return Triage(handled_intents=ALL)


@pytest.fixture(scope="module")
def triage_now() -> Triage:
    return Triage()


def parse(t: Triage, text: str) -> TriageResult:
    return t.parse(text, now=NOW, tz=TZ)


DIRECT_CASES = [
    # time
    ("what time is it", "time"),
    ("wat time is it??", "time"),
    ("What's the time right now?", "time"),
    ("got the time?", "time"),
    ("could you tell me the current time please", "time"),
    ("time in tokyo", "time"),
    ("what time is it in adelaide", "time"),
    ("in Paris, what time is it?", "time"),
    ("what's the time over in new york right now", "time"),
    ("what is the current time in the pacific time zone", "time"),
    # date
    ("what's the date today", "date"),
    ("what day is it", "date"),
    ("what's today's date?", "date"),
    ("what day is it tomorrow", "date"),
    ("what date will it be in 4 days", "date"),
    ("what will the date be 10 days from now", "date"),
    ("which day of the week is it", "date"),
    ("what year is it", "date"),
    ("in two weeks, what date will it be", "date"),
    ("can you tell me tomorrow's date", "date"),
    # greeting
    ("hi", "greeting"),
    ("Hello there! 👋", "greeting"),
    ("hey, how are you?", "greeting"),
    ("how's it going", "greeting"),
    ("good morning", "greeting"),
    ("how have you been", "greeting"),
    ("what's up", "greeting"),
    ("yo, how ya doin", "greeting"),
    # goodbye
    ("bye", "goodbye"),
    ("goodbye!", "goodbye"),
    ("see you later", "goodbye"),
    ("ok thanks, bye", "goodbye"),
    ("talk to you tomorrow", "goodbye"),
    ("I have to go now", "goodbye"),
    ("good night", "goodbye"),
    ("it was nice chatting with you, see you around", "goodbye"),
    # thanks
    ("thanks", "thanks"),
    ("thank you so much!", "thanks"),
    ("thx", "thanks"),
    ("Thanks a lot for the help 🙏", "thanks"),
    ("I really appreciate it", "thanks"),
    ("cheers", "thanks"),
    ("great answer, thank you", "thanks"),
    ("you've been a great help", "thanks"),
    # help
    ("help", "help"),
    ("what can you do?", "help"),
    ("what kinds of things can I ask you", "help"),
    ("what are your capabilities", "help"),
    ("how can you help me", "help"),
    ("which topics are you familiar with", "help"),
    # memory
    ("my name is Brad", "remember"),
    ("call me Stevie", "remember"),
    ("please call me Jo from now on", "remember"),
    ("i go by Sam", "remember"),
    ("remember that the wifi password is “hunter2”", "remember"),
    ("my time zone is Europe/Berlin", "remember"),
    ("what's my name?", "recall"),
    ("do you know my name", "recall"),
    ("what do you call me", "recall"),
    ("what name do you have saved for me", "recall"),
    ("my name is what", "recall"),
    # reminders
    ("remind me to call mum tomorrow at 5pm", "reminder_set"),
    ("remnd me to stretch in 10 minuts", "reminder_set"),
    ("set a reminder for 7am to take my pills", "reminder_set"),
    ("set a timer for half an hour", "reminder_set"),
    ("wake me up at 6:30", "reminder_set"),
    ("every weekday at 9 remind me to stand up", "reminder_set"),
    ("what are my reminders", "reminder_list"),
    ("read me my reminders", "reminder_list"),
    ("what's on my reminder list", "reminder_list"),
    # tasks
    ("add eggs to my groceries list", "task_add"),
    ("put call the plumber on my to-do list", "task_add"),
    ("add milk to the shopping list", "task_add"),
    ("remove bread from my shopping list", "task_remove"),
    ("take the car wash off my todo list", "task_remove"),
    ("mark pay rent as done", "task_done"),
    ("clear my todo list", "task_clear"),
    ("what's on my to do list", "task_list"),
    ("read me my shopping list", "task_list"),
    ("what do I have to do today", "task_list"),
    # a missing slot is asked for by the handler: still a direct answer
    ("remind me to call bob", "reminder_set"),
    ("set a reminder", "reminder_set"),
    ("remind me later", "reminder_set"),
    ("add to my list", "task_add"),
    ("make a new list", "list_create"),
    # lists as people speak of them
    ("show me my lists", "task_list"),
    ("what's on the list", "task_list"),
    ("take the eggs off my list", "task_remove"),
    ("create a packing list", "list_create"),
    ("undo", "undo"),
]


@pytest.mark.parametrize(("text", "intent"), DIRECT_CASES)
def test_direct_when_everything_is_handled(triage_all: Triage, text: str, intent: str) -> None:
    res = parse(triage_all, text)
    assert res.intent == intent, res
    assert res.direct, res
    assert res.strength >= triage_all.min_strength
    assert res.ambiguity <= triage_all.max_ambiguity


NOT_DIRECT_CASES = [
    "what time does the pharmacy close",
    "what time is my meeting tomorrow",
    "what time zone is boston in",
    "what's the time difference between london and tokyo",
    "what time is it in daniel boone national forest",
    "what time is it in narnia",
    "remind me what we discussed",
    "I forgot my keys",
    "thanks but that's wrong",
    "thanks for nothing",
    "no thanks",
    "what's the date of the election",
    "when is my next payday",
    "what day is thanksgiving this year",
    "how are you supposed to fix this",
    "how are you able to charge that much",
    "hi, can you book me a flight to rome",
    "hello, my card was declined",
    "bye the way, what's the weather",
    "call me a taxi",
    "call me later",
    "what is your name",
    "what should I call you",
    "what is my credit score",
    "my flight is delayed",
    "forget it",
    "i am hungry",
    "i'm lost",
    "add eggs to my shopping list and remove cheese",
    "do i have bananas on my shopping list, if not add them",
    "get everything on my shopping list",
    "what's on my calendar for friday",
    "what can you tell me about the roman empire",
    "what do you know about cooking rice",
    "help me with my taxes",
    "please note that i will be travelling soon",
    "",
    "   ",
    "🙂",
    "asdfghjkl",
]


@pytest.mark.parametrize("text", NOT_DIRECT_CASES)
def test_not_direct(triage_all: Triage, text: str) -> None:
    assert not parse(triage_all, text).direct


@pytest.mark.parametrize(("text", "intent"), [
    ("remind me to call mum tomorrow at 5pm", "reminder_set"),
    ("add eggs to my groceries list", "task_add"),
    ("my name is Brad", "remember"),
    ("what's my name?", "recall"),
])
def test_handled_intents_gate_direct(triage_now: Triage, text: str, intent: str) -> None:
    res = parse(triage_now, text)
    assert res.intent == intent
    assert not res.direct  # named, but not in DIRECT_NOW


@pytest.mark.parametrize("text", ["what time is it", "hi", "thanks", "what can you do", "bye",
                                  "what's the date"])
def test_current_direct_set(triage_now: Triage, text: str) -> None:
    assert parse(triage_now, text).direct


@pytest.mark.parametrize(("text", "intent"), [
    ("what time does the pharmacy close", "time"),
    ("remind me what we discussed", "reminder_set"),
    ("thanks but that's wrong", "thanks"),
    ("the weather is nice", "none"),
])
def test_intent_named_even_when_not_direct(triage_all: Triage, text: str, intent: str) -> None:
    res = parse(triage_all, text)
    assert res.intent == intent
    assert not res.direct


def test_thresholds_are_respected() -> None:
    strict = Triage(min_strength=0.99, handled_intents=ALL, use_model=False)
    loose = Triage(min_strength=0.5, max_ambiguity=0.6, handled_intents=ALL, use_model=False)
    assert not parse(strict, "what time is it").direct
    assert parse(loose, "what time is it").direct


def test_unknown_handled_intent_rejected() -> None:
    with pytest.raises(ValueError):
        Triage(handled_intents=frozenset({"time", "weather"}))


def test_on_parse_called_once_per_parse() -> None:
    seen: list[TriageResult] = []
    t = Triage(on_parse=seen.append)
    first = t.parse("hi", now=NOW)
    second = t.parse("what time is it", now=NOW)
    assert seen == [first, second]


def test_result_shape_and_rounding(triage_all: Triage) -> None:
    res = parse(triage_all, "what time is it in adelaide")
    d = res.to_dict()
    assert list(d) == ["intent", "direct", "strength", "ambiguity", "entities", "source", "model"]
    assert d["source"] == "rules" and 0.0 <= d["model"]["confidence"] <= 1.0
    assert res.intent in INTENTS
    assert 0.0 <= res.strength <= 1.0 and 0.0 <= res.ambiguity <= 1.0
    assert round(res.strength, 3) == res.strength
    assert frozenset(INTENTS) >= DIRECT_NOW


def test_defaults_to_utc_now() -> None:
    res = Triage(handled_intents=ALL).parse("remind me in 10 minutes to check the oven")
    when = datetime.fromisoformat(res.entities["when"])
    assert when.utcoffset().total_seconds() == 0
    assert abs((when - datetime.now(UTC)).total_seconds() - 600) < 60
