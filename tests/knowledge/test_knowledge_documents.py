"""Documents over HTTP: chunked, embedded, searchable in scope; bad files are refused and store nothing."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from pypdf import PdfWriter

from knowledge import tables as kt
from knowledge.documents import chunk_markdown, chunk_text
from knowledge.facts import Scopes
from knowledge.index import Partition
from server.app import App
from tests.helpers import count
from tests.knowledge.test_knowledge_helpers import knowledge_of, say, started

URL = "/v1/knowledge/documents"


async def setup(tmp_path: Path, aiohttp_client: Any, **overrides: Any) -> tuple[App, TestClient, dict[str, str], str]:
    app = await started(tmp_path, **overrides)
    client = await aiohttp_client(app.web)
    account = await app.services.directory.account_by_slug("default")
    assert account is not None
    _, key = await app.services.api_keys.create(account.id, "docs", ("messages:write", "admin"), actor="tests")
    await say(app, "hello", user="alice")
    await say(app, "hello", user="bob")
    alice = await app.services.directory.identify("http", _sender("alice"), account.id)
    return app, client, {"Authorization": f"Bearer {key}"}, alice.id


def _sender(name: str) -> Any:
    from bot.messages import Sender

    return Sender(name, name.title())


async def scopes_of(app: App, user: str) -> Scopes:
    account = await app.services.directory.account_by_slug("default")
    assert account is not None
    record = await app.services.directory.identify("http", _sender(user), account.id)
    return Scopes(account.id, (Partition(account.id, "user", record.id),))


def blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


async def test_a_2mb_document_is_chunked_and_searchable_by_its_owner_only(tmp_path: Path, aiohttp_client: Any) -> None:
    app, client, auth, alice = await setup(tmp_path, aiohttp_client)
    paragraphs = [f"Section {i}: the boiler in flat {i} is serviced every {i % 12 + 1} months by Acme Heating, "
                  f"whose engineer parks in bay {i % 40}. " * 4 for i in range(60)]
    body = ("\n\n".join(paragraphs * 200)).encode()[: 2 * 1024 * 1024]
    assert len(body) == 2 * 1024 * 1024
    response = await client.post(f"{URL}?user={alice}&title=flats.txt", data=body,
                                 headers={**auth, "Content-Type": "text/plain"})
    assert response.status == 201, await response.text()
    document = (await response.json())["document"]
    assert document["size_bytes"] == len(body) and document["chunks"] > 2000
    knowledge = knowledge_of(app)
    await knowledge.drain()
    assert await count(app, kt.knowledge_chunk, kt.knowledge_chunk.c.index_state == "indexed") == document["chunks"]
    hits = await knowledge.search(await scopes_of(app, "alice"), "who services the boiler", limit=3)
    assert hits and hits[0].kind == "chunk" and "Acme Heating" in hits[0].text and hits[0].title == "flats.txt"
    assert await knowledge.search(await scopes_of(app, "bob"), "who services the boiler", limit=3) == []
    assert "flats.txt" in ((await say(app, "/knowledge", user="alice")).reply or "")
    assert "flats.txt" not in ((await say(app, "/knowledge", user="bob")).reply or "")


async def test_markdown_and_pdf_errors(tmp_path: Path, aiohttp_client: Any) -> None:
    app, client, auth, alice = await setup(tmp_path, aiohttp_client, knowledge_max_document_bytes=4096)
    cases = [
        (blank_pdf(), "application/pdf", 400, "no extractable text"),
        (b"%PDF-1.7\n this is not really a pdf \x00\x01", "application/pdf", 400, "not a readable PDF"),
        (b"", "text/plain", 400, "empty"),
        (b"x" * 5000, "text/plain", 413, "larger than 4096"),
        (b"hello", "image/png", 415, "unsupported Content-Type"),
    ]
    for body, media_type, status, message in cases:
        response = await client.post(f"{URL}?user={alice}", data=body, headers={**auth, "Content-Type": media_type})
        assert response.status == status, (media_type, await response.text())
        error = (await response.json())["error"]
        assert message in error["message"], error
    assert await count(app, kt.knowledge_document) == 0 and await count(app, kt.knowledge_chunk) == 0
    response = await client.post(f"{URL}?user={alice}", data=b"hi", headers={"Content-Type": "text/plain"})
    assert response.status == 401
    markdown = b"# Garden\n\nThe shed key is under the blue pot.\n\n## Tools\n\nThe spade is in the shed."
    response = await client.post(f"{URL}?scope=account&title=garden.md", data=markdown,
                                 headers={**auth, "Content-Type": "text/markdown"})
    assert response.status == 201, await response.text()
    await knowledge_of(app).drain()
    account = await app.services.directory.account_by_slug("default")
    assert account is not None
    both = Scopes(account.id, ((await scopes_of(app, "bob")).partitions[0],
                               Partition(account.id, "account", account.id)))
    hits = await knowledge_of(app).search(both, "where is the shed key", limit=1)
    assert hits and hits[0].text.startswith("Garden: The shed key")


def test_chunking() -> None:
    text = "\n\n".join(["word " * 50] * 10)
    chunks = chunk_text(text, size=600)
    assert all(len(c) <= 600 for c in chunks) and len(chunks) == 5
    long = chunk_text("a " * 1000, size=300)
    assert all(len(c) <= 300 for c in long) and len(long) > 6
    md = chunk_markdown("intro\n\n# A\n\ntext a\n\n## B\n\ntext b", size=300)
    assert md == ["intro", "A: text a", "A > B: text b"]
