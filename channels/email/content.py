"""The new text of a mail: what the person wrote this time, without the quoted thread below it or a signature.

Order of trust: Postmark's `StrippedTextReply` (its own reply parser ran on the whole MIME message); else the
plain text part with quoted history and signatures cut by `mail-parser-reply`; else the HTML part converted by
`html2text` and cut the same way. A mail whose new text is empty after cutting (a bare forward, or a reply
typed below the quote) keeps its whole text: an empty question would be worse than a long one.
"""

from __future__ import annotations

import re

# Languages whose "On ... wrote:" and signature lines are recognised; English is always among them.
REPLY_LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pl", "sv", "da")
# Only the top of a long body goes through the reply parser (see strip_reply): the new text is at the top.
PARSE_LIMIT = 30_000
# html2text reads about a million characters a second: an HTML-only mail is converted up to this size only.
HTML_LIMIT = 500_000
_BLANK_RUN = re.compile(r"\n{3,}")
_TAG = re.compile(r"<[^>]*>")
_QUOTE_LINE = re.compile(r"^[ \t]*>", re.MULTILINE)
_SEPARATOR = re.compile(r"^\s*[-_=]{5,}\s*$")


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
    """`text` without quoted history and signature, its own lines (and their indentation) unchanged.
    Interleaved quoting (`> question` / answer / `> question`) is kept: there the quotes are the context."""
    # The parser's regular expressions cost about 5 µs a character: it reads only the part above the first
    # quoted line (the "On ... wrote:" line is just above it), and never more than PARSE_LIMIT.
    head = text[:PARSE_LIMIT]
    quote = _QUOTE_LINE.search(head)
    if quote is not None and quote.start() > 0:
        head = head[:quote.start()]
    try:
        from mailparser_reply import EmailMessage  # on first use: reading settings loads no mail library

        # keep_hyphen_lists: "- buy milk" is a list, not the start of a signature
        replies = EmailMessage(text=head, languages=list(REPLY_LANGUAGES), keep_hyphen_lists=True).read().replies
    except Exception:  # a regex engine error on odd input: the whole text is a safer answer than none
        return _tidy(text)
    if not replies:
        return _drop_trailing_quote(text)
    reply = replies[0]
    signature = reply.signatures if _plausible_signature(reply.signatures) else ""
    if len(replies) == 1 and not signature and not reply.disclaimers:
        return _drop_trailing_quote(text)  # nothing cut above the quote: the text, less a bottom quote
    body = reply.body if signature or not reply.signatures else reply.full_body
    return _drop_trailing_quote(_original_lines(head, body)) if body else ""


def _plausible_signature(signature: str) -> bool:
    """The parser takes any line starting "Thanks," or "Best regards" as a signature running to the end, so
    "Thanks, one more thing: when is the meeting?" would vanish. A signature is short: a brief first line
    that asks and introduces nothing ("Best regards,", "Thanks, Sam"), a few lines in all."""
    lines = [line.strip().lstrip(">").strip() for line in signature.strip().split("\n") if line.strip()]
    return bool(lines) and len(lines[0]) <= 32 and not any(c in lines[0] for c in "?:") and len(lines) <= 10


def _drop_trailing_quote(text: str) -> str:
    """A quote left at the bottom with no "On ... wrote:" line above it (some clients), and the separator
    line above it: never the new text. Only the tail goes, and never everything."""
    lines = _tidy(text).split("\n")
    end = len(lines)
    while end > 0 and (lines[end - 1].lstrip().startswith(">") or not lines[end - 1].strip()
                       or _SEPARATOR.match(lines[end - 1])):
        end -= 1
    return _tidy("\n".join(lines[:end])) if end else _tidy(text)


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


def html_to_text(html: str) -> str:
    """HTML as readable text (links kept as Markdown, images dropped); tags stripped if html2text fails."""
    try:
        import html2text

        converter = html2text.HTML2Text()
        converter.body_width = 0  # no hard wrapping: the model and the mail client both wrap
        converter.ignore_images = True
        converter.ignore_emphasis = False
        converter.unicode_snob = True
        return _tidy(converter.handle(html[:HTML_LIMIT]))
    except Exception:  # html2text on broken markup (it is an HTMLParser and mostly copes)
        return _tidy(_TAG.sub(" ", html[:HTML_LIMIT]))


def _tidy(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return _BLANK_RUN.sub("\n\n", text).strip()
