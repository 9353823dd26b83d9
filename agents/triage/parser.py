"""The Triage parser: normalise, run every rule, score the best candidate and decide on a direct answer."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .common import Candidate, core_of, unwrap_ask
from .normalise import normalise
from .rules_chat import match_date, match_goodbye, match_greeting, match_help, match_thanks, match_time
from .rules_facts import match_facts, match_memory
from .rules_lists import match_reminders, match_tasks
from .vocab import match_help_question, match_list_read, match_name_question, match_social
from .when import parse_when

INTENTS: tuple[str, ...] = (
    "time", "date", "greeting", "goodbye", "thanks", "help", "remember", "recall", "forget", "reminder_set",
    "reminder_list", "task_add", "task_list", "task_done", "task_remove", "task_clear", "none",
)
DIRECT_NOW: frozenset[str] = frozenset({"time", "date", "greeting", "goodbye", "thanks", "help"})
_UTC = ZoneInfo("UTC")
# "to do list" and "to-do" spelled apart; a single token keeps the list rules simple.
_TODO = re.compile(r"\bto do(?:'s)?(?= list\b| items\b)", re.IGNORECASE)
_VAGUE_TEXT = re.compile(r"(?:(?:to |me )?(?:do )?(?:something|this|that|it|stuff|things?|later|soon|again|"
                         r"in a bit|in awhile|in a while|at a later time|at the right time|for me|of somethi"
                         r"ng)\s*)*")
_LIST_WORDS = re.compile(r"\b(?:list|todo|to do)\b", re.IGNORECASE)
_EDGE_WORDS = re.compile(r"^(?:to|that|about|at|on|in|for|by|and|,)\s+|\s+(?:at|on|in|for|by|and|please|,)$",
                         re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class TriageResult:
    intent: str
    direct: bool
    strength: float
    ambiguity: float
    entities: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"intent": self.intent, "direct": self.direct, "strength": self.strength,
                "ambiguity": self.ambiguity, "entities": self.entities}


class Triage:
    """Rule-based intent parser; precision first, so anything unsure is marked not direct."""

    def __init__(self, *, min_strength: float = 0.85, max_ambiguity: float = 0.2,
                 handled_intents: frozenset[str] = DIRECT_NOW,
                 on_parse: Callable[[TriageResult], None] | None = None,
                 reminder_needs_time: bool = True) -> None:
        unknown = set(handled_intents) - set(INTENTS)
        if unknown:
            raise ValueError(f"unknown intents: {sorted(unknown)}")
        self.min_strength = min_strength
        self.max_ambiguity = max_ambiguity
        self.handled_intents = frozenset(handled_intents)
        self.on_parse = on_parse
        # True: "remind me to call mum" (no time) is handed over, as the reminder handler needs a time.
        # False: it counts as direct when it has a concrete text, and the handler asks for the time itself.
        self.reminder_needs_time = reminder_needs_time

    def parse(self, text: str, *, now: datetime | None = None, tz: ZoneInfo | None = None) -> TriageResult:
        now = now or datetime.now(UTC)
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)  # documented as aware; a naive one is taken to be UTC
        result = self._parse(text, now.replace(microsecond=0), tz or _UTC)
        if self.on_parse is not None:
            self.on_parse(result)
        return result

    def _parse(self, text: str, now: datetime, tz: ZoneInfo) -> TriageResult:
        norm = normalise(text or "")
        low = _TODO.sub("todo", norm.text)
        cased = _TODO.sub("todo", norm.cased)
        if len(cased) != len(low):
            cased = low
        if not low:
            return TriageResult("none", False, 0.0, 1.0, {})
        core = core_of(low)
        start = low.find(core)
        cased_core = cased[start: start + len(core)]
        cands = _candidates(core, cased_core, low)
        if not cands:
            return TriageResult("none", False, 0.0, 1.0, {})
        cands.sort(key=lambda c: (c.full, c.strength), reverse=True)
        best = cands[0]
        ambiguity = 0.05 if best.full else 0.5
        for other in cands[1:]:
            if other.intent != best.intent:
                ambiguity = max(ambiguity, other.strength / best.strength * (0.6 if other.full else 0.2))
                break
        local_now = now.astimezone(tz)
        entities = _finish_entities(best, core, cased_core, local_now, self.reminder_needs_time)
        direct = (best.strength >= self.min_strength and ambiguity <= self.max_ambiguity
                  and best.intent in self.handled_intents and best.answerable)
        return TriageResult(best.intent, direct, round(best.strength, 3), round(min(ambiguity, 1.0), 3),
                            entities)


# Cheap word gates: a rule family only runs when one of its cue words is present, which keeps the
# median parse far below the cost of running every regex on every message.
_TIME_GATE = frozenset({"time", "clock", "hour", "late", "o'clock", "oclock"})
_DATE_GATE = frozenset({"date", "day", "days", "today", "today's", "tomorrow", "tomorrow's", "yesterday",
                        "month",
                        "year", "week", "weeks", "weekday", "monday", "tuesday", "wednesday", "thursday",
                        "friday",
                        "saturday", "sunday", "be"})
_REMIND_GATE = frozenset({"remind", "reminder", "reminders", "reminded", "alarm", "timer", "wake", "forget",
                          "notify", "notified", "countdown", "notification", "tell"})
_TASK_GATE = frozenset({"list", "todo", "tasks", "task", "chores", "chore", "errands", "mark", "done",
                        "finished",
                        "completed", "tick", "cross", "buy"})
_FACT_GATE = frozenset({"name", "names", "call", "called", "calling", "go", "zone", "timezone", "tz", "refer",
                        "address", "am", "nickname", "known", "designation", "nym", "reference", "speak",
                        "talk", "referring", "addressing", "saved", "know"})
_HELP_GATE = frozenset({
    "ask", "asked", "help", "assist", "answer", "answering", "answers", "do", "know", "capabilities",
    "abilities", "skills", "commands", "familiar", "versed", "knowledgable", "knowledgeable", "capable",
    "comprehend", "aware", "respond", "response", "use", "using", "questions", "subjects", "topics",
    "complete", "handle", "accept",
})
_MEMORY_GATE = frozenset({"remember", "forget", "my", "note", "memorize", "mind", "save", "store", "tell", "know"})
_LIST_GATE = _REMIND_GATE | _TASK_GATE | {"remember", "recall", "mind", "do"}
_NAME_GATE = frozenset({"name", "names", "call", "refer", "address", "reference", "called", "am",
                        "designation",
                        "nym", "nickname", "referred", "known"})


def _candidates(core: str, cased_core: str, text: str) -> list[Candidate]:
    words = set(text.split())
    checks: list[Candidate | None] = [match_greeting(core, text), match_goodbye(core, text),
                                      match_thanks(core, text), match_help(core)]
    if words & _TIME_GATE:
        checks.append(match_time(core))
    if words & _DATE_GATE:
        checks.append(match_date(core))
    if words & _FACT_GATE:
        checks.append(match_facts(core, cased_core))
    if words & _REMIND_GATE:
        checks.append(match_reminders(core, cased_core))
    if words & _TASK_GATE:
        checks.append(match_tasks(core, cased_core))
    found: list[Candidate] = [c for c in checks if c is not None]
    if not any(c.full for c in found):
        # The closed-vocabulary matchers see the question with and without its sign-off ("... ai").
        for q in dict.fromkeys((unwrap_ask(core), unwrap_ask(text))):
            extra = [
                match_list_read(q, core) if words & _LIST_GATE else None,
                match_name_question(q, core) if words & _NAME_GATE else None,
                match_help_question(q, core) if words & _HELP_GATE else None,
            ]
            hits = [c for c in extra if c is not None]
            if hits:
                found.extend(hits)
                break
        social = match_social(text)
        if social is not None:
            found.append(social)
    if not any(c.full for c in found) and words & _MEMORY_GATE:
        mem = match_memory(core, cased_core)
        if mem is not None:
            found.append(mem)
    return found


def _finish_entities(best: Candidate, core: str, cased_core: str, now: datetime,
                     needs_time: bool) -> dict[str, Any]:
    ents = dict(best.entities)
    if best.intent == "date":
        offset = int(ents.get("offset_days", 0))
        ents["date"] = (now + timedelta(days=offset)).date().isoformat()
    elif best.intent == "reminder_set":
        span = ents.pop("_text_span", None)
        core, cased_core = ents.pop("_core", (core, cased_core))
        info = parse_when(core, now)
        when = info.when
        if when is None and info.duration_s:
            when = now + timedelta(seconds=info.duration_s)
        if when is not None:
            ents["when"] = when.isoformat()
        if info.duration_s:
            ents["duration_s"] = info.duration_s
        if info.recurrence:
            rec = dict(info.recurrence)
            if when is not None and not info.date_only:
                rec["time"] = when.strftime("%H:%M")
            ents["recurrence"] = rec
        if span is not None:
            ents["text"] = _strip_spans(cased_core, span, info.spans)
        timeless = when is None or (info.date_only and when.date() <= now.date())
        vague = _VAGUE_TEXT.fullmatch(str(ents.get("text", "")).lower()) is not None
        if _LIST_WORDS.search(str(ents.get("text", ""))):
            best.answerable = False  # "remind me to add milk to my list": a list edit dressed as a reminder
        if timeless and (needs_time or vague):
            best.answerable = False  # no time, or only "today" with no hour: the handler would have to guess
    return ents


def _strip_spans(text: str, span: tuple[int, int], drop: list[tuple[int, int]]) -> str:
    """The reminder text inside span with the time phrases cut out ("call mum at 5" -> "call mum")."""
    chars = list(text)
    for a, b in drop:
        for i in range(max(a, 0), min(b, len(chars))):
            chars[i] = " "
    out = " ".join("".join(chars[span[0]: span[1]]).split())
    for _ in range(3):
        new = _EDGE_WORDS.sub("", out).strip()
        if new == out:
            break
        out = new
    return out
