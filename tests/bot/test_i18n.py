"""Per-user language (`bot/i18n.py`): the catalogue is complete for every marked reply, a user's language comes
from the channel first and from /language after, and the fixed replies (gates, commands, triage answers,
reminders) come out in it. Driven over the HTTP API; the Slack locale through the real slack_sdk client against
the fake Web API."""

from __future__ import annotations

import re
import string
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from sqlalchemy import select

from bot.governance import Actor
from bot.i18n import LOCALE_DIR, Catalogue, _, long_date, ngettext, normalise
from bot.store import tables as t
from server.app import App

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "agents", "jobs", "knowledge", "channels", "server", "config")
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def _marked() -> set[str | tuple[str, ...]]:
    found: set[str | tuple[str, ...]] = set()
    for package in PACKAGES:
        for _file, _line, message, _comments, _context in extract_from_dir(
                ROOT / package, method_map=[("**.py", "python")], keywords=KEYWORDS):
            found.add(message if isinstance(message, str) else tuple(message))
    return found


def _fields(text: str) -> set[str]:
    return {f"{name}!{conv}" for _lit, name, _spec, conv in string.Formatter().parse(text) if name is not None}


def test_every_marked_reply_is_translated_with_the_same_placeholders() -> None:
    marked = _marked()
    assert len(marked) > 150  # the extraction sees the code (a broken keyword list would find nothing)
    for po in sorted(LOCALE_DIR.glob("*.po")):
        with po.open("rb") as source:
            catalog = read_po(source)
        for message in marked:
            entry = catalog.get(message if isinstance(message, str) else message[0])
            assert entry is not None and not entry.fuzzy, f"{po.name}: no translation of {message!r}"
            ids = [message] if isinstance(message, str) else list(message)
            strs = [entry.string] if isinstance(entry.string, str) else list(entry.string)
            assert all(strs), f"{po.name}: empty translation of {message!r}"
            for translated in strs:
                assert _fields(translated) == _fields(ids[-1]) or _fields(translated) == _fields(ids[0]), \
                    f"{po.name}: placeholders differ in {translated!r}"


def test_catalogue_picks_languages_and_plurals() -> None:
    catalogue = Catalogue()
    assert catalogue.languages == ["en", "es"]
    assert catalogue.supported("es-MX") == "es" and catalogue.supported("ES") == "es"
    assert catalogue.supported("fr") is None and catalogue.supported("not a tag") is None
    assert normalise("pt-br") == "pt_BR" and normalise("") is None
    with catalogue.use("es"):
        assert _("Hi!") == "¡Hola!"
        assert [ngettext("{n} item", "{n} items", n).format(n=n) for n in (1, 2)] == ["1 elemento", "2 elementos"]
        assert long_date(date(2026, 12, 4)) == "viernes, 4 de diciembre de 2026"
    with catalogue.use("fr"):  # no catalogue for it: English
        assert _("Hi!") == "Hi!"
    assert long_date(date(2026, 12, 4)) == "Friday, 4 December 2026"


async def _post(client: TestClient, auth: dict[str, str], text: str, **user: str) -> tuple[int, dict[str, Any]]:
    body = {"text": text, "user": {"id": "u1", "name": "Ana", **user}}
    response = await client.post("/v1/channels/api/messages", json=body, headers=auth)
    return response.status, await response.json()


async def _reply(client: TestClient, auth: dict[str, str], text: str, **user: str) -> str:
    status, body = await _post(client, auth, text, **user)
    assert status == 200, body
    return str(body["reply"])


@pytest.fixture
def spanish(client: TestClient, auth: dict[str, str]):  # type: ignore[no-untyped-def]
    async def say(text: str) -> str:
        return await _reply(client, auth, text, locale="es-ES")

    return say


async def _locale(app: App) -> str | None:
    row = await app.services.db.one(select(t.user_profile.c.locale).where(t.user_profile.c.display_name == "Ana"))
    assert row is not None
    return row.locale


async def test_the_channel_locale_is_the_first_guess(spanish, app: App) -> None:  # type: ignore[no-untyped-def]
    assert (await spanish("what time is it?")).startswith("Son las ")
    assert await _locale(app) == "es_ES"
    help_text = await spanish("/help")
    assert "Comandos (/help COMANDO para uno)" in help_text
    assert "/timezone [Area/City] - ver o cambiar tu zona horaria" in help_text
    assert "Idioma: español" in await spanish("/whoami")


async def test_language_command_sets_and_clears(client: TestClient, auth: dict[str, str], app: App) -> None:
    assert await _reply(client, auth, "/language es") == "Hecho: a partir de ahora responderé en español."
    assert await _locale(app) == "es"
    assert await _reply(client, auth, "thanks!") == "¡De nada!"
    # A locale the channel sends later never overrides the user's own choice.
    assert await _reply(client, auth, "thanks!", locale="en-GB") == "¡De nada!"
    refused = await _reply(client, auth, "/language klingon")
    assert refused.startswith("Todavía no tengo respuestas en 'klingon'") and await _locale(app) == "es"
    assert await _reply(client, auth, "/language auto") == (
        "Done: I'll follow the language your app tells me, English until it does.")
    assert await _locale(app) is None
    assert await _reply(client, auth, "thanks!") == "You're welcome!"


async def test_a_bad_language_tag_is_refused_and_nothing_stored(client: TestClient, auth: dict[str, str],
                                                                app: App) -> None:
    status, body = await _post(client, auth, "hello", id="u9", name="Zed", locale="??")
    assert status == 400 and body["error"]["code"] == "bad_request", body
    assert "locale" in str(body["error"])
    assert await app.services.db.one(select(t.user_profile.c.id).where(t.user_profile.c.display_name == "Zed")) is None


async def test_gates_and_lists_answer_in_spanish(spanish, client: TestClient, auth: dict[str, str],  # type: ignore[no-untyped-def]
                                                 app: App) -> None:
    assert await spanish("add milk to my shopping list") == "He añadido milk a tu lista shopping (1 elemento)."
    assert (await spanish("what's on my shopping list?")).startswith("Tu lista shopping:\n1. milk")
    await app.services.platform.set_status("maintenance", actor="tests")
    status, body = await _post(client, auth, "hello", locale="es")
    assert status == 202 and body["notice"] == ("Thinklio está en mantenimiento. Tu mensaje está guardado y se "
                                                 "responderá cuando termine el mantenimiento.")


def test_no_reply_is_built_before_a_language_is_chosen() -> None:
    """Constants marked with N_ are translated where they are used: no module translates at import time."""
    offenders = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if re.match(r"^[A-Z_]+\s*=\s*_\(", line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}")
    assert not offenders


async def test_the_accounts_default_language_is_for_people_who_chose_none(client: TestClient, auth: dict[str, str],
                                                                         app: App) -> None:
    account = await app.services.directory.account_by_slug("default")
    assert account is not None
    admin = Actor("tests", account.id, "owner")
    await app.services.governance.settings.set(admin, {"default_language": "es"})
    assert await _reply(client, auth, "thanks!") == "¡De nada!"  # no locale of their own
    assert await _reply(client, auth, "/language en") == "Done: I'll answer in English from now on."
    assert await _reply(client, auth, "thanks!") == "You're welcome!"  # their own choice wins
