"""Account settings (reference 33.1: "edit settings and policies, including delegation limits"): the keys an
account may set, their defaults and how a value is checked. One place defines them; governance changes them
(`bot/governance/settings.py`), and the code that needs one reads it from the account record here, so a value
that is not valid (edited by hand in the database) falls back to the default instead of breaking a turn."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from babel import Locale, UnknownLocaleError

from bot.errors import ThinklioError
from bot.records import AccountRecord

MAX_DELEGATION_DEPTH = 5


@dataclass(frozen=True, slots=True)
class Setting:
    key: str
    summary: str
    default: Any
    parse: Callable[[str], Any]  # the text an admin typed -> the stored value; ValueError says what is wrong


def _depth(text: str) -> int:
    # Reference 21.5: delegation depth defaults to 3, configurable per account.
    if not text.strip().isdigit() or not 0 <= int(text) <= MAX_DELEGATION_DEPTH:
        raise ValueError(f"a whole number from 0 to {MAX_DELEGATION_DEPTH}")
    return int(text)


def _language(text: str) -> str:
    code = text.strip().replace("_", "-")
    try:
        locale = Locale.parse(code, sep="-")
    except (ValueError, UnknownLocaleError):
        raise ValueError("a language code such as en, de or pt-BR") from None
    return "-".join(part for part in (locale.language, locale.territory) if part)


SETTINGS: dict[str, Setting] = {s.key: s for s in (
    Setting("delegation_depth", "how many levels deep an agent may delegate to other agents (0-5)", 3, _depth),
    Setting("default_language", "the language for people who have not chosen one", "en", _language),
)}


def parse(key: str, value: Any) -> Any:
    """The value to store for `key`; `bad_request` naming the keys or the expected value when it is not valid."""
    setting = SETTINGS.get(key.strip().lower())
    if setting is None:
        raise ThinklioError("bad_request", f"Unknown account setting {key!r}; the settings are "
                                           f"{', '.join(SETTINGS)}.")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ThinklioError("bad_request", f"{setting.key} must be {_expected(setting)}.")
    try:
        return setting.parse(str(value))
    except ValueError as exc:
        raise ThinklioError("bad_request", f"{setting.key} must be {exc}; {value!r} is not.") from None


def _expected(setting: Setting) -> str:
    try:
        setting.parse("")
    except ValueError as exc:
        return str(exc)
    return "a value"  # pragma: no cover - every setting refuses an empty value


def effective(account: AccountRecord) -> dict[str, Any]:
    """Every setting of the account: its stored value where it has a valid one, else the default."""
    stored = account.settings or {}
    return dict(_effective(tuple(sorted((key, str(value)) for key, value in stored.items() if key in SETTINGS))))


@functools.lru_cache(maxsize=1024)
def _effective(stored: tuple[tuple[str, str], ...]) -> tuple[tuple[str, Any], ...]:
    # Read on every turn (the language, the delegation depth): parsed once per distinct set of stored values.
    found = dict(stored)
    values: dict[str, Any] = {}
    for key, setting in SETTINGS.items():
        values[key] = setting.default
        if key in found:
            with contextlib.suppress(ValueError):  # a hand-edited bad value: the default instead
                values[key] = setting.parse(found[key])
    return tuple(values.items())


def delegation_depth(account: AccountRecord) -> int:
    return int(effective(account)["delegation_depth"])


def default_language(account: AccountRecord) -> str:
    return str(effective(account)["default_language"])
