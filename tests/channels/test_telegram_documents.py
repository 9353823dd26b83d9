"""Documents sent to the Telegram bot: fetched from the (fake) Bot API, read into the sender's knowledge, and
every file that cannot be read answered with the reason and nothing stored."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.ids import new_id
from bot.messages import Attachment, Sender
from bot.store import tables as t
from bot.store.batch import Insert
from channels.telegram.channel import TelegramChannel
from knowledge import tables as kt
from knowledge.facts import Scopes
from knowledge.index import Partition
from server.app import App
from server.settings import CHANNELS
from tests.channels.test_telegram_webhook import GROUP, Bot
from tests.conftest import make_settings
from tests.fakes.fake_telegram import (
    BOT_USERNAME,
    USER,
    FakeTelegram,
    fake_telegram,  # noqa: F401  (a fixture)
    mention_entity,
    message_update,
    telegram_overrides,
    wait_for,
)
from tests.helpers import count

NOTES = b"Locker code for the gym is 4417.\n\nThe spare key is under the blue flower pot."
LIMIT = 64 * 1024


@pytest.fixture
async def tg(tmp_path: Path, fake_telegram: FakeTelegram, aiohttp_client: Any) -> AsyncIterator[Bot]:  # noqa: F811
    settings = make_settings(tmp_path / "var", knowledge_max_document_bytes=LIMIT, **telegram_overrides(fake_telegram))
    app = App(settings, channels=CHANNELS.builder(("http", "telegram")))
    client = await aiohttp_client(app.web)
    channel = next(c for c in app.services.channels if isinstance(c, TelegramChannel))
    yield Bot(app, client, channel, fake_telegram)


async def documents(app: App) -> list[tuple[str, int, str]]:
    rows = await app.services.db.all(select(kt.knowledge_document).where(kt.knowledge_document.c.archived == 0))
    return [(r.title, r.chunks, r.scope) for r in rows]


async def search(app: App, query: str) -> list[str]:
    account = await app.services.directory.account_by_slug("default")
    assert account is not None
    user = await app.services.directory.identify("telegram", Sender(str(USER["id"])), account.id)
    knowledge = app.kit.extras["knowledge"]
    await knowledge.drain()
    hits = await knowledge.search(Scopes(account.id, (Partition(account.id, "user", user.id),)), query)
    return [hit.text for hit in hits]


def pdf(text: str | None) -> bytes:
    """A one-page PDF, with `text` on it or blank (pypdf writes it; no file from outside)."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(width=300, height=200)
    if text is not None:
        font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                                 NameObject("/BaseFont"): NameObject("/Helvetica")})
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject(
            {NameObject("/F1"): writer._add_object(font)})})
        stream = DecodedStreamObject()
        stream.set_data(f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode())
        page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


async def test_a_document_is_read_into_the_senders_knowledge(tg: Bot) -> None:
    document = tg.fake.add_file(NOTES, name="home notes.txt")
    await tg.post(message_update(document=document))
    [reply] = await tg.replies(1)
    assert reply.startswith("I've read 'home notes.txt': 1 part.")
    assert await documents(tg.app) == [("home notes.txt", 1, "user")]
    assert any("4417" in text for text in await search(tg.app, "what is the gym locker code"))
    step = await tg.app.services.db.one(select(t.step).where(t.step.c.kind == "document"))
    assert step.status == "ok" and step.detail["parts"] == 1


async def test_pdf_by_name_when_the_phone_says_octet_stream_and_a_resend_replaces_it(tg: Bot) -> None:
    first = tg.fake.add_file(pdf("Invoice total 1234 euros"), name="Invoice.PDF", mime_type="application/octet-stream")
    await tg.post(message_update(document=first))
    await tg.replies(1)
    again = tg.fake.add_file(pdf("Invoice total 999 euros"), name="Invoice.PDF", mime_type=None)
    await tg.post(message_update(document=again))
    replies = await tg.replies(2)
    assert "replaces the copy you sent before" in replies[1]
    assert await documents(tg.app) == [("Invoice.PDF", 1, "user")]
    assert any("999" in text for text in await search(tg.app, "invoice total"))
    assert not any("1234" in text for text in await search(tg.app, "invoice total"))


