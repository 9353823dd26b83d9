"""Extensions: how a capability (knowledge, jobs, ...) plugs into the app, through one hook.

An extension is an object with a `name`, the triage `intents` it answers directly, and `install(kit)`, called
once while the app is assembled. Through the kit it registers tools, commands, direct triage handlers, HTTP
routes, readers of files sent with messages, context for the model, work to do after each turn, and start,
ready and stop steps. Nothing else in the core needs to know it exists (the idea of `llm`'s plugin hook and
aiogram's explicit router registration).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web

from bot.commands import CommandRegistry
from bot.questions import Questions
from bot.turn import Reply, Turn
from bot.undo import UndoLog

if TYPE_CHECKING:
    from agents.model_calls import ModelCalls
    from agents.tools import ToolRegistry
    from agents.triage import TriageResult
    from bot.services import Services

# Answer a triage intent directly: the reply (text or a full Reply), or None to hand the message to the harness.
DirectHandler = Callable[[Turn, "TriageResult"], Awaitable["str | Reply | None"]]
# Facts for the model about this turn, one line each.
KnowledgeHook = Callable[[Turn], Awaitable[list[str]]]
# Reads the files sent with a turn: a reply, or None to let the caption go on to triage and the harness.
AttachmentHandler = Callable[[Turn], Awaitable[Reply | None]]
# Runs after a turn is stored and delivered (in the background), e.g. to learn facts from it.
AfterTurn = Callable[[Turn, Reply], Awaitable[None]]
Step = Callable[[], Awaitable[None]]


@dataclass
class Kit:
    services: Services
    tools: ToolRegistry
    commands: CommandRegistry
    web: web.Application
    model: ModelCalls  # the language model, metered: for work an extension does with it (e.g. extraction)
    questions: Questions  # ask for a missing slot; the next message answers it (bot/questions.py)
    undo: UndoLog  # record how to take a change back; register how for your kinds (bot/undo.py)
    direct_handlers: dict[str, DirectHandler] = field(default_factory=dict)
    knowledge_hooks: list[KnowledgeHook] = field(default_factory=list)
    attachment_handlers: list[AttachmentHandler] = field(default_factory=list)
    after_turn: list[AfterTurn] = field(default_factory=list)
    on_start: list[Step] = field(default_factory=list)  # before channels start and unfinished turns are recovered
    on_ready: list[Step] = field(default_factory=list)  # after: channels deliver, recovered turns are running
    on_stop: list[Step] = field(default_factory=list)
    skills: list[tuple[str, str]] = field(default_factory=list)  # lines for /help: (what, example)
    extras: dict[str, Any] = field(default_factory=dict)  # services an extension offers others, by name

    def answer(self, intent: str, handler: DirectHandler) -> None:
        if intent in self.direct_handlers:
            raise ValueError(f"triage intent {intent!r} already has a direct handler")
        self.direct_handlers[intent] = handler


class Extension(Protocol):
    name: str
    intents: frozenset[str]  # triage intents this extension answers directly

    def install(self, kit: Kit) -> None: ...
