"""Reading the answer to a question triage asked: "When should I remind you?" -> "tomorrow at 9".

`fill` returns the completed parse for the waiting intent, or None when the message does not answer the
question (then the question is dropped and the message is handled as any other). A message that triage reads
as another direct request ("what time is it in Tokyo") never answers a question.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from .common import TriageResult, core_of
from .normalise import normalise
from .rules_lists import valid_list_name

if TYPE_CHECKING:
    from bot.questions import Pending

    from .parser import Triage

_YES = re.compile(r"(?:yes|yeah|yep|yup|sure|ok|okay|do it|go ahead|please do|confirm|confirmed|correct|right|"
                  r"absolutely|definitely)(?: (?:please|do it|go ahead|clear it|forget it|delete it|i am sure|"
                  r"that is right|thanks))*")
_NO = re.compile(r"(?:no|nope|nah|cancel|stop|do not|never ?mind|leave it|keep (?:it|them))(?: (?:thanks|thank you|"
                 r"please|do not|leave it|keep it))*")
_QUESTION = re.compile(r"^(?:what|which|who|why|how|where|is|are|do|does|can|could|would|will|should)\b")
_ASKS_TO_REMIND = re.compile(r"^(?:please |can you |could you )?(?:remind me|set (?:a|me a) reminder)\b")
MAX_ANSWER_WORDS = 12


def fill(pending: Pending, text: str, result: TriageResult, triage: Triage, *, now: datetime,
         tz: ZoneInfo) -> TriageResult | None:
    norm = normalise(text or "")
    core = core_of(norm.text) if norm.text else ""
    if not core:
        return None
    ents: dict[str, Any] = dict(pending.entities)
    done = TriageResult(pending.intent, True, 1.0, 0.0, ents, source="question")
    if pending.slot == "confirm":
        if _YES.fullmatch(core):
            return replace(done, entities={**ents, "confirmed": True})
        if _NO.fullmatch(core):
            return replace(done, entities={**ents, "declined": True})
        return None
    if result.direct and result.intent != pending.intent:
        return None  # plainly something else
    if len(core.split()) > MAX_ANSWER_WORDS:
        return None
    if pending.slot in ("when", "text") and pending.intent == "reminder_set":
        return _reminder(pending, norm.cased, ents, triage, now, tz)
    if _QUESTION.match(core) or text.strip().endswith("?"):
        return None
    if pending.slot == "task":
        return replace(done, entities={**ents, "task": norm.cased.strip(" .!")})
    if pending.slot == "list":
        name = valid_list_name(core)
        return replace(done, entities={**ents, "list": name}) if name else None
    return None


def _reminder(pending: Pending, answer: str, ents: dict[str, Any], triage: Triage, now: datetime,
              tz: ZoneInfo) -> TriageResult | None:
    """Read the answer inside a whole reminder request, so the time and text rules stay the only ones."""
    known = str(ents.get("text") or "")
    if pending.slot == "when":
        parsed = triage.analyse(f"remind me to {known} {answer}", now=now, tz=tz).rules
        found = parsed.entities
        if parsed.intent != "reminder_set" or not (found.get("when") or found.get("recurrence")):
            return None
        if " ".join(str(found.get("text", "")).casefold().split()) != " ".join(known.casefold().split()):
            return None  # more than a time was said: not an answer to "when?"
    else:
        if _QUESTION.match(answer.lower()):
            return None
        request = answer if _ASKS_TO_REMIND.match(answer.lower()) else f"remind me to {answer}"
        parsed = triage.analyse(request, now=now, tz=tz).rules
        found = parsed.entities
        if parsed.intent != "reminder_set" or not found.get("text"):
            return None
    merged = {**ents, **{k: v for k, v in found.items() if v}}
    return TriageResult("reminder_set", True, 1.0, 0.0, merged, source="question")
