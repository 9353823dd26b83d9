"""The pipeline on its own (`bot/pipeline.py`): built by hand with stand-in routes, over a real store but with no
extension, agent or channel installed. Accept stores the message before anything answers it; the first route
that answers wins; the rest go to the model route; a closed gate answers and no route runs; a redelivery is the
same interaction; a failing route is a failed interaction with a clear reply; bad input changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.errors import ThinklioError
from bot.gates import PAUSED, build_gates
from bot.messages import InboundMessage, Sender
from bot.metrics import Metrics
from bot.pipeline import FAILED, Pipeline
from bot.store import tables as t
from bot.turn import Reply, Turn
from server.app import App
from tests.conftest import make_settings
from tests.fakes.clock import FakeClock
from tests.helpers import count


class Route:
    """A stand-in route: answers the texts it knows, passes on the rest, and records what it saw."""

    def __init__(self, name: str, answers: dict[str, str], *, fails: bool = False) -> None:
        self.name = name
        self.answers = answers
        self.fails = fails
        self.seen: list[str] = []

    async def __call__(self, turn: Turn) -> Reply | None:
        self.seen.append(turn.text)
        if self.fails:
            raise RuntimeError("route broke")
        answer = self.answers.get(turn.text)
        return None if answer is None else Reply(answer, tier=self.name)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[App]:
    """The schema and the seeded channel "api"; the app's own pipeline is not used."""
    app = App(make_settings(tmp_path / "var"), channels=())
    await app.open_store()
    yield app
    await app.close_store()


def pipeline(app: App, *routes: Route, model: Route | None = None) -> Pipeline:
    s = app.services
    built = Pipeline(db=s.db, directory=s.directory, gates=build_gates(s.platform, s.directory), routes=routes,
                     metrics=Metrics(), clock=FakeClock(), settings=s.settings,
                     catalogue=s.catalogue)
    built.model_route = model
    return built


def message(text: str, external_id: str | None = None) -> InboundMessage:
    return InboundMessage("api", Sender("acc:u1", "Sam"), text, external_id=external_id)


async def stored_texts(app: App) -> list[tuple[str, str]]:
    rows = await app.services.db.all(select(t.message.c.direction, t.message.c.text)
                                     .order_by(t.message.c.id))  # ids are time-ordered; the fake clock is not
    return [(row.direction, row.text) for row in rows]


async def test_the_first_route_that_answers_wins_and_the_reply_is_stored(store: App) -> None:
    first, second = Route("one", {"ping": "pong"}), Route("two", {"ping": "never", "time": "noon"})
    model = Route("llm", {})
    p = pipeline(store, first, second, model=model)
    outcome = await p.handle(message("ping"))
    assert (outcome.status, outcome.tier, outcome.reply) == ("completed", "one", "pong")
    assert (first.seen, second.seen, model.seen) == (["ping"], [], [])
    assert (await p.handle(message("time"))).tier == "two"
    assert await stored_texts(store) == [("in", "ping"), ("out", "pong"), ("in", "time"), ("out", "noon")]
    await p.drain()


async def test_what_no_quick_route_answers_goes_to_the_model_route(store: App) -> None:
    quick, model = Route("quick", {}), Route("llm", {"tell me a story": "once upon a time"})
    p = pipeline(store, quick, model=model)
    outcome = await p.handle(message("tell me a story"))
    assert (outcome.tier, outcome.reply) == ("llm", "once upon a time")
    assert quick.seen == model.seen == ["tell me a story"]
    await p.drain()


async def test_a_closed_gate_answers_and_no_route_runs_but_the_message_is_kept(store: App) -> None:
    await store.services.platform.set_status("paused", actor="tests")
    route = Route("quick", {"ping": "pong"})
    p = pipeline(store, route)
    outcome = await p.handle(message("ping"))
    assert (outcome.status, outcome.tier, outcome.error_code, outcome.reply) == (
        "rejected", "gate", "platform_paused", PAUSED)
    assert route.seen == []
    assert await stored_texts(store) == [("in", "ping"), ("out", PAUSED)]
    await p.drain()


async def test_a_redelivered_message_is_the_same_interaction_answered_once(store: App) -> None:
    route = Route("quick", {"ping": "pong"})
    p = pipeline(store, route)
    first = await p.handle(message("ping", external_id="m-1"))
    again = await p.handle(message("ping", external_id="m-1"))
    assert again.interaction_id == first.interaction_id and again.reply == "pong"
    assert route.seen == ["ping"]
    assert await count(store, t.interaction) == 1
    # after a restart (a new pipeline, its memory empty) the store still knows it
    later = pipeline(store, route)
    assert (await later.handle(message("ping", external_id="m-1"))).interaction_id == first.interaction_id
    assert route.seen == ["ping"] and await count(store, t.message) == 2
    await p.drain()
    await later.drain()


async def test_a_failing_route_is_a_failed_interaction_with_a_clear_reply(store: App) -> None:
    p = pipeline(store, Route("broken", {}, fails=True))
    outcome = await p.handle(message("ping"))
    assert (outcome.status, outcome.error_code, outcome.reply) == ("failed", "internal_error", FAILED)
    row = await store.services.db.one(select(t.interaction.c.status))
    assert row is not None and row.status == "failed"
    await p.drain()


@pytest.mark.parametrize(("inbound", "code"), [
    (InboundMessage("nowhere", Sender("acc:u1", "Sam"), "hi"), "not_found"),
    (InboundMessage("api", Sender("acc:u1", "Sam"), "   "), "bad_request"),
    (InboundMessage("api", Sender("acc:u1", "Sam"), "x" * 100_001), "bad_request"),
])
async def test_bad_input_is_refused_and_changes_nothing(store: App, inbound: InboundMessage, code: str) -> None:
    route = Route("quick", {"hi": "hello"})
    p = pipeline(store, route)
    with pytest.raises(ThinklioError) as refused:
        await p.accept(inbound)
    assert refused.value.code == code
    assert route.seen == [] and await count(store, t.message) == 0 and await count(store, t.interaction) == 0
