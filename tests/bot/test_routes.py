"""The quick routes of `bot/routes.py`, called directly with hand-built turns (no database).

CommandRoute: a known command runs and its answer becomes the reply; an unknown command is answered with
/help's pointer; an admin-only command is refused to a member and not run; a CommandError's message and code
become the reply; `/cmd@botname args` is parsed like `/cmd args`; text that is not a command and turns the server
started (origin "event") pass on. Each decision is recorded as a "command" step on the turn.
AttachmentRoute: no files passes; handlers are tried in order and the first answer wins; with no handler the
user is told files cannot be read (unless there is a caption to answer)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import pytest

from bot.commands import BASIC_COMMANDS, Command, CommandContext, CommandError, CommandRegistry, parse_command
from bot.directory import Directory
from bot.governance import Actor, Governance
from bot.messages import Attachment
from bot.platform import PlatformState
from bot.records import AgentRecord, ChannelRecord, ConversationRecord, UserRecord
from bot.routes import NO_FILE_READER, AttachmentHandler, AttachmentRoute, CommandRoute
from bot.turn import Reply, Turn

PDF = Attachment("file-1", "notes.pdf", "application/pdf", 1000)


def make_turn(text: str, *, origin: str = "user", role: str | None = "member", platform_admin: bool = False,
              attachments: tuple[Attachment, ...] = ()) -> Turn:
    return Turn(
        interaction_id="ix_1", message_id="msg_1", text=text,
        channel=ChannelRecord(id="chn_1", slug="api", type="http", account_id="acc_1", agent_id="agt_1",
                              status="active"),
        agent=AgentRecord(id="agt_1", account_id="acc_1", slug="assistant", name="Assistant", system_prompt="",
                          status="active", model=None),
        user=UserRecord(id="usr_1", display_name="Sam", status="active", timezone=None, locale=None),
        conversation=ConversationRecord(id="cnv_1", channel_id="chn_1", account_id="acc_1", agent_id="agt_1",
                                        user_id="usr_1", external_key="acc:u1"),
        sender_external_id="acc:u1", received_at=datetime(2026, 1, 1, tzinfo=UTC), origin=origin,
        is_platform_admin=platform_admin, role=role, attachments=attachments,
    )


class Calls:
    """Test commands that record how they were called."""

    def __init__(self) -> None:
        self.contexts: list[CommandContext] = []

    async def echo(self, ctx: CommandContext) -> str:
        self.contexts.append(ctx)
        return f"echo: {ctx.args}" if ctx.args else "echo"

    async def refuse(self, ctx: CommandContext) -> str:
        self.contexts.append(ctx)
        raise CommandError("That needs a number.", code="bad_request_custom")

    async def refuse_default(self, ctx: CommandContext) -> str:
        raise CommandError("Usage: /plain N")

    async def crash(self, ctx: CommandContext) -> str:
        raise RuntimeError("boom")


async def no_skills(turn: Turn) -> list[tuple[str, str]]:
    return []


async def two_skills(turn: Turn) -> list[tuple[str, str]]:
    return [("time", "the time anywhere"), ("weather", "the forecast")]


class RecordingAudit:
    """Stands in for the audit trail: the route writes every refusal there."""

    def __init__(self) -> None:
        self.refusals: list[tuple[str, str, str]] = []

    async def refused(self, actor: Actor, action: str, reason: str, **target: Any) -> None:
        self.refusals.append((actor.label, action, reason))


def governance(audit: RecordingAudit | None = None) -> Governance:
    return cast(Governance, SimpleNamespace(audit=audit or RecordingAudit()))


def route_with(calls: Calls, *extra: Command, audit: RecordingAudit | None = None) -> CommandRoute:
    registry = CommandRegistry()
    registry.register_all([
        Command("echo", "say it back", calls.echo, usage="[text]"),
        Command("secret", "admins only", calls.echo, admin=True),
        Command("strict", "refuses with a code", calls.refuse),
        Command("plain", "refuses with the default code", calls.refuse_default),
        Command("crash", "fails", calls.crash),
        *extra,
    ])
    return CommandRoute(registry, cast(Directory, object()), cast(PlatformState, object()), no_skills,
                        governance(audit))


# parsing ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("/help", ("help", "")),
        ("  /Help  ", ("help", "")),
        ("/timezone Europe/Berlin", ("timezone", "Europe/Berlin")),
        ("/start@ThinklioBot", ("start", "")),
        ("/agent@thinklio_bot pause   assistant ", ("agent", "pause   assistant")),
        ("/echo first line\nsecond line", ("echo", "first line\nsecond line")),
        ("hello", None),
        ("/", None),
        ("/ help", None),
        ("/etc/hosts is broken", None),
        ("/1abc", None),
        ("/help@", None),
        ("/" + "x" * 33, None),
        ("say /help", None),
    ],
)
def test_parse_command(text: str, parsed: tuple[str, str] | None) -> None:
    assert parse_command(text) == parsed


# CommandRoute ----------------------------------------------------------------------------------------------------


async def test_known_command_runs_and_its_answer_is_the_reply() -> None:
    calls = Calls()
    turn = make_turn("/echo hello there")
    reply = await route_with(calls)(turn)
    assert reply == Reply("echo: hello there", tier="command", intent="/echo")
    (ctx,) = calls.contexts
    assert ctx.turn is turn and ctx.args == "hello there"
    assert [(s.kind, s.name, s.status, s.error) for s in turn.steps] == [("command", "echo", "ok", None)]


async def test_command_addressed_to_a_bot_by_name_runs_with_its_arguments() -> None:
    calls = Calls()
    reply = await route_with(calls)(make_turn("/ECHO@ThinklioBot  loud  "))
    assert reply == Reply("echo: loud", tier="command", intent="/echo")
    assert [ctx.args for ctx in calls.contexts] == ["loud"]


async def test_unknown_command_points_to_help() -> None:
    turn = make_turn("/nope with args")
    reply = await route_with(Calls())(turn)
    assert reply == Reply("I don't know the command /nope. Send /help to see the ones I have.", tier="command",
                          intent="/nope", error_code="unknown_command")
    assert [(s.kind, s.name, s.status, s.error) for s in turn.steps] == [
        ("command", "nope", "error", "unknown_command")]


async def test_admin_command_is_refused_to_a_member_and_not_run() -> None:
    calls, audit = Calls(), RecordingAudit()
    turn = make_turn("/secret now", role="member")
    reply = await route_with(calls, audit=audit)(turn)
    assert reply == Reply("/secret is for administrators.", tier="command", intent="/secret",
                          error_code="forbidden")
    assert calls.contexts == []
    assert audit.refusals == [(turn.actor, "command.secret", "/secret is for administrators.")]
    assert [(s.status, s.error) for s in turn.steps] == [("denied", "forbidden")]


async def test_admin_command_is_refused_to_a_guest_without_a_role() -> None:
    calls = Calls()
    reply = await route_with(calls)(make_turn("/secret", role=None))
    assert reply is not None and reply.error_code == "forbidden"
    assert calls.contexts == []


@pytest.mark.parametrize(("role", "platform_admin"), [("owner", False), ("admin", False), ("member", True)])
async def test_admin_command_runs_for_admins(role: str, platform_admin: bool) -> None:
    calls = Calls()
    reply = await route_with(calls)(make_turn("/secret", role=role, platform_admin=platform_admin))
    assert reply == Reply("echo", tier="command", intent="/secret")
    assert len(calls.contexts) == 1


async def test_command_error_becomes_the_reply_with_its_code() -> None:
    calls = Calls()
    turn = make_turn("/strict abc")
    reply = await route_with(calls)(turn)
    assert reply == Reply("That needs a number.", tier="command", intent="/strict", error_code="bad_request_custom")
    assert len(calls.contexts) == 1
    assert [(s.name, s.status, s.error) for s in turn.steps] == [("strict", "error", "bad_request_custom")]


async def test_command_error_without_a_code_is_a_bad_request() -> None:
    reply = await route_with(Calls())(make_turn("/plain"))
    assert reply == Reply("Usage: /plain N", tier="command", intent="/plain", error_code="bad_request")


async def test_other_failures_are_not_swallowed_by_the_route() -> None:
    # The pipeline's guard records them and answers with its failure reply (see test_pipeline.py).
    turn = make_turn("/crash")
    with pytest.raises(RuntimeError, match="boom"):
        await route_with(Calls())(turn)
    assert turn.steps == []


@pytest.mark.parametrize("text", ["hello", "/etc/hosts is broken", "what does /echo do?"])
async def test_text_that_is_not_a_command_passes_on(text: str) -> None:
    calls = Calls()
    turn = make_turn(text)
    assert await route_with(calls)(turn) is None
    assert calls.contexts == [] and turn.steps == []


@pytest.mark.parametrize("text", ["/echo hi", "/nope", "/secret"])
async def test_events_are_not_commands(text: str) -> None:
    calls = Calls()
    turn = make_turn(text, origin="event", platform_admin=True)
    assert await route_with(calls)(turn) is None
    assert calls.contexts == [] and turn.steps == []


async def test_help_lists_the_commands_visible_to_the_user_and_the_skills() -> None:
    registry = CommandRegistry()
    registry.register_all(BASIC_COMMANDS)
    registry.register(Command("secret", "admins only", Calls().echo, admin=True))
    route = CommandRoute(registry, cast(Directory, object()), cast(PlatformState, object()), two_skills,
                         governance())
    member = await route(make_turn("/help"))
    assert member is not None and member.text is not None
    lines = member.text.splitlines()
    assert lines[0].startswith("I'm Assistant. Commands")
    assert "/timezone [Area/City] - show or set your time zone" in lines
    assert "/start [payload] - say hello" in lines
    assert not any(line.startswith("/secret") for line in lines)
    assert lines[-3:] == ["You can also just ask:", "- time: the time anywhere", "- weather: the forecast"]
    owner = await route(make_turn("/help", role="owner"))
    assert owner is not None and "/secret - admins only" in (owner.text or "")


# AttachmentRoute -------------------------------------------------------------------------------------------------


class Handler:
    def __init__(self, answer: str | None, seen: list[str]) -> None:
        self.answer = answer
        self.seen = seen

    async def __call__(self, turn: Turn) -> Reply | None:
        self.seen.append(self.answer or "pass")
        return None if self.answer is None else Reply(self.answer, tier="triage", intent="document")


def handlers(*answers: str | None) -> tuple[list[AttachmentHandler], list[str]]:
    seen: list[str] = []
    return [Handler(answer, seen) for answer in answers], seen


async def test_no_attachments_passes_without_asking_the_handlers() -> None:
    chain, seen = handlers("read it")
    assert await AttachmentRoute(chain)(make_turn("hello")) is None
    assert seen == []


async def test_handlers_are_tried_in_order_and_the_first_answer_wins() -> None:
    chain, seen = handlers(None, "first", "second")
    reply = await AttachmentRoute(chain)(make_turn("", attachments=(PDF,)))
    assert reply == Reply("first", tier="triage", intent="document")
    assert seen == ["pass", "first"]  # the third is never asked


async def test_every_handler_passing_lets_the_caption_go_on() -> None:
    chain, seen = handlers(None, None)
    assert await AttachmentRoute(chain)(make_turn("what does it say?", attachments=(PDF,))) is None
    assert seen == ["pass", "pass"]


async def test_every_handler_passing_without_a_caption_also_passes() -> None:
    # What the code does: with handlers installed it never gives the "can't read files" reply, so a file no
    # handler takes and no caption go on to triage and the model with empty text.
    chain, _ = handlers(None)
    assert await AttachmentRoute(chain)(make_turn("  ", attachments=(PDF,))) is None


async def test_without_handlers_a_file_alone_is_answered_that_files_cannot_be_read() -> None:
    reply = await AttachmentRoute([])(make_turn("", attachments=(PDF,)))
    assert reply == Reply(NO_FILE_READER, tier="triage", intent="attachment", error_code="unsupported_attachment")


async def test_without_handlers_a_caption_goes_on() -> None:
    assert await AttachmentRoute([])(make_turn("summarise this", attachments=(PDF,))) is None


async def test_events_with_attachments_are_not_read() -> None:
    chain, seen = handlers("read it")
    assert await AttachmentRoute(chain)(make_turn("", origin="event", attachments=(PDF,))) is None
    assert seen == []


async def test_a_state_changing_command_is_refused_to_readonly_and_audited() -> None:
    calls, audit = Calls(), RecordingAudit()
    route = route_with(calls, Command("note", "changes data", calls.echo, writes=True), audit=audit)
    turn = make_turn("/note buy milk", role="readonly")
    reply = await route(turn)
    assert reply is not None and reply.error_code == "forbidden"
    assert calls.contexts == [] and [action for _, action, _ in audit.refusals] == ["command.note"]
    assert await route(make_turn("/echo hi", role="readonly")) == Reply("echo: hi", tier="command", intent="/echo")
