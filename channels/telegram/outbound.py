"""Reply text -> Telegram messages: split at the 4,096 limit, sent as plain text.

Plain text (no parse_mode) is the one format in which no reply can fail on markup: the model's `*`, `_`, `[`,
`<` and `&` reach the user exactly as written.
"""

from __future__ import annotations

LIMIT = 4096  # Telegram counts UTF-16 code units, so an emoji takes two


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = LIMIT) -> list[str]:
    """Chunks of at most `limit` UTF-16 units, cut at the last paragraph break that fits, else the last line
    break, else the last space, else anywhere."""
    chunks: list[str] = []
    rest = text.strip()
    while rest:
        if utf16_len(rest) <= limit:
            chunks.append(rest)
            break
        fits = _fitting_prefix(rest, limit)
        head, rest = _cut(rest, fits)
        if head:
            chunks.append(head)
    return chunks


def _fitting_prefix(text: str, limit: int) -> int:
    """How many code points of `text` fit in `limit` UTF-16 units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def _cut(text: str, fits: int) -> tuple[str, str]:
    window = text[:fits]
    for separator in ("\n\n", "\n", " "):
        at = window.rfind(separator)
        if at > 0:
            return window[:at].rstrip(), text[at + len(separator):].lstrip("\n")
    return window, text[fits:]
