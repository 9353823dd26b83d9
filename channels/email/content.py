"""The new text of a mail: what the person wrote this time, without the quoted thread below it or a signature.

Order of trust: Postmark's `StrippedTextReply` (its own reply parser ran on the whole MIME message); else the
plain text part with quoted history and signatures cut by `mail-parser-reply`; else the HTML part converted by
`html2text` and cut the same way. A mail whose new text is empty after cutting (a bare forward, or a reply
typed below the quote) keeps its whole text: an empty question would be worse than a long one.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

# Languages whose "On ... wrote:" and signature lines are recognised; English is always among them.
REPLY_LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pl", "sv", "da")
# Only the top of a long body goes through the reply parser: the new text is at the top, and its regular
# expressions are slow on megabytes of quoted thread or pasted logs.
PARSE_LIMIT = 100_000
_BLANK_RUN = re.compile(r"\n{3,}")
_TAG = re.compile(r"<[^>]*>")


def new_text(*, text: str | None, html: str | None = None, stripped: str | None = None, strip: bool = True) -> str:
    """The new text of a mail from its parts (any may be missing or empty). `strip=False` converts only."""
    if strip and stripped and stripped.strip():
        return _tidy(stripped)
    body = _tidy(text or "")
    if not body and html and html.strip():
        body = html_to_text(html)
    if not strip or not body:
        return body
    return strip_reply(body) or body


def strip_reply(text: str) -> str:
    """`text` without quoted history and signature, its own lines (and their indentation) unchanged."""
    head, tail = text[:PARSE_LIMIT], text[PARSE_LIMIT:]
    try:
        reply = _parser().read(head).replies
    except Exception:  # a regex engine error on odd input: the whole text is a safer answer than none
        return text
    if not reply:
        return text
    body = reply[0].body
    if not body:
        return ""
    cut = _original_lines(head, body)
    if len(reply) == 1 and not reply[0].signatures and not reply[0].disclaimers:
        return _tidy(head + tail)  # nothing was cut: keep the part beyond the parsing limit too
    return cut


def _original_lines(original: str, body: str) -> str:
    """The parser strips every line; find its lines in the original so indentation (code, lists) survives."""
    lines = original.replace("\r\n", "\n").split("\n")
    stripped = [line.strip() for line in lines]
    wanted = body.split("\n")
    size = len(wanted)
    for start in range(len(stripped) - size + 1):
        if stripped[start] == wanted[0] and stripped[start:start + size] == wanted:
            return _tidy("\n".join(lines[start:start + size]))
    return _tidy(body)


@lru_cache(maxsize=1)
def _parser() -> Any:
    from mailparser_reply import EmailReplyParser  # imported on first use: reading settings loads no mail library

    return EmailReplyParser(languages=list(REPLY_LANGUAGES))


def html_to_text(html: str) -> str:
    """HTML as readable text (links kept as Markdown, images dropped); tags stripped if html2text fails."""
    try:
        import html2text

        converter = html2text.HTML2Text()
        converter.body_width = 0  # no hard wrapping: the model and the mail client both wrap
        converter.ignore_images = True
        converter.ignore_emphasis = False
        converter.unicode_snob = True
        return _tidy(converter.handle(html))
    except Exception:  # html2text on broken markup (it is an HTMLParser and mostly copes)
        return _tidy(_TAG.sub(" ", html))


def _tidy(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return _BLANK_RUN.sub("\n\n", text).strip()
