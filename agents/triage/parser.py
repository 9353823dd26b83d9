"""The Triage parser: normalise, run every rule, score the best candidate and decide on a direct answer."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.places import Gazetteer, default_gazetteer

from .common import FULL, Analysis, Candidate, TriageResult, core_of, unwrap_ask
from .fuzzy import Fuzzy, default_fuzzy
from .intent_model import IntentModel, Thresholds, Vote, family_of, shipped_model
from .normalise import normalise
from .rules_chat import match_date, match_goodbye, match_greeting, match_help, match_thanks, match_time
from .rules_facts import match_facts, match_memory
from .rules_lists import match_reminders, match_tasks
from .slots import SLOT_PARSERS
from .vocab import match_help_question, match_list_read, match_name_question, match_social
from .when import parse_when

INTENTS: tuple[str, ...] = (
    "time", "date", "greeting", "goodbye", "thanks", "help", "remember", "recall", "forget", "reminder_set",
    "reminder_list", "task_add", "task_list", "task_done", "task_remove", "task_clear", "list_create", "undo", "none",
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
_UNDO = re.compile(r"(?:please )?(?:undo|undo (?:that|it|this|the last (?:change|thing|one)|my last change)|"
                   r"/undo|revert (?:that|it|the last change)|put (?:it|that|them) back)")


class Triage:
    """Rules first, a learned intent model under them: a direct answer needs both to agree (see `decide`).

    `model` is the intent model (the shipped one when omitted; `use_model=False` decides on the rules alone, for
    scoring the rules by themselves), `places` the gazetteer for time questions about other places.
    """

    def __init__(self, *, min_strength: float = 0.85, max_ambiguity: float = 0.2,
                 handled_intents: frozenset[str] = DIRECT_NOW,
                 on_parse: Callable[[TriageResult], None] | None = None,
                 model: IntentModel | None = None, use_model: bool = True, places: Gazetteer | None = None,
                 fuzzy: Fuzzy | None = None) -> None:
        unknown = set(handled_intents) - set(INTENTS)
        if unknown:
            raise ValueError(f"unknown intents: {sorted(unknown)}")
        self.min_strength = min_strength
        self.max_ambiguity = max_ambiguity
        self.handled_intents = frozenset(handled_intents)
        self.on_parse = on_parse
        self.model = (model or shipped_model()) if use_model else None
        self.thresholds = self.model.thresholds if self.model is not None else None
        self.places = places or default_gazetteer()
        self.fuzzy = fuzzy or default_fuzzy(self.model)

    def parse(self, text: str, *, now: datetime | None = None, tz: ZoneInfo | None = None) -> TriageResult:
        now = now or datetime.now(UTC)
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)  # documented as aware; a naive one is taken to be UTC
        analysis = self.analyse(text, now=now, tz=tz)
        vote = self.model.vote(analysis.text) if self.model is not None and analysis.text else None
        result = self.decide(analysis, vote)
        if not result.direct and analysis.text:
            # "thnaks a lot", "good bey": the closed words, corrected, may be read where the typo was not
            fixed = self.fuzzy.correct(analysis.text)
            if fixed is not None:
                again = self.analyse(fixed, now=now, tz=tz)
                second = self.decide(again, self.model.vote(again.text) if self.model is not None else None)
                if second.direct and second.intent in self.fuzzy.intents:
                    result = replace(second, entities={**second.entities, "corrected": fixed})
        if self.on_parse is not None:
            self.on_parse(result)
        return result

    def analyse(self, text: str, *, now: datetime, tz: ZoneInfo | None = None) -> Analysis:
        """What the rules make of the message (no model): their verdict and the texts the slot parsers read."""
        norm = normalise(text or "")
        low = _TODO.sub("todo", norm.text)
        cased = _TODO.sub("todo", norm.cased)
        if len(cased) != len(low):
            cased = low
        local_now = now.replace(microsecond=0).astimezone(tz or _UTC)
        nothing = TriageResult("none", False, 0.0, 1.0, {})
        if not low:
            return Analysis(nothing, None, "", "", "", local_now)
        core = core_of(low)
        start = low.find(core)
        cased_core = cased[start: start + len(core)]
        if _UNDO.fullmatch(core):
            best = Candidate("undo", FULL)
            return Analysis(self._verdict(best, 0.05, {}), best, core, cased_core, low, local_now)
        cands = _candidates(core, cased_core, low, self.places)
        if not cands:
            return Analysis(nothing, None, core, cased_core, low, local_now)
        cands.sort(key=lambda c: (c.full, c.strength), reverse=True)
        best = cands[0]
        ambiguity = 0.05 if best.full else 0.5
        for other in cands[1:]:
            if other.intent != best.intent:
                ambiguity = max(ambiguity, other.strength / best.strength * (0.6 if other.full else 0.2))
                break
        entities = _finish_entities(best, core, cased_core, local_now)
        return Analysis(self._verdict(best, ambiguity, entities), best, core, cased_core, low, local_now)

    def _verdict(self, best: Candidate, ambiguity: float, entities: dict[str, Any]) -> TriageResult:
        direct = (best.strength >= self.min_strength and ambiguity <= self.max_ambiguity
                  and best.intent in self.handled_intents and best.answerable)
        return TriageResult(best.intent, direct, round(best.strength, 3), round(min(ambiguity, 1.0), 3), entities)

    def decide(self, a: Analysis, vote: Vote | None, thresholds: Thresholds | None = None) -> TriageResult:
        """The rules' parse stands when the model gives its family at least `agree`; otherwise the model's own
        vote stands from `model` confidence, with the entities its family's slot parser finds (or none)."""
        rules = a.rules
        if vote is None:
            return rules
        th = thresholds or self.thresholds
        assert th is not None
        seen = {"family": vote.family, "label": vote.label, "confidence": vote.confidence}
        if rules.direct:
            family = family_of(rules.intent, rules.entities)
            agreed = family is None or vote.for_family(family) >= th.agree
            seen["agreement"] = round(vote.for_family(family), 4) if family else None
            return replace(rules, direct=agreed, model=seen)
        best = a.best
        rival = (best is not None and best.full and best.strength >= self.min_strength
                 and family_of(best.intent, best.entities) != vote.family)
        parser = SLOT_PARSERS.get(vote.family)
        if parser is None or rival or vote.confidence < th.model:
            return replace(rules, model=seen)
        found = parser(a, self.places)
        if found is None or found.intent not in self.handled_intents or a.now is None:
            return replace(rules, model=seen)
        entities = _finish_entities(found, a.core, a.cased_core, a.now)
        if not found.answerable:
            return replace(rules, model=seen)
        second = max((p for f, p in vote.families.items() if f != vote.family), default=0.0)
        return TriageResult(found.intent, True, vote.confidence, round(second / max(vote.confidence, 1e-9), 3),
                            entities, source="model", model=seen)


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
_TASK_GATE = frozenset({"list", "lists", "todo", "tasks", "task", "chores", "chore", "errands", "mark", "done",
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


def _candidates(core: str, cased_core: str, text: str, places: Gazetteer) -> list[Candidate]:
    words = set(text.split())
    checks: list[Candidate | None] = [match_greeting(core, text), match_goodbye(core, text),
                                      match_thanks(core, text), match_help(core)]
    if words & _TIME_GATE:
        checks.append(match_time(core, places))
    if words & _DATE_GATE:
        checks.append(match_date(core))
    if words & _FACT_GATE:
        checks.append(match_facts(core, cased_core, places))
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


def _finish_entities(best: Candidate, core: str, cased_core: str, now: datetime) -> dict[str, Any]:
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
        if info.date_only and when is not None and when.date() <= now.date():
            ents.pop("when", None)  # only "today", with no hour: the handler asks when rather than guess
        if _VAGUE_TEXT.fullmatch(str(ents.get("text", "")).lower()) is not None:
            ents["text"] = ""  # "remind me to do something": the handler asks what
        if _LIST_WORDS.search(str(ents.get("text", ""))):
            best.answerable = False  # "remind me to add milk to my list": a list edit dressed as a reminder
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
