"""A busy conversation is not a blocked one: while the model works, commands and direct answers in the same
conversation are answered at once, and free text sent meanwhile is handed to the model together, once; the
channel is asked to show that the model is working for each model turn, until its reply is out."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import select

from agents.llm.base import ChatMessage, ChatResult, ToolSpec, Usage
from bot.messages import InboundMessage, OutboundMessage, Sender
from bot.store import tables as t
from channels.base import BaseChannel
from tests.agents.test_harness import started
from tests.fakes.scripted_provider import ScriptedProvider


class GatedProvider(ScriptedProvider):
    """Answers each call only when the test opens its gate, so a model turn can be held "in progress"."""

    def __init__(self) -> None:
        super().__init__(lambda messages, tools: ChatResult(f"answer {len(self.calls)}", (), Usage(5, 5),
                                                            "scripted-model"))
        self.gates: list[asyncio.Event] = []
        self.called = asyncio.Event()

    async def chat(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = (), **options: Any) -> ChatResult:
        gate = asyncio.Event()
        self.gates.append(gate)
        self.called.set()
        await gate.wait()
        return await super().chat(messages, tools, **options)


def said(text: str) -> InboundMessage:
    return InboundMessage(channel="api", sender=Sender("acc:u1", "Sam"), text=text)


async def test_commands_and_direct_answers_do_not_wait_for_the_model(tmp_path: Path) -> None:
    provider = GatedProvider()
    app = await started(tmp_path, provider)
    pipeline = app.services.pipeline
    try:
        first = await pipeline.accept(said("write me a poem about the sea"))
        await asyncio.wait_for(provider.called.wait(), 5)
        whoami = await asyncio.wait_for(pipeline.handle(said("/whoami")), 2)
        time = await asyncio.wait_for(pipeline.handle(said("what time is it?")), 2)
        assert (whoami.tier, time.tier) == ("command", "triage")
        assert not first.done.done()  # the model is still at work
        second = await pipeline.accept(said("make it rhyme"))
        third = await pipeline.accept(said("and keep it short"))
        await asyncio.sleep(0.05)
        assert len(provider.gates) == 1  # the two waiting messages do not start model turns of their own
        provider.gates[0].set()
        assert (await asyncio.wait_for(first.done, 5)).reply == "answer 1"
        await asyncio.wait_for(_until(lambda: len(provider.gates) == 2), 5)
        provider.gates[1].set()
        two, three = await asyncio.wait_for(asyncio.gather(second.done, third.done), 5)
        assert two.reply == three.reply == "answer 2"
        messages = provider.calls[1][0]
        assert [m.content for m in messages[-2:]] == ["make it rhyme", "and keep it short"]  # one turn, both said
        assert "write me a poem about the sea" in [m.content for m in messages]  # the first turn is history
        rows = await app.services.db.all(select(t.interaction).order_by(t.interaction.c.id))
        by_id = {r.id: r for r in rows}
        assert by_id[second.interaction_id].reply_message_id == by_id[third.interaction_id].reply_message_id
        assert by_id[third.interaction_id].intent == "collected"
        assert all(r.status == "completed" for r in rows)
        texts = [r.text for r in await app.services.db.all(select(t.message.c.text).order_by(t.message.c.id))]
        assert texts[0] == "write me a poem about the sea" and texts[1] == "/whoami"
        assert texts[-3:] == ["and keep it short", "answer 1", "answer 2"]  # stored in the order things happened
    finally:
        for gate in provider.gates:
            gate.set()
        await app.stop()


async def test_other_conversations_are_not_collected(tmp_path: Path) -> None:
    provider = GatedProvider()
    app = await started(tmp_path, provider)
    pipeline = app.services.pipeline
    try:
        mine = await pipeline.accept(said("tell me about whales"))
        theirs = await pipeline.accept(InboundMessage(channel="api", sender=Sender("acc:u2", "Kim"),
                                                      text="tell me about dolphins"))
        await asyncio.wait_for(_until(lambda: len(provider.gates) == 2), 5)  # both run at once
        for gate in provider.gates:
            gate.set()
        assert {(await mine.done).reply, (await theirs.done).reply} == {"answer 1", "answer 2"}
    finally:
        await app.stop()


async def _until(condition: Any) -> None:
    while not condition():
        await asyncio.sleep(0.01)


class Watching(BaseChannel):
    """Records the "working" signal the kernel asks for around what it delivers."""

    type: ClassVar[str] = "http"

    def __init__(self, *, broken: bool = False) -> None:
        self.events: list[str] = []
        self.broken = broken

    def working(self, message: OutboundMessage) -> Callable[[], None] | None:
        self.events.append(f"working {message.interaction_id}")
        if self.broken:
            raise RuntimeError("the platform is down")
        return lambda: self.events.append(f"end {message.interaction_id}")

    async def deliver(self, message: OutboundMessage) -> None:
        self.events.append(f"deliver {message.interaction_id}")


async def test_the_channel_shows_work_for_each_model_turn_until_its_reply_and_never_for_a_direct_one(
        tmp_path: Path) -> None:
    provider = GatedProvider()
    app = await started(tmp_path, provider)
    pipeline = app.services.pipeline
    pipeline.outlets["http"] = channel = Watching()
    try:
        first = await pipeline.accept(said("write me a poem about the sea"))
        await asyncio.wait_for(provider.called.wait(), 5)
        direct = await asyncio.wait_for(pipeline.handle(said("what time is it?")), 2)
        second = await pipeline.accept(said("make it rhyme"))
        third = await pipeline.accept(said("and keep it short"))
        assert channel.events == [f"working {first.interaction_id}", f"deliver {direct.interaction_id}"]
        provider.gates[0].set()
        await asyncio.wait_for(first.done, 5)
        await asyncio.wait_for(_until(lambda: len(provider.gates) == 2), 5)
        provider.gates[1].set()
        await asyncio.wait_for(asyncio.gather(second.done, third.done), 5)
        await pipeline.drain()
        one, two = first.interaction_id, second.interaction_id  # the collected turn goes by its first message
        assert channel.events[2:] == [f"deliver {one}", f"end {one}", f"working {two}", f"deliver {two}",
                                      f"end {two}"]
    finally:
        for gate in provider.gates:
            gate.set()
        await app.stop()


async def test_a_failing_signal_never_touches_the_reply(tmp_path: Path) -> None:
    provider = GatedProvider()
    app = await started(tmp_path, provider)
    pipeline = app.services.pipeline
    pipeline.outlets["http"] = channel = Watching(broken=True)
    try:
        ticket = await pipeline.accept(said("write me a poem about the sea"))
        await asyncio.wait_for(provider.called.wait(), 5)
        provider.gates[0].set()
        assert (await asyncio.wait_for(ticket.done, 5)).reply == "answer 1"
        assert channel.events == [f"working {ticket.interaction_id}", f"deliver {ticket.interaction_id}"]
    finally:
        for gate in provider.gates:
            gate.set()
        await app.stop()
