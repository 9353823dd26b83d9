"""Direct replies built from a triage result and a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from agents.triage import INTENTS, AnswerContext, Triage, answer

NOW = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
TZ = ZoneInfo("Europe/Berlin")
CAPS = [("remind", "set reminders for later"), ("search", "search the web")]


@pytest.fixture(scope="module")
def triage() -> Triage:
    return Triage(handled_intents=frozenset(INTENTS) - {"none"})


@pytest.fixture()
def ctx() -> AnswerContext:
    return AnswerContext(now=NOW, tz=TZ, agent_name="Thinklio", capabilities=CAPS, user_name="Ana")


def reply(triage: Triage, ctx: AnswerContext, text: str) -> str | None:
    return answer(triage.parse(text, now=NOW, tz=TZ), ctx)


def test_time_here(triage: Triage, ctx: AnswerContext) -> None:
    assert reply(triage, ctx, "what time is it") == "It's 15:00 (Europe/Berlin)."


@pytest.mark.parametrize(("text", "expected"), [
    ("what time is it in adelaide",
     "It's 00:30 on Wednesday, 11 March 2026 in Adelaide, Australia (Australia/Adelaide)."),
    ("what's the time in new york", "It's 10:00 on Tuesday, 10 March 2026 in New York (America/New_York)."),
    ("time in tokyo", "It's 23:00 on Tuesday, 10 March 2026 in Tokyo, Japan (Asia/Tokyo)."),
    ("what time is it in florida", "It's 10:00 on Tuesday, 10 March 2026 in Florida (America/New_York)."),
])
def test_time_elsewhere_names_the_place(triage: Triage, ctx: AnswerContext, text: str, expected: str) -> None:
    assert reply(triage, ctx, text) == expected


def test_shared_names_go_to_the_most_populous_and_say_so(triage: Triage, ctx: AnswerContext) -> None:
    assert reply(triage, ctx, "what time is it in paris") == \
        "It's 15:00 on Tuesday, 10 March 2026 in Paris, France (Europe/Paris)."
    assert reply(triage, ctx, "what time is it in paris texas") == \
        "It's 09:00 on Tuesday, 10 March 2026 in Paris, TX (America/Chicago)."


@pytest.mark.parametrize(("text", "expected"), [
    ("what time is it in central time", "It's 09:00 on Tuesday, 10 March 2026 in Central Time (America/Chicago)."),
    ("what's the time in mountain time", "It's 08:00 on Tuesday, 10 March 2026 in Mountain Time (America/Denver)."),
    ("what time is it back home", "It's 15:00 (Europe/Berlin)."),
    ("what time is it at home", "It's 15:00 (Europe/Berlin)."),
])
def test_zone_names_and_home(triage: Triage, ctx: AnswerContext, text: str, expected: str) -> None:
    assert reply(triage, ctx, text) == expected


def test_a_country_across_zones_gets_each(triage: Triage, ctx: AnswerContext) -> None:
    text = reply(triage, ctx, "what time is it in the usa") or ""
    assert text.startswith("United States has several time zones") and "America/Los_Angeles" in text


def test_unresolved_place_gets_no_answer(triage: Triage, ctx: AnswerContext) -> None:
    res = triage.parse("what time is it in narnia", now=NOW, tz=TZ)
    assert not res.direct
    assert answer(res, ctx) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("what's the date", "Today is Tuesday, 10 March 2026."),
    ("what day is it tomorrow", "Tomorrow is Wednesday, 11 March 2026."),
    ("what date will it be in 4 days", "In 4 days it will be Saturday, 14 March 2026."),
])
def test_dates(triage: Triage, ctx: AnswerContext, text: str, expected: str) -> None:
    assert reply(triage, ctx, text) == expected


def test_greetings(triage: Triage, ctx: AnswerContext) -> None:
    assert reply(triage, ctx, "hi") == "Hi Ana! What can I do for you?"
    assert "doing well" in (reply(triage, ctx, "how are you") or "")


def test_goodbye_and_thanks(triage: Triage, ctx: AnswerContext) -> None:
    assert reply(triage, ctx, "bye!") == "Bye, Ana! Talk soon."
    assert reply(triage, ctx, "thanks a lot") == "You're welcome!"


def test_help_lists_capabilities(triage: Triage, ctx: AnswerContext) -> None:
    text = reply(triage, ctx, "what can you do?")
    assert text is not None
    assert text.splitlines() == ["I'm Thinklio. Here is what I can help with:",
                                 "- remind: set reminders for later", "- search: search the web"]


@pytest.mark.parametrize("text", ["remind me to call mum tomorrow at 5pm", "add eggs to my shopping list",
                                  "my name is Brad", "the weather is nice"])
def test_no_answer_for_other_intents(triage: Triage, ctx: AnswerContext, text: str) -> None:
    assert reply(triage, ctx, text) is None
