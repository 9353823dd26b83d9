"""Shared fixtures: a fresh app on a temporary data dir, a test client, and API keys."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.ids import new_id
from config.settings import Settings
from server.app import App
from server.settings import CHANNELS, ServerSettings
from tests.fakes import postgres
from tests.fakes.fake_openai import fake_openai  # noqa: F401  (a fixture)

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
MODEL_CACHE = REPO / "var" / "models"  # a content-named cache, shared with `make run`


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "rate_limit_per_minute": 100_000,
        "rate_limit_burst": 100_000,
        "state_poll_seconds": 0.05,
        "reply_wait_seconds": 5.0,
        "log_level": "warning",
        "llm_provider": "none",  # tests that want a model bring the fake server or ask for the local one
        "knowledge_extract_with_model": "off",  # else every scripted model answers an extra call after a turn
        "model_cache_dir": MODEL_CACHE,  # one ONNX export for the whole run, not one per test
    }
    values.update(overrides)
    return ServerSettings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "var")


@pytest.fixture
def make_app() -> Callable[..., App]:
    def build(settings: Settings, channels: tuple[str, ...] = ("http",)) -> App:
        return App(settings, channels=CHANNELS.builder(channels))

    return build


@pytest.fixture
async def app(settings: Settings, make_app: Callable[..., App]) -> App:
    return make_app(settings)


@pytest.fixture
async def client(aiohttp_client: Any, app: App) -> AsyncIterator[TestClient]:
    yield await aiohttp_client(app.web)


@pytest.fixture
async def api_key(client: TestClient, app: App) -> str:
    account = await app.services.directory.account_by_slug("default")
    assert account is not None
    _, plaintext = await app.services.api_keys.create(account.id, "tests", actor="tests")
    return plaintext


@pytest.fixture
def auth(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """One PostgreSQL server for the run (tests that use it are marked `postgres.required()`)."""
    with postgres.postgres_server() as url:
        yield url


@pytest.fixture
async def database_url(postgres_server: str) -> str:
    """A fresh, empty database on that server for each test."""
    import asyncpg

    name = f"t_{new_id('db').split('_')[1][-12:].lower()}"
    conn = await asyncpg.connect(postgres_server.replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return postgres_server.rsplit("/", 1)[0] + f"/{name}"
