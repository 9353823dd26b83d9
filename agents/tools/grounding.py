"""Whether a value a model wants to write comes from what the user said.

A write tool names the arguments that must be the user's own words (`@tool(grounded=("task",))`): the text of a
task, a reminder, a fact's value. Before such a call runs, every content word of those arguments must occur in
the user's message(s) of this turn, after light normalising (case, plurals, -ing/-ed, my/your). A model that
invents an item, copies its own tool output or pastes a search result into memory is refused, and nothing is
written. Strict on purpose: a refused paraphrase costs the model one more step; an invented item costs the
user's trust.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_WORD = re.compile(r"[^\W\d_]+|\d+")
# Words that carry no content of their own: they may be added or dropped when the model restates a request.
STOPWORDS = frozenset({
    "a", "an", "the", "and", "or", "but", "of", "to", "for", "in", "on", "at", "by", "with", "from", "into", "onto",
    "off", "about", "as", "is", "are", "was", "be", "been", "it", "its", "this", "that", "these", "those", "my",
    "your", "our", "their", "his", "her", "me", "you", "we", "us", "they", "them", "i", "mine", "yours", "please",
    "s", "t", "re", "ll", "ve", "d", "m", "list", "lists",
})


def _stem(word: str) -> str:
    for suffix, replacement in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: len(word) - len(suffix)] + replacement
    return word


def content_words(text: str) -> list[str]:
    return [_stem(w) for w in _WORD.findall(text.casefold()) if w not in STOPWORDS]


def ungrounded(value: str, said: Iterable[str]) -> list[str]:
    """The content words of `value` that the user did not say (empty: the value is grounded)."""
    heard = {word for text in said for word in content_words(text)}
    missing: list[str] = []
    for word, stem in zip(_WORD.findall(value.casefold()), (_stem(w) for w in _WORD.findall(value.casefold())),
                          strict=True):
        if word not in STOPWORDS and stem not in heard and word not in missing:
            missing.append(word)
    return missing
