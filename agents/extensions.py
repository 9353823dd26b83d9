"""Extensions: how a capability (the built-ins, knowledge, jobs, ...) plugs into the server, through one hook.

An extension is an object with the triage `intents` it answers directly, an optional `settings` class (its block
of `THINKLIO_*` settings, merged into the server's by the composition root), an optional `migrations` folder (its
tables' Alembic history) and `install(kit)`, called once while the server is assembled. Through the kit it
registers tools (and the agent assignments a fresh install starts with), commands, direct triage handlers, HTTP
routes, readers of files sent with messages, context for the model, work after each turn, and start, ready and
stop steps. The built-in tools and commands come through the same hook (`agents/core.py`), so the server has
no special cases (the idea of `llm`'s plugin hook and aiogram's explicit router registration).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from aiohttp import web
from pydantic_settings import BaseSettings

from agents.context import KnowledgeHook
from bot.commands import CommandRegistry
from bot.questions import Questions
from bot.routes import AttachmentHandler
from bot.turn import AfterTurn, Reply, Turn
from bot.undo import UndoLog

if TYPE_CHECKING:
    from agents.model_calls import ModelCalls
    from agents.runner import AgentRunner
    from agents.tools import ToolRegistry
    from agents.triage import TriageResult
    from bot.services import Services

# Answer a triage intent directly: the reply (text or a full Reply), or None to hand the message to the harness.
DirectHandler = Callable[[Turn, "TriageResult"], Awaitable["str | Reply | None"]]
Step = Callable[[], Awaitable[None]]
S = TypeVar("S", bound=BaseSettings)


@dataclass
class Kit:
    services: Services
    tools: ToolRegistry
    commands: CommandRegistry
    web: web.Application
    model: ModelCalls  # the language model, metered: for work an extension does with it (e.g. extraction)
    agents: AgentRunner  # run an agent on a turn and get its reply, without delivering it (delegation)
    questions: Questions  # ask for a missing slot; the next message answers it (bot/questions.py)
    undo: UndoLog  # record how to take a change back; register how for your kinds (bot/undo.py)
    direct_handlers: dict[str, DirectHandler] = field(default_factory=dict)
    # Intents whose handler looks in the store before the message goes to the model, even when triage is unsure:
    # only the store can say whether "forget my wifi password" names something known.
    look_first: set[str] = field(default_factory=set)
    writes: set[str] = field(default_factory=set)  # intents whose handlers change data (refused to readonly)
    knowledge_hooks: list[KnowledgeHook] = field(default_factory=list)
    attachment_handlers: list[AttachmentHandler] = field(default_factory=list)
    after_turn: list[AfterTurn] = field(default_factory=list)
    on_start: list[Step] = field(default_factory=list)  # before channels start and unfinished turns are recovered
    on_ready: list[Step] = field(default_factory=list)  # after: channels deliver, recovered turns are running
    on_stop: list[Step] = field(default_factory=list)
    skills: list[tuple[str, str]] = field(default_factory=list)  # lines for /help: (what, example)
    # Tools a fresh install assigns to the default agent, with their permission (seeded once, by name).
    assignments: list[tuple[str, str]] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)  # services an extension offers others, by name

    def answer(self, intent: str, handler: DirectHandler, *, look_first: bool = False, writes: bool = False) -> None:
        """`writes`: the handler changes the user's data, so readonly members are refused it."""
        if intent in self.direct_handlers:
            raise ValueError(f"triage intent {intent!r} already has a direct handler")
        self.direct_handlers[intent] = handler
        if look_first:
            self.look_first.add(intent)
        if writes:
            self.writes.add(intent)

    def settings(self, kind: type[S]) -> S:
        """The server's settings as `kind` (an extension's own block), which the composition root merged in."""
        settings = self.services.settings
        if not isinstance(settings, kind):
            raise TypeError(f"the server's settings have no {kind.__name__} block; the extension that declares it "
                            "must be listed in server/extensions.py")
        return settings


class Extension(Protocol):
    intents: frozenset[str]  # triage intents this extension answers directly
    settings: ClassVar[type[BaseSettings] | None]  # its THINKLIO_* block, or None
    migrations: ClassVar[Path | None]  # its tables' Alembic versions folder, or None

    def install(self, kit: Kit) -> None: ...
