"""Handled Slack events per second through the Events API path, against the fake Web API on loopback.

In one process: the app (SQLite on a fresh data dir, no model: triage answers) behind a real aiohttp server,
the fake Web API receiving replies from the real `AsyncWebClient`. C concurrent senders post signed DM events.
handled/s: events whose reply reached the fake, from the first post to the last reply.

    python tests/bench/slack_events_bench.py --events 1000 --clients 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp.test_utils import TestServer
from slack_sdk.signature import SignatureVerifier

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from channels.slack.channel import PATH
from server.app import App
from server.settings import CHANNELS
from tests.conftest import make_settings
from tests.fakes.fake_slack import SIGNING_SECRET, TEAM, FakeSlack, slack_overrides

TEXTS = ("hello", "what time is it", "thanks!", "good morning")


async def main(events: int, clients: int) -> None:
    fake = await FakeSlack().start()
    with tempfile.TemporaryDirectory() as tmp:
        settings = make_settings(Path(tmp) / "var", **slack_overrides(fake))
        app = App(settings, channels=CHANNELS.builder(("slack",)))
        server = TestServer(app.web)
        await server.start_server()
        signer = SignatureVerifier(SIGNING_SECRET)
        queue: asyncio.Queue[int] = asyncio.Queue()
        for n in range(events):
            queue.put_nowait(n)

        async def sender(session: aiohttp.ClientSession) -> None:
            while not queue.empty():
                n = queue.get_nowait()
                body = json.dumps({"type": "event_callback", "team_id": TEAM, "event_id": f"Ev{n:09d}", "event": {
                    "type": "message", "channel_type": "im", "channel": f"D{n % 50:04d}", "user": f"U{n % 50:04d}",
                    "text": TEXTS[n % len(TEXTS)], "ts": f"1700000000.{n:06d}"}}).encode()
                ts = str(int(time.time()))
                headers = {"X-Slack-Request-Timestamp": ts, "Content-Type": "application/json",
                           "X-Slack-Signature": signer.generate_signature(timestamp=ts, body=body)}
                async with session.post(server.make_url(PATH), data=body, headers=headers) as response:
                    assert response.status == 200, await response.text()

        started = time.perf_counter()
        async with aiohttp.ClientSession() as session:
            await asyncio.gather(*(sender(session) for _ in range(clients)))
        accepted = time.perf_counter() - started
        while len(fake.posted()) < events and time.perf_counter() - started < 300:
            await asyncio.sleep(0.01)
        handled = time.perf_counter() - started
        print(f"events={events} clients={clients} accepted/s={events / accepted:.0f} "
              f"handled/s={len(fake.posted()) / handled:.0f} replies={len(fake.posted())}")
        await server.close()
        await fake.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.events, args.clients))
