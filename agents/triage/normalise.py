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
_TOKEN = re.compile(r"[\w@#$%&+/]+(?:['.:\-][\w@#$%&+/]+)*'?")


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
    low_parts: list[str] = []
    cased_parts: list[str] = []
    for tok in _TOKEN.findall(text):
        tok = tok.rstrip("'") if not tok.lower().endswith("s'") else tok[:-1]
        if not tok:
            continue
        low = tok.lower()
        if "-" in low and low not in TYPOS and not low[0].isdigit():
            # "leaving-goodbye", "twenty-one": hyphens join words people would also write apart.
            parts = [p for p in tok.split("-") if p]
            for part in parts[:-1]:
                fixed_part = TYPOS.get(part.lower())
                low_parts.append(fixed_part or part.lower())
                cased_parts.append(fixed_part or part)
            if not parts:
                continue
            tok = parts[-1]
            low = tok.lower()
        fixed = TYPOS.get(low)
        if fixed is not None:
            low_parts.append(fixed)
            cased_parts.append(fixed)
        else:
            low_parts.append(low)
            cased_parts.append(tok)
    low_text = " ".join(low_parts)
    cased_text = " ".join(cased_parts)
    # lower() may change the length of a few exotic letters; spans must line up, so fall back to lower.
    if len(cased_text) != len(low_text):
        cased_text = low_text
    return Normalised(low_text, cased_text, tuple(low_text.split()))
