"""Every error path of the HTTP API answers with the envelope and the right status, and leaves nothing behind."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from config.settings import Settings
from server.app import App
from tests.conftest import make_settings
from tests.helpers import post, row_counts

URL = "/v1/channels/api/messages"
GOOD = {"text": "hi", "user": {"id": "u1"}}


async def _expect(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status == status, await response.text()
    body = await response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({}, "missing"),
        ({"Authorization": "Bearer thk_not-a-real-key"}, "unknown"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "wrong scheme"),
        ({"Authorization": "Bearer sk-something"}, "not a thinklio key"),
    ],
)
async def test_bad_keys_are_401(client: TestClient, app: App, headers: dict[str, str], why: str) -> None:
    before = await row_counts(app)
    await _expect(await client.post(URL, json=GOOD, headers=headers), 401, "unauthenticated")
    assert await row_counts(app) == before


async def test_revoked_key_stops_working_at_once(client: TestClient, app: App, auth: dict[str, str]) -> None:
    status, _ = await post(client, auth, "hi")
    assert status == 200
    key = (await app.services.api_keys.list())[0]
    await app.services.api_keys.revoke(key.prefix, actor="tests")
    await _expect(await client.post(URL, json=GOOD, headers=auth), 401, "unauthenticated")


async def test_missing_scope_is_403(client: TestClient, app: App) -> None:
    account = await app.services.directory.account_by_slug("default")
    assert account is not None
    _, reader = await app.services.api_keys.create(account.id, "reader", ("messages:read",), actor="tests")
    before = await row_counts(app)
    response = await client.post(URL, json=GOOD, headers={"Authorization": f"Bearer {reader}"})
    await _expect(response, 403, "forbidden")
    assert await row_counts(app) == before


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[]", "invalid request"),
        (b'{"user": {"id": "u1"}}', "text"),
        (b'{"text": "hi"}', "user"),
        (b'{"text": "", "user": {"id": "u1"}}', "text"),
        (b'{"text": "   ", "user": {"id": "u1"}}', "no text"),
        (b'{"text": 5, "user": {"id": "u1"}}', "text"),
        (b'{"text": "hi", "user": {"id": ""}}', "user.id"),
        (b'{"text": "hi", "user": {"id": "u1"}, "extra": 1}', "extra"),
        (b'{"text": "hi", "user": {"id": "u1"}, "message_id": ""}', "message_id"),
    ],
)
async def test_malformed_bodies_are_400(
    client: TestClient, app: App, auth: dict[str, str], body: bytes, fragment: str
) -> None:
    before = await row_counts(app)
    response = await client.post(URL, data=body, headers={**auth, "Content-Type": "application/json"})
    error = await _expect(response, 400, "bad_request")
    assert fragment in error["error"]["message"]
    assert await row_counts(app) == before


async def test_body_over_the_limit_is_413(client: TestClient, app: App, auth: dict[str, str]) -> None:
    before = await row_counts(app)
    huge = {"text": "x" * (app.services.settings.max_body_bytes + 10), "user": {"id": "u1"}}
    await _expect(await client.post(URL, json=huge, headers=auth), 413, "bad_request")
    assert await row_counts(app) == before


async def test_message_over_the_character_limit_is_400(
    client: TestClient, app: App, auth: dict[str, str]
) -> None:
    app.services.settings.max_message_chars = 10
    before = await row_counts(app)
    status, body = await post(client, auth, "this is longer than ten characters")
    assert status == 400
    assert body["error"]["code"] == "bad_request"
    assert await row_counts(app) == before


async def test_unknown_channel_and_route_are_404(client: TestClient, app: App, auth: dict[str, str]) -> None:
    before = await row_counts(app)
    await _expect(await client.post("/v1/channels/nope/messages", json=GOOD, headers=auth), 404, "not_found")
    # the console channel exists but is not an HTTP channel
    await _expect(await client.post("/v1/channels/console/messages", json=GOOD, headers=auth), 404,
                  "not_found")
    await _expect(await client.get("/v1/nothing-here"), 404, "not_found")
    await _expect(await client.get("/v1/interactions/ix_missing", headers=auth), 404, "not_found")
    await _expect(await client.get("/v1/conversations/cnv_missing/messages", headers=auth), 404, "not_found")
    assert await row_counts(app) == before


async def test_wrong_method_is_an_error_envelope(client: TestClient) -> None:
    await _expect(await client.get(URL), 405, "bad_request")


async def test_another_accounts_data_is_not_found(client: TestClient, app: App, auth: dict[str, str]) -> None:
    _, body = await post(client, auth, "hi")

    def other_account(conn: Any) -> None:
        from bot.store import tables as t

        now = app.services.clock.now()
        conn.execute(t.account.insert().values(id="acc_other", slug="other", name="Other",
                                                     status="active", created_at=now))

    await app.services.db.run(other_account)
    _, other_key = await app.services.api_keys.create("acc_other", "other", actor="tests")
    other = {"Authorization": f"Bearer {other_key}"}
    await _expect(await client.get(f"/v1/interactions/{body['interaction_id']}", headers=other), 404, "not_found")
    await _expect(await client.get(f"/v1/conversations/{body['conversation_id']}/messages", headers=other), 404,
                  "not_found")
    await _expect(await client.post(URL, json=GOOD, headers=other), 404, "not_found")


async def test_bad_pagination_parameters_are_400(client: TestClient, auth: dict[str, str]) -> None:
    _, body = await post(client, auth, "hi")
    url = f"/v1/conversations/{body['conversation_id']}/messages"
    await _expect(await client.get(url, params={"limit": "abc"}, headers=auth), 400, "bad_request")
    await _expect(await client.get(url, params={"limit": "0"}, headers=auth), 400, "bad_request")


async def test_rate_limit_is_429_and_stores_nothing(
    aiohttp_client: Any, tmp_path: Any, make_app: Any
) -> None:
    settings: Settings = make_settings(tmp_path / "var", rate_limit_per_minute=1, rate_limit_burst=2)
    app = make_app(settings)
    client = await aiohttp_client(app.web)
    account = await app.services.directory.account_by_slug("default")
    _, key = await app.services.api_keys.create(account.id, "k", actor="tests")
    auth = {"Authorization": f"Bearer {key}"}
    assert (await post(client, auth, "hi"))[0] == 200
    assert (await post(client, auth, "hi again"))[0] == 200
    before = await row_counts(app)
    response = await client.post(URL, json={"text": "and again", "user": {"id": "u1"}}, headers=auth)
    await _expect(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) >= 1
    assert await row_counts(app) == before
    # another user is not limited by the first one's traffic
    assert (await post(client, auth, "hi", user="u2"))[0] == 200


async def test_unexpected_failure_is_500_envelope(
    client: TestClient, app: App, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(app.services.pipeline, "accept", broken)
    body = await _expect(await client.post(URL, json=GOOD, headers=auth), 500, "internal_error")
    assert "boom" not in body["error"]["message"]  # internals are logged, not shown
