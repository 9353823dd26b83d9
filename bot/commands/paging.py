"""Long command replies in pages that fit a channel's message (Telegram's limit is 4,096 characters, Slack's
sections less): pages are cut by characters, not by a fixed number of lines, so long lines still fit, and the
footer says where you are ("page 2 of 3") and what to send for the next one. Lists the store pages for us (people,
the audit trail: a page of `size` rows by offset, and the total) use `page_footer` and `no_such_page`."""

from __future__ import annotations

from collections.abc import Sequence

from bot.commands.registry import CommandError

LIMIT = 3_500  # characters of one page, header and footer included: under every channel's message limit
_FOOTER_ROOM = 120  # kept free on every page for the footer


def page_number(words: Sequence[str]) -> tuple[list[str], int]:
    """The arguments, and the page the last one asks for when it is a number (1 when not)."""
    if words and words[-1].isdigit():
        return list(words[:-1]), max(1, int(words[-1]))
    return list(words), 1


def pages(lines: Sequence[str], *, header: str = "", limit: int = LIMIT) -> list[list[str]]:
    """`lines` cut into pages that fit `limit` with the header and a footer; a line too long alone is shortened."""
    room = limit - _FOOTER_ROOM - (len(header) + 1 if header else 0)
    cut: list[list[str]] = [[]]
    used = 0
    for line in lines:
        if len(line) > room:
            line = line[: room - 1] + "…"
        if cut[-1] and used + len(line) + 1 > room:
            cut.append([])
            used = 0
        cut[-1].append(line)
        used += len(line) + 1
    return cut


def paginate(lines: Sequence[str], page: int, again: str, *, header: str = "", limit: int = LIMIT) -> str:
    """Page `page` of `lines`. `again` is the command that shows a page when its number is added ("/agents")."""
    cut = pages(lines, header=header, limit=limit)
    if page > len(cut):
        raise CommandError(f"There {'is' if len(cut) == 1 else 'are'} only {len(cut)} page"
                           f"{'' if len(cut) == 1 else 's'}: {again} {len(cut)} is the last.", code="not_found")
    body = [header] if header else []
    body += cut[page - 1]
    if len(cut) > 1:
        more = f"; {again} {page + 1} for the next" if page < len(cut) else ""
        body.append(f"Page {page} of {len(cut)}{more}.")
    return "\n".join(body)


def page_count(total: int, size: int) -> int:
    return max(1, -(-total // size))


def page_footer(page: int, size: int, total: int, again: str) -> str:
    """The footer of a page the store cut (`size` rows from offset (page - 1) * size of `total`)."""
    more = f"; {again} {page + 1} for more" if page < page_count(total, size) else ""
    return f"Page {page} of {page_count(total, size)} ({total} in all){more}."


def no_such_page(page: int, size: int, total: int) -> str:
    """The reply when the store has rows but none on page `page`."""
    return f"There is no page {page}: {page_count(total, size)} in all."
