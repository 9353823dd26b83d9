"""Decoding both parsers share: text in a declared (or lying) charset, strict base64, and file names that are
safe to show and store. Pure functions, no I/O."""

from __future__ import annotations

import base64
import binascii
import re


def decode_text(data: bytes, charset: str) -> str:
    """Bytes in a declared charset; an unknown or lying charset falls back to UTF-8, then Latin-1."""
    for candidate, errors in ((charset, "strict"), ("utf-8", "strict"), (charset, "replace")):
        try:
            return data.decode(candidate, errors)
        except (LookupError, UnicodeError, ValueError):
            continue
    return data.decode("latin-1")


def decode_base64(value: str) -> bytes:
    """Strict base64 (whitespace and missing padding forgiven): Postmark's documented placeholder
    `[BASE64-ENCODED CONTENT]` must come out as an error, not as a few garbage bytes."""
    compact = "".join(value.split())
    if len(compact) % 4 in (2, 3):
        compact += "=" * (4 - len(compact) % 4)
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError("invalid base64") from error


def safe_filename(name: str) -> str | None:
    """A file name with no directory part or control characters (mail is written by strangers)."""
    base = re.split(r"[\\/]", name.strip())[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip().lstrip(".")
    return base[:200] or None
