"""Open requests through the whole harness, measured: time to first token, total time, steps, on topic or not,
and whether any user's tasks, reminders or facts changed.

    python tests/bench/harness_quality.py                 # the embedded model, no configuration
    python tests/bench/harness_quality.py --tool-probe    # does the embedded model use a read tool correctly?
    python tests/bench/harness_quality.py --fake          # the tool paths, against the fake OpenAI server
    python tests/bench/harness_quality.py --show-prompts  # print what the model was sent

Each request runs through the pipeline as a user's message would (triage first; these are all for the model),
in one conversation, after a set-up that sends a document and states a fact (both answered by triage and the
document reader, not the model). "On topic" is a simple check: the answer names one of a few expected words.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.messages import Attachment, InboundMessage, OutboundMessage, Sender
from bot.store import tables as t
from jobs import tables as jt
from knowledge import tables as kt
from server.app import App
from tests.conftest import make_settings
from tests.fakes.fake_openai import FakeOpenAI

NOTES = ("Garden notes. This spring we planted tomatoes, basil and three apple trees in April. The hedge along "
         "the road needs cutting in June, and the pond pump is serviced every September.")
SETUP = ("remember that my sister's name is Ana",)


@dataclass(frozen=True, slots=True)
class Request:
    text: str
    expect: tuple[str, ...]  # any of these words, in lower case, makes the answer on topic


REQUESTS = (
    Request("tell me a joke", ("why", "what", "?", "joke", "knock")),
    Request("what is the capital of France?", ("paris",)),
    Request("write a limerick about cats", ("cat",)),
    Request("what is a neutron?", ("particle", "nucleus", "charge", "atom")),
    Request("define photosynthesis in one sentence", ("light", "plant", "sun", "energy")),
    Request("summarise the document I sent", ("garden", "tomato", "basil", "apple", "hedge")),
    Request("according to my notes, when does the hedge need cutting?", ("june",)),
    Request("suggest a birthday present for my sister, and say her name", ("ana",)),
    Request("use the current_time tool", ("time", ":", "tool")),
    Request("hi, how are you today?", ("hello", "hi", "good", "well", "help", "fine", "great")),
)

# For --tool-probe: (message, whether a good assistant with a clock tool would use it).
TOOL_PROBE = (
    ("is it morning or evening in Tokyo at the moment?", True),
    ("how many hours until midnight here, roughly?", True),
    ("which weekday is it for me right now?", True),
    ("tell me a joke", False),
    ("what is the capital of France?", False),
    ("write a haiku about rain", False),
)


class Recorder:
    """A channel that takes drafts, so the time to the first streamed token can be measured."""

    type: ClassVar[str] = "http"

    def __init__(self) -> None:
        self.first_token: dict[str, float] = {}

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def deliver(self, message: OutboundMessage) -> None:
        return None

    def health(self) -> dict[str, Any]:
        return {"status": "running"}

    def draft(self, message: OutboundMessage) -> Callable[[str], None]:
        def grew(_: str) -> None:
            self.first_token.setdefault(message.interaction_id or "", time.perf_counter())

        return grew


class ConsoleFiles(Recorder):
    type: ClassVar[str] = "console"

    async def fetch_attachment(self, attachment: Attachment, *, limit: int) -> bytes:
        return Path(attachment.ref).read_bytes()


async def user_data(app: App) -> dict[str, int]:
    counts = {}
    for name, table, where in (("tasks", jt.task, None), ("reminders", jt.job, None),
                               ("facts", kt.knowledge_fact, kt.knowledge_fact.c.archived == 0)):
        query = select(func.count()).select_from(table)
        row = await app.services.db.one(query.where(where) if where is not None else query)
        counts[name] = int(row[0]) if row is not None else 0
    return counts


async def run(args: argparse.Namespace) -> None:
    fake = await FakeOpenAI().start() if args.fake else None
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        overrides: dict[str, Any] = {"llm_provider": "local", "log_level": "error"}
        if args.tool_probe:
            overrides["llm_profiles"] = {"embedded": {"tools": "read", "max_steps": 3}}
        if fake is not None:
            overrides.update(llm_provider="openai", llm_base_url=fake.url, llm_api_key="bench", llm_model="fake-model")
        settings = make_settings(data / "var", **overrides)
        recorder, console = Recorder(), ConsoleFiles()
        app = App(settings, channels=lambda services, web: [recorder, console])
        await app.start()
        sent: list[Any] = []
        if args.show_prompts and app.model.provider is not None:
            provider = app.model.provider
            original = provider.chat

            async def chat(messages: Any, tools: Any = (), **options: Any) -> Any:
                sent.append((list(messages), [s.name for s in tools]))
                return await original(messages, tools, **options)

            provider.chat = chat  # type: ignore[method-assign]
        try:
            notes = data / "garden-notes.txt"
            notes.write_text(NOTES)
            sender = Sender("bench-user", "Sam")
            await app.services.pipeline.handle(InboundMessage(
                "console", sender, "", attachments=(Attachment(str(notes), notes.name, "text/plain",
                                                               notes.stat().st_size),)))
            for text in SETUP:
                await app.services.pipeline.handle(InboundMessage("console", sender, text))
            if args.tool_probe:
                await probe(app, sender)
            elif fake is not None:
                await scripted(app, fake, sender)
            else:
                await open_requests(app, recorder, console, sender, sent if args.show_prompts else None)
        finally:
            await app.stop()
            if fake is not None:
                await fake.close()


async def open_requests(app: App, recorder: Recorder, console: Recorder, sender: Sender,
                        sent: list[Any] | None) -> None:
    print("| request | first token | total | steps | on topic | data changed | answer |")
    print("|---|---|---|---|---|---|---|")
    for request in REQUESTS:
        before = await user_data(app)
        started = time.perf_counter()
        outcome = await app.services.pipeline.handle(InboundMessage("console", sender, request.text))
        total = time.perf_counter() - started
        first = console.first_token.get(outcome.interaction_id) or recorder.first_token.get(outcome.interaction_id)
        rows = await app.services.db.all(select(t.step.c.kind).where(t.step.c.interaction_id == outcome.interaction_id))
        llm_steps = sum(1 for r in rows if r.kind in ("llm_call", "tool_call"))
        answer = " ".join((outcome.reply or "").split())
        on_topic = any(word in answer.lower() for word in request.expect)
        changed = before != await user_data(app)
        ttft = f"{first - started:.2f} s" if first else "-"
        print(f"| {request.text} | {ttft} | {total:.2f} s | {llm_steps} | {'yes' if on_topic else 'NO'} | "
              f"{'YES' if changed else 'no'} | {answer[:110]} |")
        if sent is not None:
            for messages, tools in sent:
                print(json.dumps({"tools": tools, "messages": [[m.role, m.content] for m in messages]}))
            sent.clear()


async def probe(app: App, sender: Sender) -> None:
    right = 0
    print("| message | should use the tool | called | arguments | answer |")
    print("|---|---|---|---|---|")
    for text, needs in TOOL_PROBE:
        outcome = await app.services.pipeline.handle(InboundMessage("console", sender, text))
        rows = await app.services.db.all(select(t.step.c.name, t.step.c.detail, t.step.c.status).where(
            t.step.c.interaction_id == outcome.interaction_id, t.step.c.kind == "tool_call"))
        called = [r.name for r in rows]
        good = (needs and called[:1] == ["current_time"] and len(called) == 1 and rows[0].status == "ok") or (
            not needs and not called)
        right += good
        args = rows[0].detail.get("arguments") if rows and rows[0].detail else None
        print(f"| {text} | {needs} | {called} | {args} | {' '.join((outcome.reply or '').split())[:80]} |")
    print(f"\nused the tool correctly on {right} of {len(TOOL_PROBE)} messages")


async def scripted(app: App, fake: FakeOpenAI, sender: Sender) -> None:
    """The tool paths, with a scripted endpoint model that makes the mistakes small models make."""
    cases: list[tuple[str, Callable[[], None]]] = [
        ("add milk to my shopping list, please, and tell me a joke", lambda: (
            fake.tool_call("task_add", json.dumps({"task": "milk", "list_name": "shopping"})),
            fake.reply("Why did the milk carton blush? It saw the salad dressing."))),
        ("tell me a joke", lambda: (
            fake.tool_call("task_add", json.dumps({"task": "task_add", "list_name": "todo"})),
            fake.reply("Why do programmers prefer dark mode? Because light attracts bugs."))),
        ("what do my notes say about the pond?", lambda: (
            fake.tool_call("memory_search", json.dumps({"query": "pond"})),
            fake.tool_call("memory_store", json.dumps({"subject": "pond", "value": "the pond pump is serviced "
                                                                                   "every September"})),
            fake.reply("Your notes say the pond pump is serviced every September."))),
        ("should I call my friend in Lima now, or is it too late there?", lambda: [
            fake.tool_call("current_time", json.dumps({"timezone": "America/Lima"})) for _ in range(6)]),
    ]
    print("| request | steps (kind:name:status) | data changed | answer |")
    print("|---|---|---|---|")
    for text, script in cases:
        script()
        before = await user_data(app)
        outcome = await app.services.pipeline.handle(InboundMessage("console", sender, text))
        rows = await app.services.db.all(select(t.step.c.kind, t.step.c.name, t.step.c.status)
                                         .where(t.step.c.interaction_id == outcome.interaction_id)
                                         .order_by(t.step.c.seq))
        after = await user_data(app)
        changed = {k: after[k] - before[k] for k in after if after[k] != before[k]}
        steps = ", ".join(f"{r.kind}:{r.name}:{r.status}" for r in rows if r.kind != "triage")
        print(f"| {text} | {steps} | {changed or 'no'} | {' '.join((outcome.reply or '').split())[:120]} |")
        while fake.pending:  # a case that ended early leaves its script behind
            fake._script.popleft()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fake", action="store_true", help="the scripted fake OpenAI server instead of the model")
    parser.add_argument("--tool-probe", action="store_true", help="offer the embedded model its read tools")
    parser.add_argument("--show-prompts", action="store_true")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
