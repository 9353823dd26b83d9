"""Knowledge at scale: load N facts over 1,000 users, then time `memory_search` (embedding included).

For each size: a fresh data dir (SQLite + embedded Chroma), facts written to SQL in batches and indexed by
`Knowledge.sync()` (batches of 2,000: the next is embedded while the index writes one), timed together as the
ingest rate; then --queries searches, each by a random user over their scopes (own, agent, account), every
query text distinct so the embedding cache never answers; p50/p95 of `Knowledge.search`, which is the body of
the memory_search tool, and the p50 of each of its steps. RSS is the process's peak. Bounded: ingest stops at
--max-seconds per size and reports what it loaded.

Fact texts mix values many users share ("favourite colour is blue": embedded once, then from the cache or the
batch's de-duplication) with values nobody shares (codes, names with numbers): --unique sets the share.

    python tests/bench/knowledge_bench.py --sizes 10000 100000 --queries 300
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.ids import new_id
from knowledge.facts import Scopes
from knowledge.index import Partition
from knowledge.service import Knowledge
from server.app import App
from server.settings import load_settings

USERS = 1000
SHARED = {
    "favourite colour": ["blue", "green", "red", "purple", "yellow", "black"],
    "favourite food": ["pizza", "sushi", "pasta", "tacos", "curry", "salad"],
    "home city": ["Lisbon", "Berlin", "Paris", "Tokyo", "Lagos", "Lima", "Oslo"],
    "job": ["teacher", "nurse", "engineer", "designer", "chef", "driver"],
    "dog's name": ["Rex", "Bella", "Max", "Luna", "Charlie"],
    "preferred language": ["English", "Portuguese", "German", "Japanese"],
}
UNIQUE = ["locker code", "wifi password", "car plate", "gym membership number", "dentist's phone number",
          "parking bay", "flat number", "library card", "bike lock code", "frequent flyer number"]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def fact_row(rng: random.Random, account: str, user: int, unique_share: float, now: Any) -> dict[str, Any]:
    if rng.random() < unique_share:
        subject = rng.choice(UNIQUE)
        value = f"{rng.choice('ABCDEFGHJK')}{rng.randrange(10_000, 99_999)}"
    else:
        subject = rng.choice(list(SHARED))
        value = rng.choice(SHARED[subject])
    return {"id": new_id("kfa"), "account_id": account, "scope": "user", "scope_id": f"usr_bench_{user:04d}",
            "agent_id": None, "subject": subject, "predicate": "is", "value": value, "category": None,
            "confidence": 1.0, "locale": None, "source": "admin", "source_interaction_id": None,
            "superseded_by": None, "archived": 0, "index_state": "pending", "created_at": now, "updated_at": now}


async def run_size(size: int, args: argparse.Namespace) -> dict[str, float]:
    rng = random.Random(size)
    with tempfile.TemporaryDirectory(prefix="kbench-") as tmp:
        settings = load_settings(_env_file=None, data_dir=Path(tmp), llm_provider="none",
                                 model_cache_dir=Path(__file__).resolve().parents[2] / "var" / "models",
                                 log_level="warning")
        app = App(settings, extensions=[])
        await app.open_store()
        s = app.services
        account = (await s.directory.account_by_slug("default")).id  # type: ignore[union-attr]
        agent = (await s.directory.agent_by_slug(account, "assistant")).id  # type: ignore[union-attr]
        knowledge = Knowledge(s.db, s.clock, settings)
        await knowledge.embedder.warm()
        started = time.perf_counter()
        loaded = 0
        while loaded < size and time.perf_counter() - started < args.max_seconds:
            batch = min(args.batch, size - loaded)
            rows = [fact_row(rng, account, (loaded + i) % USERS, args.unique, s.clock.now()) for i in range(batch)]
            await knowledge.facts.add_many(rows)
            await knowledge.sync()  # in its own batches: the next is embedded while the index writes one
            loaded += batch
            print(f"\r  {size}: {loaded} facts, {loaded / (time.perf_counter() - started):.0f}/s, "
                  f"rss {rss_mb():.0f} MB", end="", file=sys.stderr, flush=True)
        ingest_seconds = time.perf_counter() - started
        print(file=sys.stderr)
        # the agent's and the account's own facts, which every query's scopes include
        for scope, scope_id in (("agent", agent), ("account", account)):
            await knowledge.facts.remember(Partition(account, scope, scope_id), "office wifi", "guest-net",
                                           now=s.clock.now(), source="admin")
        await knowledge.sync()
        await knowledge.index.warm()  # as Knowledge.start does on a server with an index
        timings: list[float] = []
        parts: dict[str, list[float]] = {"partitions": [], "embedding": [], "chroma": [], "sql re-read": []}
        for i in range(args.queries):
            user = f"usr_bench_{rng.randrange(USERS):04d}"
            scopes = Scopes(account, (Partition(account, "user", user), Partition(account, "agent", agent),
                                      Partition(account, "account", account)))
            subject = rng.choice([*SHARED, *UNIQUE])
            query = f"what is my {subject}, question {i}"  # distinct: no query comes from the cache
            t0 = time.perf_counter()
            await knowledge.search(scopes, query, limit=5)
            timings.append((time.perf_counter() - t0) * 1000)
            # the same steps one by one, on another distinct text, to show where the time goes
            marks = [time.perf_counter()]
            partitions = await knowledge.populated(scopes)
            marks.append(time.perf_counter())
            vector = await knowledge.embedder.embed_one(f"{query} (again)")
            marks.append(time.perf_counter())
            found = await knowledge.index.query(partitions, vector, 14)
            marks.append(time.perf_counter())
            await knowledge.facts.by_ids(scopes, [item_id for item_id, _ in found])
            marks.append(time.perf_counter())
            for name, start, end in zip(parts, marks, marks[1:], strict=False):
                parts[name].append((end - start) * 1000)
        await knowledge.stop()
        await app.close_store()
    timings.sort()
    return {"facts": loaded, "ingest_per_s": loaded / ingest_seconds, "ingest_s": ingest_seconds,
            "p50_ms": statistics.median(timings), "p95_ms": timings[int(len(timings) * 0.95) - 1],
            "rss_mb": rss_mb(), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "parts_p50_ms": {name: statistics.median(values) for name, values in parts.items()}}


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--batch", type=int, default=10_000, help="facts per SQL write (then one sync)")
    parser.add_argument("--unique", type=float, default=0.3, help="share of facts with a value nobody shares")
    parser.add_argument("--max-seconds", type=float, default=900, help="ingest time limit per size")
    args = parser.parse_args()
    print(f"{'facts':>8} {'ingest/s':>9} {'p50 ms':>7} {'p95 ms':>7} {'RSS MB':>7} {'peak MB':>8}")
    for size in args.sizes:
        r = await run_size(size, args)
        print(f"{r['facts']:>8.0f} {r['ingest_per_s']:>9.0f} {r['p50_ms']:>7.1f} {r['p95_ms']:>7.1f} "
              f"{r['rss_mb']:>7.0f} {r['peak_rss_mb']:>8.0f}", flush=True)
        print("         search p50 by step: " + ", ".join(f"{name} {ms:.1f} ms"
                                                        for name, ms in r["parts_p50_ms"].items()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
