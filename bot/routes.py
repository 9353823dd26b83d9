"""Routing: the chain a message goes through after the gates. Each route answers or passes (returns None);
the first answer wins. Order: slash command, files sent with the message, triage (Tier 2), harness (Tier 3)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from bot.commands import CommandContext, CommandError, CommandRegistry, parse_command
from bot.directory import Directory
from bot.errors import ThinklioError
from bot.governance import Actor, Governance
from bot.i18n import N_, _
from bot.platform import PlatformState
from bot.turn import Reply, Turn

Route = Callable[[Turn], Awaitable[Reply | None]]
# Reads the files sent with a turn: a reply, or None to let the caption go on to triage and the harness.
AttachmentHandler = Callable[[Turn], Awaitable[Reply | None]]
NO_FILE_READER = N_("I can't read files here yet. Please send your question as a message.")
Capabilities = Callable[[Turn], Awaitable[list[tuple[str, str]]]]


class CommandRoute:
    def __init__(self, registry: CommandRegistry, directory: Directory, platform: PlatformState,
                 capabilities: Capabilities, governance: Governance) -> None:
        self._registry = registry
        self._directory = directory
        self._platform = platform
        self._capabilities = capabilities
        self._governance = governance

    async def __call__(self, turn: Turn) -> Reply | None:
        parsed = parse_command(turn.text) if turn.origin == "user" else None
        if parsed is None:
            return None
        name, args = parsed
        started = time.perf_counter()
        command = self._registry.get(name)
        if command is None:
            turn.record("command", name, status="error", started=started, error="unknown_command")
            return Reply(_("I don't know the command /{name}. Send /help to see the ones I have.").format(name=name),
                         tier="command", intent=f"/{name}", error_code="unknown_command")
        refusal = None
        if command.admin and not turn.is_account_admin:
            refusal = N_("/{name} is for administrators.")
        elif command.writes and turn.is_readonly:
            refusal = N_("/{name} changes things, and your role here is readonly.")
        if refusal is not None:
            turn.record("command", name, status="denied", started=started, error="forbidden")
            # The audit trail is read by administrators: in the source language, whoever was refused.
            await self._governance.audit.refused(Actor.of_turn(turn), f"command.{name}", refusal.format(name=name))
            return Reply(_(refusal).format(name=name), tier="command", intent=f"/{name}", error_code="forbidden")
        context = CommandContext(turn=turn, args=args, directory=self._directory, platform=self._platform,
                                 registry=self._registry, capabilities=self._capabilities,
                                 governance=self._governance)
        try:
            text = await command.handler(context)
        except CommandError as exc:
            turn.record("command", name, status="error", started=started, error=exc.code)
            if exc.code == "forbidden":
                await self._governance.audit.refused(Actor.of_turn(turn), f"command.{name}", str(exc))
            return Reply(str(exc), tier="command", intent=f"/{name}", error_code=exc.code)
        except ThinklioError as exc:  # from the governance services, which audit their own refusals
            turn.record("command", name, status="error", started=started, error=exc.code)
            return Reply(exc.message, tier="command", intent=f"/{name}", error_code=exc.code)
        turn.record("command", name, started=started)
        return Reply(text, tier="command", intent=f"/{name}")


class AttachmentRoute:
    """Files sent with a message go to the extensions that read them (knowledge reads documents)."""

    def __init__(self, handlers: list[AttachmentHandler]) -> None:
        self._handlers = handlers

    async def __call__(self, turn: Turn) -> Reply | None:
        if not turn.attachments or turn.origin != "user":
            return None
        for handler in self._handlers:
            reply = await handler(turn)
            if reply is not None:
                return reply
        if self._handlers or turn.text.strip():
            return None
        return Reply(_(NO_FILE_READER), tier="triage", intent="attachment", error_code="unsupported_attachment")
