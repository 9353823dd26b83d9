"""How long a GDPR deletion takes for a user with many messages, and how long the preview (`/user delete ID`,
which counts) takes. The user talks through triage (no model), in their own chat and in a group that others keep;
other users' traffic is in the same tables, as in a real store.

    python tests/bench/user_delete_bench.py --messages 2000 --others 20
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.governance import Actor
from bot.logs import configure_logging
from bot.messages import InboundMessage, Sender
from bot.store import tables as t
from server.app import App
from server.settings import CHANNELS
from tests.conftest import make_settings


async def _run(messages: int, others: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as data_dir:
        app = App(make_settings(Path(data_dir), admins=["http:boss"]), channels=CHANNELS.builder(()))
        await app.start()
        try:
            handle = app.services.pipeline.handle

            async def say(user: str, text: str, room: str | None = None) -> None:
                await handle(InboundMessage(channel="api", sender=Sender(user, user.title()), text=text,
                                            conversation_key=room))

            await say("boss", "hello")
            for n in range(messages):
                await say("alice", f"what time is it in Tokyo {n}", room="team-room" if n % 4 == 0 else None)
                if n % max(1, messages // others) == 0:
                    await say(f"other{n}", "what time is it", room="team-room")
            row = await app.services.db.one(select(t.channel_identity.c.user_id)
                                            .where(t.channel_identity.c.external_id == "alice"))
            assert row is not None
            account = await app.services.directory.account_by_slug("default")
            assert account is not None
            actor = Actor("user:boss", account.id, None, is_platform_admin=True, channel="bench")
            erasure = app.services.governance.erasure
            started = time.perf_counter()
            await erasure.propose(actor, row.user_id)
            preview = time.perf_counter() - started
            started = time.perf_counter()
            await erasure.confirm(actor, row.user_id)
            deletion = time.perf_counter() - started
            total = await app.services.db.one(select(func.count()).select_from(t.message))
            return {"messages_in_store": float(total[0]) if total else 0.0, "preview_s": preview,
                    "delete_s": deletion}
        finally:
            await app.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000, help="messages the deleted user sent")
    parser.add_argument("--others", type=int, default=20, help="other users speaking in the group")
    args = parser.parse_args()
    configure_logging("warning")
    result = asyncio.run(_run(args.messages, args.others))
    print(f"user with {args.messages} messages ({int(result['messages_in_store'])} messages in the store): "
          f"preview {result['preview_s'] * 1000:.0f} ms, deletion {result['delete_s'] * 1000:.0f} ms")


if __name__ == "__main__":
    main()
