"""Shared pieces for the intent rules: the candidate record and the polite-wrapper stripping."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

FULL = 0.95      # the whole message is one phrasing of the intent
STRONG = 0.9     # whole message matched, but through a looser pattern
WEAK = 0.55      # a keyword points at the intent; enough to name it, never to answer it


def word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


def alternatives(*patterns: str) -> tuple[re.Pattern[str], ...]:
    # Python's re forbids a group name twice in one pattern, so alternatives sharing names compile apart.
    return tuple(re.compile(p) for p in patterns)


def full_match(rxs: tuple[re.Pattern[str], ...], text: str) -> re.Match[str] | None:
    for rx in rxs:
        m = rx.fullmatch(text)
        if m:
            return m
    return None


@dataclass(slots=True)
class Candidate:
    intent: str
    strength: float
    entities: dict[str, Any] = field(default_factory=dict)
    answerable: bool = True   # False when the handler would lack something it needs (a place, a time)
    full: bool = True         # the match explains the whole message


@dataclass(frozen=True, slots=True)
class TriageResult:
    intent: str
    direct: bool
    strength: float
    ambiguity: float
    entities: dict[str, Any] = field(default_factory=dict)
    source: str = "rules"  # what decided: "rules" (the model agreeing), or "model" (with the slot parser's entities)
    model: dict[str, Any] = field(default_factory=dict)  # the model's vote: family, label, confidence

    def to_dict(self) -> dict[str, Any]:
        return {"intent": self.intent, "direct": self.direct, "strength": self.strength,
                "ambiguity": self.ambiguity, "entities": self.entities, "source": self.source, "model": self.model}


@dataclass(slots=True)
class Analysis:
    """What the rules made of one message: their own verdict, their best candidate, and the texts the slot
    parsers read. Computed once; the decision with the model's vote is a cheap function of it."""

    rules: TriageResult
    best: Candidate | None
    core: str = ""
    cased_core: str = ""
    text: str = ""
    now: datetime | None = None  # in the user's zone


# Openers and sign-offs that carry no intent. Stripped repeatedly so "ok so hey ai, ..." works.
_LEAD = re.compile(
    r"^(?:ok(?:ay)?|so|well|um+|uh+|hmm+|oh|yo|alright|right|quick question|excuse me|sorry|"
    r"hey(?: there)?|hi(?: there)?|hello(?: there)?|ai|assistant|bot|siri|alexa|google|thinklio|"
    r"please|pls|kindly|just|and|also|now|then)\b ?"
)
_TRAIL = re.compile(
    r" (?:please|pls|ai|assistant|bot|for me|thanks|thank you|thank you very much|then|quickly|asap|"
    r"real quick|if you can|if you could|if you would|if possible|mate|buddy|friend)$"
)
# "can you tell me ...", "i need to know ...": wrappers around a question, stripped in two layers.
_ASK_POLITE = re.compile(
    r"^(?:do you mind |would you mind |(?:can|could|would|will) you (?:please |kindly |quickly |just )?|plea"
    r"se |"
    r"i (?:would like|want|need|wish|am needing|was hoping) (?:you )?to |i would love to |"
    r"i want you to |help me |go ahead and |let us |i would like you to |i need you to )+"
)
_ASK_VERB = re.compile(
    r"^(?:tell me|telling me|give me|let me know|show me|share|inform me of|inform me|remind me of|say|"
    r"know|find out|look up|check|tell|provide|hear|see|i need information on|information on|"
    r"do you know|do you have any idea|have any idea|any idea|i need to know|i want to know|i wanna know|"
    r"i would like to know|i wish to know|i need|i want|i would like|i am needing to know|"
    r"i would like to get|i want to get|i need to get|get me|get)\b ?"
)
_QUESTION_TAIL = re.compile(r" (?:can you tell me|if you know|by any chance)$")


def strip_lead(text: str) -> str:
    for _ in range(4):
        new = _LEAD.sub("", text, count=1)
        if new == text or not new:
            break
        text = new
    return text


def strip_trail(text: str) -> str:
    for _ in range(3):
        new = _TRAIL.sub("", text)
        new = _QUESTION_TAIL.sub("", new)
        if new == text or not new:
            break
        text = new
    return text


@lru_cache(maxsize=1024)
def core_of(text: str) -> str:
    """The message without greetings-as-openers, politeness and sign-offs; never empty if text is not."""
    stripped = strip_trail(strip_lead(text))
    return stripped or text


@lru_cache(maxsize=1024)
def unwrap_ask(text: str) -> str:
    """Drop a request wrapper ("could you tell me") so the question underneath can be matched."""
    new = _ASK_POLITE.sub("", text, count=1)
    new = _ASK_VERB.sub("", new, count=1)
    new = _ASK_POLITE.sub("", new, count=1)
    return new or text
