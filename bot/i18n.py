"""Fixed replies in the user's language: one message catalogue (gettext `.po` files under `bot/locale/`, read
with babel), English as the source language.

Code marks a reply with `_("...")` where it is built (or `N_("...")` for a module constant, translated with `_()`
where it is used) and formats placeholders after translating: `_("It's {time}.").format(time=...)`. The
language of the turn being handled is a context variable the pipeline sets (`Catalogue.use`), so a reply built
anywhere under that turn comes out in the user's language without passing it down every call.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
SOURCE_LANGUAGE = "en"


@dataclass(frozen=True, slots=True)
class Language:
    code: str  # "en", "es"
    translations: gettext.NullTranslations = field(default_factory=gettext.NullTranslations)


_ENGLISH = Language(SOURCE_LANGUAGE)
_active: ContextVar[Language] = ContextVar("thinklio_language", default=_ENGLISH)


def N_(text: str) -> str:
    """Marks a constant for the catalogue; it is translated where it is used, with `_()`."""
    return text


def _(text: str) -> str:
    """`text` in the language of the turn being handled."""
    return _active.get().translations.gettext(text)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural form, by the active language's plural rule."""
    return _active.get().translations.ngettext(singular, plural, count)


def language() -> str:
    """The code of the active language."""
    return _active.get().code


def long_date(day: date | datetime) -> str:
    """"Friday, 4 December 2026" in the active language (the pattern is the catalogue's, in CLDR notation)."""
    return format_date(day, format=_("EEEE, d MMMM y"), locale=language())


def normalise(code: str | None) -> str | None:
    """A language tag as people and channels send it ("pt-BR", "es_ES", "ES") as babel's code, or None when it
    names no known language."""
    if not code or not code.strip():
        return None
    try:
        locale = Locale.parse(code.strip().replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return None
    return str(locale)


def language_name(code: str) -> str:
    """The language's own name for itself ("español"); the code when babel does not know it."""
    try:
        return Locale.parse(code).get_display_name(code) or code
    except (UnknownLocaleError, ValueError, TypeError):
        return code


class Catalogue:
    """The translations on disk, loaded once at start-up."""

    def __init__(self, folder: Path = LOCALE_DIR) -> None:
        self._languages: dict[str, Language] = {SOURCE_LANGUAGE: _ENGLISH}
        for path in sorted(folder.glob("*.po")):
            self._languages[path.stem] = Language(path.stem, _compiled(path))

    @property
    def languages(self) -> list[str]:
        return sorted(self._languages)

    def supported(self, code: str | None) -> str | None:
        """The catalogue language for a locale ("es_MX" -> "es"), or None when there is none for it."""
        normal = normalise(code)
        if normal is None:
            return None
        if normal in self._languages:
            return normal
        base = normal.split("_")[0]
        return base if base in self._languages else None

    def language(self, code: str | None) -> Language:
        return self._languages.get(self.supported(code) or SOURCE_LANGUAGE, self._languages[SOURCE_LANGUAGE])

    @contextmanager
    def use(self, code: str | None) -> Iterator[Language]:
        """Replies built inside come out in `code`'s language (English when there is no catalogue for it)."""
        chosen = self.language(code)
        token = _active.set(chosen)
        try:
            yield chosen
        finally:
            _active.reset(token)

    def activate(self, code: str | None) -> None:
        """Set the language for the rest of the current task (a turn's own task), with no way back."""
        _active.set(self.language(code))


def _compiled(path: Path) -> gettext.GNUTranslations:
    with path.open("rb") as source:
        catalog = read_po(source, locale=path.stem)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)
