"""Learning facts from conversation: after a turn the model answered, the plain "my X is Y" statements the user
made about themselves are stored (lower confidence than a fact they asked us to remember).

Rule-based only for now: the model proposing facts is left for when a cheap call can be afforded per turn.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.turn import Reply, Turn
from knowledge.handlers import own_partition

if TYPE_CHECKING:
    from knowledge.service import Knowledge

EXTRACTED_CONFIDENCE = 0.7
_SENTENCES = re.compile(r"(?<=[.!?;])\s+|\n+")
_MY_X_IS_Y = re.compile(
    r"^(?:and |also |btw |by the way,? )?my (?P<subject>[a-z][a-z' -]{1,40}?) (?:is|are) (?P<value>[^?]{1,120}?)[.!]?$",
    re.IGNORECASE)
_NOT_A_VALUE = re.compile(r"^(?:not|no longer|what|who|where|when|how|why|a bit|so|very|too|kind of|probably|maybe)\b",
                          re.IGNORECASE)
_NOT_A_SUBJECT = frozenset({"question", "problem", "issue", "point", "guess", "bad", "pleasure", "turn", "fault"})


def extract(text: str) -> list[tuple[str, str]]:
    """(subject, value) pairs from plain statements; questions, negations and hedges are skipped."""
    found: list[tuple[str, str]] = []
    for sentence in _SENTENCES.split(text.strip()):
        sentence = sentence.strip()
        if not sentence or sentence.endswith("?"):
            continue
        match = _MY_X_IS_Y.match(sentence)
        if match is None:
            continue
        subject, value = match["subject"].strip().lower(), match["value"].strip(" ,")
        if subject in _NOT_A_SUBJECT or _NOT_A_VALUE.match(value) or not value:
            continue
        found.append((subject, value))
    return found


def extractor(knowledge: Knowledge):  # type: ignore[no-untyped-def]
    async def after_turn(turn: Turn, reply: Reply) -> None:
        if reply.tier != "llm" or turn.origin != "user" or not knowledge.settings.knowledge_extract:
            return
        pairs = extract(turn.text)
        for subject, value in pairs:
            await knowledge.facts.remember(
                own_partition(turn), subject, value, now=knowledge.clock.now(), source="extraction",
                confidence=EXTRACTED_CONFIDENCE, locale=turn.user.locale, agent_id=turn.agent.id,
                interaction_id=turn.interaction_id)
        if pairs:
            await knowledge.sync()

    return after_turn
