"""Harness overhead per turn, excluding model time, against the fake OpenAI-compatible server.

Each turn goes through the whole pipeline (store, gates, triage, harness, context from the store, tools) with
the real `openai` provider talking HTTP to tests/fakes/fake_openai.py on loopback. Overhead = the turn's
duration minus the time spent inside model calls (the llm_call steps, which include the HTTP round trip).
Two shapes: a plain answer (one model call) and a tool round trip (two model calls and a tool).

    python tests/bench/harness_overhead.py --turns 300
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.logs import configure_logging
from bot.messages import InboundMessage, Sender
from bot.store import tables as t
from server.app import App
from server.settings import CHANNELS
from tests.conftest import make_settings
from tests.fakes.fake_openai import FakeOpenAI


async def _run(turns: int, with_tool: bool) -> dict[str, float]:
    async with FakeOpenAI() as fake:
        with tempfile.TemporaryDirectory() as data_dir:
            settings = make_settings(Path(data_dir), llm_provider="openai", llm_base_url=fake.url,
                                     llm_api_key="bench", llm_model="fake-model")
            app = App(settings, channels=CHANNELS.builder(()))
            await app.start()
            try:
                overheads: list[float] = []
                for n in range(turns + 20):
                    if with_tool:
                        fake.tool_call("current_time", json.dumps({"timezone": "Asia/Tokyo"}))
                    fake.reply("Here is a short answer.")
                    started = time.perf_counter()
                    outcome = await app.services.pipeline.handle(
                        InboundMessage("api", Sender(f"bench:{n % 10}"), "write me a short poem about tea"))
                    total_ms = (time.perf_counter() - started) * 1000
                    rows = await app.services.db.all(
                        select(t.step.c.duration_ms).where(t.step.c.interaction_id == outcome.interaction_id,
                                                           t.step.c.kind == "llm_call"))
                    if n >= 20:  # warm-up: imports, first connections, caches
                        overheads.append(total_ms - sum(r.duration_ms for r in rows))
            finally:
                await app.stop()
    overheads.sort()
    return {"turns": turns, "tool_round_trip": with_tool,
            "overhead_p50_ms": round(statistics.median(overheads), 3),
            "overhead_p99_ms": round(overheads[int(0.99 * (len(overheads) - 1))], 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=300)
    args = parser.parse_args()
    configure_logging("warning")
    for with_tool in (False, True):
        print(json.dumps(asyncio.run(_run(args.turns, with_tool))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
