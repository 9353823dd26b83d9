"""Typos in the small closed vocabularies (thanks, goodbye, greetings, help), fixed with rapidfuzz.

Only words no dictionary of ours knows are looked at, only against a few dozen words, and a corrected message
counts only when it then reads as one of these slot-free intents: a typo in a reminder's text or a list item
(an open slot) is never "fixed".
"""

from __future__ import annotations

from functools import cache

from rapidfuzz import fuzz, process

from .intent_model import IntentModel
from .lexicon import TYPOS

TARGETS: tuple[str, ...] = (
    "thanks", "thank", "appreciate", "appreciated", "grateful", "gratitude", "cheers", "goodbye", "bye",
    "farewell", "later", "tomorrow", "night", "hello", "greetings", "morning", "evening", "afternoon", "help",
    "capabilities", "abilities", "questions", "assist", "assistance",
)
INTENTS = frozenset({"thanks", "goodbye", "greeting", "help"})
MIN_SCORE = 80  # rapidfuzz's ratio, 0-100: "thnaks" -> "thanks" is 83, "thinks" -> "thanks" is 83 too (known)
MAX_WORDS = 10


class Fuzzy:
    intents = INTENTS

    def __init__(self, known_words: frozenset[str]) -> None:
        self._known = known_words | frozenset(TARGETS)

    def correct(self, text: str) -> str | None:
        """The text with unknown words replaced by the closed word they most resemble, or None if none was."""
        tokens = text.split()
        if len(tokens) > MAX_WORDS:
            return None
        changed = False
        for i, tok in enumerate(tokens):
            if len(tok) < 4 or tok in self._known or not tok.isalpha():
                continue
            hit = process.extractOne(tok, TARGETS, scorer=fuzz.ratio, score_cutoff=MIN_SCORE)
            if hit is not None:
                tokens[i] = hit[0]
                changed = True
        return " ".join(tokens) if changed else None


@cache
def default_fuzzy(model: IntentModel | None) -> Fuzzy:
    """Known words: the model's vocabulary (every word of CLINC's train split) and the normaliser's tables."""
    words = {f[2:] for f in model.vocabulary if f.startswith("w ")} if model is not None else set()
    words.update(TYPOS)
    words.update(w for value in TYPOS.values() for w in value.split())
    return Fuzzy(frozenset(words))