@pytest.mark.parametrize(("data", "name", "mime", "size", "reason", "downloaded"), [
    (b"PK\x03\x04 not really", "plan.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
     None, "I can read text (.txt), Markdown (.md) and PDF files", False),
    (b"x" * 100, "huge.txt", "text/plain", 50 * 1024 * 1024, "larger than the 64 KB I accept", False),
    (b"y" * (LIMIT + 10), "liar.txt", "text/plain", 1000, "larger than the", True),  # the size it declared was wrong
    (b"%PDF-1.4 garbage that is not a pdf", "broken.pdf", "application/pdf", None, "not a readable PDF", True),
    (pdf(None), "scan.pdf", "application/pdf", None, "no extractable text", True),
    (b"", "empty.md", "text/markdown", None, "the document is empty", True),
    (b"\xff\xfe\x00bad", "latin.txt", "text/plain", None, "must be UTF-8", True),
])
async def test_unreadable_files_get_the_reason_and_store_nothing(tg: Bot, data: bytes, name: str, mime: str,
                                                                 size: int | None, reason: str,
                                                                 downloaded: bool) -> None:
    await tg.post(message_update(document=tg.fake.add_file(data, name=name, mime_type=mime, size=size)))
    [reply] = await tg.replies(1)
    assert reply.startswith(f"I couldn't read '{name}': ") and reason in reply
    assert await documents(tg.app) == [] and await count(tg.app, kt.knowledge_chunk) == 0
    assert bool(tg.fake.downloads) is downloaded
    interaction = await tg.app.services.db.one(select(t.interaction))
    assert (interaction.status, interaction.error_code) == ("completed", "bad_attachment")


async def test_a_failed_download_asks_to_send_it_again(tg: Bot) -> None:
    tg.fake.fail("getFile", 500, times=5)
    await tg.post(message_update(document=tg.fake.add_file(NOTES, name="notes.txt")))
    [reply] = await tg.replies(1)
    assert reply == "I couldn't download 'notes.txt'; please send it again."
    assert await documents(tg.app) == []


async def test_a_caption_is_answered_after_the_document_is_indexed(tg: Bot) -> None:
    document = tg.fake.add_file(NOTES, name="notes.txt")
    await tg.post(message_update(caption="what time is it", document=document))
    [reply] = await tg.replies(1)
    assert "I've read" not in reply and ":" in reply  # triage's time answer
    chunk = await tg.app.services.db.one(select(kt.knowledge_chunk))
    assert chunk.index_state == "indexed"  # before the caption was answered


async def test_redelivery_reads_once_and_groups_need_the_bot_addressed(tg: Bot) -> None:
    update = message_update(document=tg.fake.add_file(NOTES, name="notes.txt"))
    await tg.post(update)
    await tg.post(update)
    await tg.replies(1)
    await tg.settled()
    assert len(tg.fake.sent()) == 1 and await documents(tg.app) == [("notes.txt", 1, "user")]
    await tg.post(message_update(chat_id=GROUP, chat_type="supergroup",
                                 document=tg.fake.add_file(b"group file", name="group.txt")))
    caption = f"@{BOT_USERNAME} keep this"
    await tg.post(message_update(chat_id=GROUP, chat_type="supergroup", caption=caption,
                                 caption_entities=mention_entity(caption, f"@{BOT_USERNAME}"),
                                 document=tg.fake.add_file(b"addressed file", name="addressed.txt")))
    await wait_for(lambda: len(tg.fake.sent(GROUP)) == 1, message="the group answer")
    await tg.settled()
    assert sorted(title for title, _, _ in await documents(tg.app)) == ["addressed.txt", "notes.txt"]


async def test_a_document_left_unread_by_a_crash_is_read_after_the_restart(
        tmp_path: Path, fake_telegram: FakeTelegram) -> None:  # noqa: F811
    settings = make_settings(tmp_path / "var", **telegram_overrides(fake_telegram, mode="polling"))
    crashed = App(settings, channels=CHANNELS.builder(("telegram",)))
    await crashed.open_store()
    directory = crashed.services.directory
    channel = await directory.channel("telegram")
    assert channel is not None
    user = await directory.identify("telegram", Sender(str(USER["id"]), "Ada"), channel.account_id)
    conversation = await directory.conversation(channel, user, str(USER["id"]))
    document = fake_telegram.add_file(NOTES, name="notes.txt")
    attachment = Attachment(document["file_id"], "notes.txt", "text/plain", len(NOTES))
    now = crashed.services.clock.now()
    message_id = new_id("msg")
    await crashed.services.db.write([
        Insert(t.message, {"id": message_id, "conversation_id": conversation.id, "channel_id": channel.id,
                           "external_id": "4242:77", "direction": "in", "user_id": user.id, "text": "",
                           "attachments": [attachment.to_json()], "created_at": now}),
        Insert(t.interaction, {"id": new_id("ix"), "account_id": channel.account_id, "agent_id": channel.agent_id,
                               "user_id": user.id, "conversation_id": conversation.id, "channel_id": channel.id,
                               "inbound_message_id": message_id, "status": "received", "cost_usd": 0.0,
                               "created_at": now}),
    ])
    await crashed.services.db.close()  # as if the process died before the turn ran

    restarted = App(settings, channels=CHANNELS.builder(("telegram",)))
    await restarted.start()
    try:
        await wait_for(lambda: len(fake_telegram.texts()) == 1, message="the reply after the restart")
        assert fake_telegram.texts()[0].startswith("I've read 'notes.txt'")
        assert await documents(restarted) == [("notes.txt", 1, "user")]
    finally:
        await restarted.stop()
