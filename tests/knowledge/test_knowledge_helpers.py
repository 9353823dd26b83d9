"""Shared set-up for the knowledge tests: an app with two users in the default account and one in another."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agents.llm.base import ChatResult, Usage
from bot.messages import InboundMessage, Outcome, Sender
from config.catalogue import ASSISTANT, AccountSeed, ChannelSeed
from knowledge.service import Knowledge
from server.app import App
from server.settings import CHANNELS
from tests.conftest import make_settings
from tests.fakes.scripted_provider import ScriptedProvider

OTHER = AccountSeed(slug="other", name="Other", agents=(ASSISTANT,))
OTHER_API = ChannelSeed(slug="other-api", type="http", agent="assistant", account="other")


def text(answer: str) -> ChatResult:
    return ChatResult(answer, (), Usage(10, 5), "scripted-model")


async def started(tmp_path: Path, provider: Any = "ok", **overrides: Any) -> App:
    """`provider`: a provider, None for the one the settings name, or the default: a model that answers "ok"."""
    from bot.store.seed import seed_catalogue

    app = App(make_settings(tmp_path / "var", **overrides), channels=CHANNELS.builder(("http",)),
              provider=ScriptedProvider(lambda m, t: text("ok")) if provider == "ok" else provider)
    await app.start()
    await app.services.db.run(lambda conn: seed_catalogue(conn, (OTHER,), app.services.clock.now(),
                                                                  installed_tools=app.kit.assignments,
                                                                  channels=(OTHER_API,)))
    app.services.directory.invalidate()
    return app


def knowledge_of(app: App) -> Knowledge:
    return app.kit.extras["knowledge"]


async def say(app: App, message: str, user: str = "alice", channel: str = "api") -> Outcome:
    return await app.services.pipeline.handle(InboundMessage(channel=channel, sender=Sender(user, user.title()),
                                                             text=message))
