"""The rows of a user deletion (`erasure.py`): which columns name a user, the rule each one has, and the one
transaction that anonymises the person's history and applies the rules. See `erasure.py` for what anonymised
means and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, MetaData, Table, and_, delete, func, not_, or_, select, update
from sqlalchemy.engine import Connection

from bot.store import tables as t

TOMBSTONE = "usr_deleted"  # the one profile every anonymised row points to; it has no identity or membership
REMOVED = "[removed: this person's data was deleted]"
HOWS = ("delete", "anonymise", "keep")


@dataclass(frozen=True, slots=True)
class Rule:
    """What deletion does with `table.column` (a reference to the user): delete the rows, anonymise them (point
    them at the placeholder profile), or keep them (the deletion's own record)."""

    table: Table
    column: str
    how: str

    @property
    def key(self) -> tuple[str, str]:
        return self.table.name, self.column


def user_columns(metadata: MetaData) -> list[tuple[Table, Column[Any]]]:
    """Every column that names a user: a foreign key to `user_profile`, or called `user_id` / `*_user_id`."""
    found = []
    for table in metadata.sorted_tables:
        for column in table.columns:
            refers = any(fk.column.table.name == "user_profile" for fk in column.foreign_keys)
            if refers or column.name == "user_id" or column.name.endswith("_user_id"):
                found.append((table, column))
    return found


KERNEL_RULES = (
    Rule(t.channel_identity, "user_id", "delete"),
    Rule(t.membership, "user_id", "delete"),
    Rule(t.team_member, "user_id", "delete"),
    Rule(t.pending_question, "user_id", "delete"),
    Rule(t.undo_entry, "user_id", "delete"),
    Rule(t.conversation, "user_id", "anonymise"),
    Rule(t.message, "user_id", "anonymise"),
    Rule(t.interaction, "user_id", "anonymise"),
    Rule(t.user_deletion, "user_id", "keep"),
)


def position(table: Table) -> int:
    return [tb.name for tb in table.metadata.sorted_tables].index(table.name)


def erase_rows(conn: Connection, user_id: str, rules: list[Rule], now: datetime) -> None:
    """One transaction: anonymise the history, then apply every rule, then drop the profile."""
    if conn.execute(select(t.user_profile.c.id).where(t.user_profile.c.id == TOMBSTONE)).first() is None:
        conn.execute(t.user_profile.insert().values(id=TOMBSTONE, display_name="deleted user", status="deleted",
                                                    created_at=now))
    _anonymise_history(conn, user_id)
    for rule in rules:
        column = rule.table.c[rule.column]
        if rule.how == "delete":
            conn.execute(delete(rule.table).where(column == user_id))
        elif rule.how == "anonymise":  # a reference to a profile points at the placeholder; a bare id goes
            refers = any(fk.column.table.name == "user_profile" for fk in column.foreign_keys)
            conn.execute(update(rule.table).where(column == user_id)
                         .values({rule.column: TOMBSTONE if refers or not column.nullable else None}))
    # Budgets name their subject by a bare id (account, user or agent): the person's own go with them.
    for table in (t.budget, t.spend):
        conn.execute(delete(table).where(table.c.scope == "user", table.c.subject_id == user_id))
    conn.execute(delete(t.user_profile).where(t.user_profile.c.id == user_id))


def _anonymise_history(conn: Connection, user_id: str) -> None:
    i, m, c, s, o = t.interaction, t.message, t.conversation, t.step, t.outbox
    mine = select(i.c.id).where(i.c.user_id == user_id)
    touched = select(c.c.id).where(or_(c.c.user_id == user_id, c.c.id.in_(
        select(i.c.conversation_id).where(i.c.user_id == user_id))))
    others = (user_id, TOMBSTONE)
    shared = select(c.c.id).where(c.c.id.in_(touched), or_(
        select(i.c.id).where(i.c.conversation_id == c.c.id, i.c.user_id.not_in(others)).exists(),
        select(m.c.id).where(m.c.conversation_id == c.c.id, m.c.user_id.is_not(None),
                             m.c.user_id.not_in(others)).exists()))
    own = [row.id for row in conn.execute(select(c.c.id, c.c.channel_id, c.c.external_key)
                                          .where(c.c.id.in_(touched), not_(c.c.id.in_(shared))))]
    own_keys = [(row.channel_id, row.external_key) for row in conn.execute(
        select(c.c.channel_id, c.c.external_key).where(c.c.id.in_(own)))]
    their_messages = or_(m.c.user_id == user_id, m.c.conversation_id.in_(own),
                         m.c.id.in_(select(i.c.inbound_message_id).where(i.c.user_id == user_id)),
                         m.c.id.in_(select(i.c.reply_message_id).where(i.c.user_id == user_id)))
    conn.execute(update(m).where(their_messages)
                 .values(text=REMOVED, attachments=None, metadata=None, external_id=None))
    conn.execute(update(s).where(s.c.interaction_id.in_(mine)).values(detail=None, error=None))
    conn.execute(delete(o).where(o.c.interaction_id.in_(mine)))
    channel_types = dict(conn.execute(select(t.channel.c.id, t.channel.c.type)).all())
    identities = conn.execute(select(t.channel_identity.c.channel_type, t.channel_identity.c.external_id)
                              .where(t.channel_identity.c.user_id == user_id)).all()
    chats = {(channel_types.get(channel_id), key) for channel_id, key in own_keys} | {
        (row.channel_type, row.external_id) for row in identities}
    for kind, chat in chats:
        # a private chat's key is the person's own id on the channel: what waits for it and its block go too
        conn.execute(delete(o).where(o.c.channel_type == kind, o.c.destination == chat))
        conn.execute(delete(t.blocked_chat).where(and_(t.blocked_chat.c.channel_type == kind,
                                                       t.blocked_chat.c.chat_id == chat)))
    for conversation_id in own:
        conn.execute(update(c).where(c.c.id == conversation_id)
                     .values(external_key=f"deleted:{conversation_id}", title=None))
    _redact_command_replies(conn, user_id, [row.external_id for row in identities])


def _redact_command_replies(conn: Connection, user_id: str, external_ids: list[str]) -> None:
    """What the server itself wrote about the person in admins' chats (/users, /user show, /grant replies) names
    them: those replies get "deleted user" in place of their names and channel ids. What other people wrote
    about them is those people's, and stays."""
    i, m, ci = t.interaction, t.message, t.channel_identity
    names = {conn.scalar(select(t.user_profile.c.display_name).where(t.user_profile.c.id == user_id)) or ""}
    names |= {row[0] or "" for row in conn.execute(select(ci.c.display_name).where(ci.c.user_id == user_id))}
    words = sorted({w for w in (*names, *external_ids) if len(w) >= 3}, key=len, reverse=True)  # longest first
    replies = select(i.c.reply_message_id).where(i.c.tier == "command", i.c.reply_message_id.is_not(None))
    for word in words:
        conn.execute(update(m).where(m.c.id.in_(replies), m.c.text.contains(word, autoescape=True))
                     .values(text=func.replace(m.c.text, word, "deleted user")))
