"""What the server needs from a running channel: the one channel protocol.

Every channel implements all of it; `channels/base.py` (`BaseChannel`) gives the optional capabilities their
"cannot" defaults, so a channel overrides only what it can do: hand over the bytes of a file a user sent, show
an answer while the model writes it, show that the model is working. The kernel calls these methods directly;
it never looks for them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Protocol

from bot.messages import Attachment, OutboundMessage


class Channel(Protocol):
    type: ClassVar[str]  # the `channel.type` rows this adapter serves (every slug of that type)

    async def start(self) -> None:
        """Begin receiving (polling loops, webhook registration). Routes are mounted when it is built."""

    async def stop(self) -> None:
        """Stop receiving and let in-flight deliveries finish."""

    async def deliver(self, message: OutboundMessage) -> None:
        """Put a message into its conversation. Raise on failure; the pipeline records it."""

    def health(self) -> dict[str, Any]:
        """A small JSON-able state for /health: at least {"status": ...}."""

    async def fetch_attachment(self, attachment: Attachment, *, limit: int) -> bytes:
        """The bytes of a file a user sent (at most `limit`, or it raises `ThinklioError`)."""

    def draft(self, message: OutboundMessage) -> Callable[[str], None] | None:
        """Where the answer to `message.interaction_id` can be shown while it is written: called with the answer
        so far each time it grows; the final `deliver` of that interaction replaces it. None: no drafts here."""

    def working(self, message: OutboundMessage) -> Callable[[], None] | None:
        """Show that the model is working on the answer to `message.interaction_id` (a status line, a reaction):
        called as its model turn starts; the function returned is called once that turn's reply has been
        delivered (or when there is none) and ends the signal. Only a hint: it returns at once (the channel does
        its own sending) and its failures never reach the reply. None: no such signal here."""
