"""Learning facts from conversation: after a turn the model answered, facts the user stated about themselves are
stored in their own partition, with less confidence than a fact they asked us to remember.

Two extractors. The rule-based one reads the plain "my X is Y" forms and costs nothing. The model proposes the
rest ("I moved to Porto last year") when one is configured: one call, only for messages with a first-person
statement, within the budgets, recorded as a step of the turn it follows and added to that turn's cost. Its
answer is untrusted text: anything that is not a well-formed proposal is dropped, never stored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agents.llm.base import ChatMessage, ProviderError
from agents.model_calls import ModelCalls
from bot.pipeline import Pipeline
from bot.turn import Reply, Turn
from knowledge.facts import normalise_subject
from knowledge.handlers import own_partition

if TYPE_CHECKING:
    from knowledge.service import Knowledge

log = structlog.get_logger("thinklio.knowledge")

EXTRACTED_CONFIDENCE = 0.7  # rule-based: the form is plain, but the user did not ask us to remember it
MODEL_CONFIDENCE_CAP = 0.9  # a proposal is never as sure as "remember that ..."
MAX_MESSAGE_CHARS = 2000
MAX_PROPOSALS = 10

_SENTENCES = re.compile(r"(?<=[.!?;])\s+|\n+")
_MY_X_IS_Y = re.compile(
    r"^(?:and |also |btw |by the way,? )?my (?P<subject>[a-z][a-z' -]{1,40}?) (?:is|are) (?P<value>[^?]{1,120}?)[.!]?$",
    re.IGNORECASE)
_NOT_A_VALUE = re.compile(r"^(?:not|no longer|what|who|where|when|how|why|a bit|so|very|too|kind of|probably|maybe)\b",
                          re.IGNORECASE)
_NOT_A_SUBJECT = frozenset({"question", "problem", "issue", "point", "guess", "bad", "pleasure", "turn", "fault"})
# Not "me": "tell me a joke" is a request, not a statement.
_QUESTION_OPENING = re.compile(
    r"^(?:what|what's|whats|where|who|whom|whose|when|how|why|which|is|are|am|was|were|do|does|did|can|could|"
    r"will|would|should|shall|may|might|have|has|had)\b", re.IGNORECASE)
_FIRST_PERSON = re.compile(r"\b(?:i|i'm|im|i've|i'd|i'll|my|mine|myself|we|our|ours)\b", re.IGNORECASE)

PROPOSE_PROMPT = """You read one message a user sent to their assistant and list the lasting facts the user \
states about themselves or their own things: name, family, pets, home, work, preferences, accounts, dates.
Answer with JSON only, in this shape: {"facts": [{"subject": "dog's name", "value": "Rex", "confidence": 0.9}]}
- subject: a short noun phrase from the user's point of view, without "my" ("I live in Porto": "home city").
- value: the value as the user gave it.
- confidence: from 0 to 1, how sure you are that the user stated it as true about themselves.
- Leave out questions, requests, hypotheticals, jokes, and facts about other people that are not the user's.
- When there are none, answer {"facts": []}."""


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


def states_something_about_self(text: str) -> bool:
    """A first-person sentence that does not open as a question ("what is my ...", "do I ..."): only then is a
    model call worth paying for. "I moved to Porto, what should we see?" counts."""
    return any(_FIRST_PERSON.search(sentence) and not (sentence.endswith("?") and _QUESTION_OPENING.match(sentence))
               for sentence in (part.strip() for part in _SENTENCES.split(text.strip())) if sentence)


class Proposal(BaseModel):
    model_config = ConfigDict(extra="ignore")

    subject: str = Field(min_length=1, max_length=80)
    value: str = Field(min_length=1, max_length=200)
    confidence: float = Field(0.7, ge=0.0, le=1.0)

    @field_validator("subject")
    @classmethod
    def _subject(cls, value: str) -> str:
        value = re.sub(r"^(?:my|the user's|user's)\s+", "", value.strip(), flags=re.IGNORECASE)
        return normalise_subject(value)

    @field_validator("value")
    @classmethod
    def _value(cls, value: str) -> str:
        return value.strip().strip(".")


def parse_proposals(text: str | None) -> list[Proposal]:
    """The well-formed proposals in a model's answer (JSON, perhaps fenced or with words around it)."""
    if not text:
        return []
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return []
    try:
        body = json.loads(text[start:end + 1])
    except json.JSONDecodeError:
        return []
    items = body.get("facts") if isinstance(body, dict) else None
    if not isinstance(items, list):
        return []
    proposals: list[Proposal] = []
    for item in items[:MAX_PROPOSALS]:
        try:
            proposal = Proposal.model_validate(item)
        except ValidationError:
            continue
        if proposal.subject and proposal.value:
            proposals.append(proposal)
    return proposals


@dataclass(frozen=True, slots=True)
class Learned:
    subject: str
    value: str
    confidence: float
    stated: bool  # the user's own words ("my X is Y"), not the model's reading of them


class FactProposer:
    """Asks the model for the facts in a message, as a metered step of the turn."""

    def __init__(self, model: ModelCalls, pipeline: Pipeline, *, mode: str, model_name: str | None,
                 min_confidence: float) -> None:
        self._model = model
        self._pipeline = pipeline
        self._model_name = model_name
        self._min_confidence = min_confidence
        provider = model.provider_name
        self.enabled = provider is not None and (mode == "on" or (mode == "auto" and provider != "local"))

    async def propose(self, turn: Turn) -> list[Learned]:
        if not self.enabled or not states_something_about_self(turn.text):
            return []
        if (reason := await self._model.refusal(turn)) is not None:
            log.info("extraction_skipped", reason=reason)
            return []
        messages = [ChatMessage("system", PROPOSE_PROMPT), ChatMessage("user", turn.text[:MAX_MESSAGE_CHARS])]
        taken = len(turn.steps)
        try:
            result = await self._model.chat(turn, messages, model=self._model_name or self._model.model_for(turn),
                                            max_tokens=300, purpose="extraction")
        except ProviderError:
            return []  # recorded as a failed step; the turn itself is long answered
        finally:
            await self._pipeline.add_steps(turn, turn.steps[taken:])
        return [Learned(p.subject, p.value, min(p.confidence, MODEL_CONFIDENCE_CAP), False)
                for p in parse_proposals(result.text) if p.confidence >= self._min_confidence]


def extractor(knowledge: Knowledge, proposer: FactProposer):  # type: ignore[no-untyped-def]
    async def after_turn(turn: Turn, reply: Reply) -> None:
        if reply.tier != "llm" or turn.origin != "user" or not knowledge.settings.knowledge_extract:
            return
        learned = {normalise_subject(subject): Learned(normalise_subject(subject), value, EXTRACTED_CONFIDENCE, True)
                   for subject, value in extract(turn.text)}
        for proposal in await proposer.propose(turn):
            learned.setdefault(proposal.subject, proposal)  # the plain form, when both read it, wins
        await store(knowledge, turn, list(learned.values()))

    return after_turn


async def store(knowledge: Knowledge, turn: Turn, learned: Collection[Learned]) -> None:
    """Into the user's own partition only. A stated value supersedes the old one, as "remember" does; the model's
    reading supersedes only a fact held with no more confidence (it never overrides "remember that ...")."""
    for fact in learned:
        await knowledge.facts.remember(
            own_partition(turn), fact.subject, fact.value, now=knowledge.clock.now(), source="extraction",
            confidence=fact.confidence, locale=turn.user.locale, agent_id=turn.agent.id,
            interaction_id=turn.interaction_id, replace_stronger=fact.stated)
    if learned:
        await knowledge.sync()
