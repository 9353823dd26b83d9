"""People and the audit trail from chat: /users, /user show|suspend|resume|delete, /audit. Every list is paged
so a page fits one chat message (CHAT_LIMIT, under Telegram's 4,096 and Slack's comfortable length), with
"page N of M" and the command for the next page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from bot.commands.paging import LIMIT, no_such_page, page_footer, page_number
from bot.commands.registry import CommandContext, CommandError
from bot.governance import Actor
from bot.governance.audit import AuditEvent
from bot.governance.erasure import LABELS
from bot.governance.people import Member
from bot.governance.users import UserDetail

CHAT_LIMIT = LIMIT  # characters of one page
USERS_PAGE = 25  # lines of at most ~120 characters (names are cut to NAME_CHARS)
AUDIT_PAGE = 20  # lines of at most LINE_CHARS
NAME_CHARS = 48
LINE_CHARS = 160
MAX_SHOWN = 15  # identities or memberships of one user shown by /user show (~100 characters each)
_SINCE = re.compile(r"^(\d{1,4})([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
DELETE_USAGE = "Usage: /user delete USER, then /user delete USER confirm"


def _cut(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: chars - 1] + "…"


def describe(member: Member) -> str:
    standing = "" if member.status == "active" and member.user.status == "active" else (
        " [suspended everywhere]" if member.user.status == "suspended" else " [suspended here]")
    return f"{_cut(member.user.display_name, NAME_CHARS)} ({member.user.id}) - {member.role}{standing}"


async def users_command(ctx: CommandContext) -> str:
    words, page = page_number(ctx.args.split())
    if words[:1] == ["all"]:
        return await _everyone(ctx, " ".join(words[1:]), page)
    query = " ".join(words)
    members, total = await ctx.governance.users.listing(Actor.of_turn(ctx.turn), query=query, limit=USERS_PAGE,
                                                        offset=(page - 1) * USERS_PAGE)
    if not members and total:
        return no_such_page(page, USERS_PAGE, total)
    if not members:
        return "No members match." if query else "This account has no members."
    lines = [describe(member) for member in members]
    return "\n".join([*lines, page_footer(page, USERS_PAGE, total, f"/users {query}".rstrip())])


async def _everyone(ctx: CommandContext, query: str, page: int) -> str:
    users, total = await ctx.governance.users.everyone(Actor.of_turn(ctx.turn), query=query, limit=USERS_PAGE,
                                                       offset=(page - 1) * USERS_PAGE)
    if not users:
        return no_such_page(page, USERS_PAGE, total) if total else "No users match."
    lines = [f"{_cut(user.display_name, NAME_CHARS)} ({user.id}) - {n} account{'s' if n != 1 else ''}"
             + ("" if user.status == "active" else f" [{user.status} everywhere]") for user, n in users]
    return "\n".join([*lines, page_footer(page, USERS_PAGE, total, f"/users all {query}".rstrip())])


async def user_command(ctx: CommandContext) -> str:
    parts = ctx.args.split()
    if len(parts) < 2 or parts[0] not in ("show", "suspend", "resume", "delete"):
        raise CommandError("Usage: /user show|suspend|resume|delete USER [everywhere|confirm]")
    action, ref, rest = parts[0], parts[1], parts[2:]
    actor = Actor.of_turn(ctx.turn)
    if action == "show":
        if rest:
            raise CommandError("Usage: /user show USER")
        return show_text(await ctx.governance.users.show(actor, ref))
    if action == "delete":
        return await _delete(ctx, actor, ref, rest)
    if rest not in ([], ["everywhere"]):
        raise CommandError("Usage: /user suspend|resume USER [everywhere]")
    member = await ctx.governance.people.member(ref, actor.account_id)
    status = "suspended" if action == "suspend" else "active"
    return await ctx.governance.members.set_status(actor, member, status, everywhere=rest == ["everywhere"])


async def _delete(ctx: CommandContext, actor: Actor, ref: str, rest: list[str]) -> str:
    erasure = ctx.governance.erasure
    if rest == ["confirm"]:
        return (await erasure.confirm(actor, ref)).describe()
    if rest:
        raise CommandError(DELETE_USAGE)
    preview = await erasure.propose(actor, ref)
    if preview is None:
        return f"User {ref} is deleted already (nothing left to do)."
    # The reply names the user by id only: this conversation is kept, the person's name must not be in it.
    return (f"{preview.describe()} This cannot be undone. To go ahead, send within 10 minutes:\n"
            f"/user delete {preview.user_id} confirm")


def show_text(detail: UserDetail) -> str:
    user = detail.user
    memberships = "; ".join(f"{m.account_slug}: {m.role}" + ("" if m.status == "active" else f" ({m.status})")
                            for m in detail.memberships[:MAX_SHOWN]) or "none here"
    hidden = detail.hidden_accounts + max(0, len(detail.memberships) - MAX_SHOWN)
    if hidden:
        memberships += f"; and {hidden} other account(s)"
    stored = ", ".join(f"{n} {LABELS[name]}" for name, n in detail.counts.items() if name in LABELS)
    seen = f"{detail.last_seen:%Y-%m-%d %H:%M} UTC" if detail.last_seen else "never"
    return "\n".join([
        f"{_cut(user.display_name, NAME_CHARS)} ({user.id}): {user.status}.",
        f"Memberships: {memberships}.",
        "Identities: " + (", ".join(_cut(i, 80) for i in detail.identities[:MAX_SHOWN]) or "none")
        + (f" and {len(detail.identities) - MAX_SHOWN} more" if len(detail.identities) > MAX_SHOWN else "") + ".",
        f"Stored: {stored}.",
        f"Last seen: {seen}.",
        f"Time zone: {user.timezone or 'server default'}; language: {user.locale or 'not set'}.",
    ])


async def audit_command(ctx: CommandContext) -> str:
    """`/audit [since] [actor|type] [PAGE]`: since is 30m, 24h, 7d, 4w or a date (2026-12-01); actor a user
    (usr_…, CHANNEL:ID, @name, or an audit actor user:…/apikey:…); type an action prefix (role., user.delete)."""
    words, page = page_number(ctx.args.split())
    again = " ".join(["/audit", *words])  # the filters, for the next page
    since = None
    if words and (parsed := _since(words[0], ctx.turn.received_at)) is not None:
        since, words = parsed, words[1:]
    if len(words) > 1:
        raise CommandError("Usage: /audit [30m|24h|7d|4w|YYYY-MM-DD] [USER|ACTION] [PAGE]")
    actor = action = None
    if words:
        actor, action = await _who(ctx, words[0])
    account = None if ctx.turn.is_platform_admin else ctx.turn.channel.account_id
    audit = ctx.governance.audit
    total = await audit.count(account, since=since, actor=actor, action=action)
    events = await audit.events(account, since=since, actor=actor, action=action, limit=AUDIT_PAGE,
                                offset=(page - 1) * AUDIT_PAGE)
    if not events and total:
        return no_such_page(page, AUDIT_PAGE, total)
    if not events:
        return "Nothing in the audit trail matches."
    return "\n".join([*[event_line(event) for event in events], page_footer(page, AUDIT_PAGE, total, again)])


def _since(word: str, now: datetime) -> datetime | None:
    if match := _SINCE.match(word):
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}(T[\d:]+)?", word):
        try:
            moment = datetime.fromisoformat(word)
        except ValueError:
            raise CommandError(f"{word!r} is not a date: use YYYY-MM-DD.") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


async def _who(ctx: CommandContext, word: str) -> tuple[str | None, str | None]:
    """(actor, action prefix) the filter word means."""
    if word.startswith(("user:", "apikey:")):
        return word, None
    if word.startswith(("usr_", "@")) or ":" in word:  # a person, named as people know them
        user = await ctx.governance.people.user(word, ctx.turn.channel.account_id)
        return f"user:{user.id}", None
    return None, word


def event_line(event: AuditEvent) -> str:
    reason = f": {event.detail['reason']}" if "reason" in event.detail else ""
    target = f" {event.target_id}" if event.target_id else ""
    line = f"{event.created_at:%Y-%m-%d %H:%M} {event.actor} {event.action}{target} [{event.outcome}{reason}]"
    return _cut(line, LINE_CHARS)
