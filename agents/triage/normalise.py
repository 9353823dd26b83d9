"""Text clean-up before matching: one lower-case form for the rules and a case-kept twin for values."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .lexicon import TYPOS

_QUOTES = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'", "\u00b4": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u00a0": " ",
})
# Emoji and pictographs are noise for intent; joiners and variation selectors glue them together.
_DROP_CATEGORIES = frozenset({"So", "Sk", "Cs", "Co", "Cn"})
_DROP_CHARS = frozenset({"\u200d", "\ufe0f", "\ufe0e", "\u20e3"})
# Word characters plus the few symbols that live inside values (zone names, e-mail, times, "to-do").
_TOKEN = re.compile(r"[\w@#$%&+/]+(?:['.:\-][\w@#$%&+/]+)*")
# Hyphenated words people also write apart ("leaving-goodbye", "twenty-one"); the list words keep theirs.
_HYPHEN = re.compile(r"(?<=[^\W\d_])-(?=[^\W\d_])")
_KEEP_HYPHEN = re.compile(r"\b(?:to-do(?:'s|s)?|bye-bye|good-bye|buh-bye)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Normalised:
    text: str   # lower-case, typos fixed, contractions expanded, punctuation dropped
    cased: str  # the same tokens with the writer's case, so extracted values keep it
    tokens: tuple[str, ...]


def _strip_symbols(text: str) -> str:
    return "".join(
        " " if (ch in _DROP_CHARS or unicodedata.category(ch) in _DROP_CATEGORIES) else ch for ch in text
    )


def normalise(raw: str) -> Normalised:
    text = raw.translate(_QUOTES)
    if not text.isascii():
        text = _strip_symbols(unicodedata.normalize("NFKC", text))
    if "-" in text:
        text = _KEEP_HYPHEN.sub(lambda m: m.group(0).lower().replace("-", "\x00"), text)
        text = _HYPHEN.sub(" ", text).replace("\x00", "-")
    cased_tokens = _TOKEN.findall(text)
    low_tokens = " ".join(cased_tokens).lower().split(" ")
    if len(low_tokens) != len(cased_tokens):  # lower() of an exotic letter produced a space
        low_tokens = [t.lower() for t in cased_tokens]
    for i, tok in enumerate(low_tokens):
        fixed = TYPOS.get(tok)
        if fixed is not None:
            low_tokens[i] = fixed
            cased_tokens[i] = fixed
    cased = " ".join(cased_tokens)
    low = " ".join(low_tokens)
    # lower() may change the length of a few exotic letters; spans must line up, so fall back to lower.
    if len(cased) != len(low):
        cased = low
    return Normalised(low, cased, tuple(low.split()))
