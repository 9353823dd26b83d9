"""The console on a terminal: a "thinking" line while the model works, the answer as it is written, and
messages the server starts printed above a fresh prompt."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agents.llm.base import ChatMessage, ChatResult, ToolSpec, Usage
from bot.messages import Sender
from channels.console import CLEAR_LINE, PROMPT, THINKING, ConsoleChannel
from server.app import App
from tests.conftest import make_settings
from tests.fakes.scripted_provider import ScriptedProvider

STORY = "Once upon a time a lighthouse keeper counted the waves, and the waves counted back."


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class SlowStreamer(ScriptedProvider):
    """Thinks for a moment, then writes its answer a few characters at a time."""

    def __init__(self) -> None:
        super().__init__(lambda messages, tools: ChatResult(STORY, (), Usage(5, 5), "scripted-model"))

    async def chat(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = (), **options: Any) -> ChatResult:
        await asyncio.sleep(0.5)
        on_text = options.pop("on_text", None)
        result = await super().chat(messages, tools, **options)
        for end in range(8, len(STORY) + 8, 8):
            if on_text is not None:
                on_text(STORY[:end])
            await asyncio.sleep(0.01)
        return result


async def console_app(tmp_path: Path, lines: str, provider: Any = None) -> tuple[App, ConsoleChannel, Terminal]:
    out = Terminal()
    holder: list[ConsoleChannel] = []

    def channels(services: Any, web: Any) -> list[ConsoleChannel]:
        holder.append(ConsoleChannel(services, web, user="sam", stdin=Terminal(lines), stdout=out))
        return holder

    app = App(make_settings(tmp_path / "var"), channels=channels, provider=provider)
    await app.start()
    return app, holder[0], out


async def test_thinking_then_the_answer_as_it_is_written(tmp_path: Path) -> None:
    app, console, out = await console_app(tmp_path, "tell me a story\n", SlowStreamer())
    try:
        await console.run()
    finally:
        await app.stop()
    screen = out.getvalue()
    assert THINKING in screen
    after = screen[screen.index(THINKING) + len(THINKING):]
    assert after.startswith(CLEAR_LINE)  # the indicator makes way for the answer
    assert after.count(STORY[:8]) == 1 and STORY in after.replace("\n", "")  # streamed, printed once
    assert screen.endswith(f"{STORY}\n{PROMPT}")


async def test_a_quick_answer_shows_no_indicator(tmp_path: Path) -> None:
    app, console, out = await console_app(tmp_path, "what time is it?\n")
    try:
        await console.run()
    finally:
        await app.stop()
    assert THINKING not in out.getvalue() and "It's" in out.getvalue()


async def test_a_reminder_while_typing_goes_above_a_fresh_prompt(tmp_path: Path) -> None:
    app, console, out = await console_app(tmp_path, "")
    try:
        console._at_prompt = True  # as while readline waits
        directory = app.services.directory
        channel = await directory.channel("console")
        assert channel is not None
        user = await directory.identify("console", Sender("sam"), channel.account_id)
        conversation = await directory.conversation(channel, user, "sam")
        await app.services.pipeline.outlets.send(conversation.id, "Reminder: stretch")
    finally:
        await app.stop()
    assert out.getvalue().endswith(f"{CLEAR_LINE}Reminder: stretch\n{PROMPT}")
