"""Load the HTTP channel: N concurrent clients post messages to a real server on loopback.

Starts `run.py serve` on a fresh data dir (SQLite, the default), creates an API key with the CLI, then each
client posts its share of messages one after another (keep-alive), each a distinct user and conversation.
Prints messages/s and latency percentiles, then checks that every message and every reply is in the store.
Bounded: stops after --messages requests or --max-seconds, whichever comes first.

Two drivers: `python` (aiohttp clients in this process) and `wrk` (Debian's wrk, a C load generator, so the
server under test is not starved of CPU by its own load on a small machine; runs for --max-seconds).

    python tests/bench/http_load.py --clients 50 --messages 4000
    python tests/bench/http_load.py --driver wrk --clients 200 --max-seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parents[2]
TEXTS = ("hello", "what time is it", "thanks!", "what's the date today", "write me a haiku", "good morning")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _client(session: aiohttp.ClientSession, url: str, key: str, client_id: int, count: int,
                  deadline: float, latencies: list[float], errors: list[str]) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    for n in range(count):
        if time.monotonic() > deadline:
            return
        body = {"text": TEXTS[n % len(TEXTS)], "user": {"id": f"bench-{client_id}"},
                "message_id": f"bench-{client_id}-{n}"}
        started = time.perf_counter()
        async with session.post(url, json=body, headers=headers) as response:
            await response.read()
            if response.status != 200:
                errors.append(f"{response.status}")
                continue
        latencies.append(time.perf_counter() - started)


async def _drive(port: int, key: str, clients: int, messages: int, max_seconds: float) -> dict[str, float]:
    url = f"http://127.0.0.1:{port}/v1/channels/api/messages"
    latencies: list[float] = []
    errors: list[str] = []
    per_client = max(1, messages // clients)
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector) as session:
        # warm-up: one message per client creates its user and conversation
        await asyncio.gather(*(_client(session, url, key, c + 10_000, 1, time.monotonic() + 30, [], [])
                               for c in range(clients)))
        started = time.perf_counter()
        deadline = time.monotonic() + max_seconds
        await asyncio.gather(*(_client(session, url, key, c, per_client, deadline, latencies, errors)
                               for c in range(clients)))
        elapsed = time.perf_counter() - started
    return {
        "clients": clients, "messages": len(latencies), "errors": len(errors), "seconds": round(elapsed, 3),
        "messages_per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 2),
        "max_ms": round(max(latencies) * 1000, 2),
    }


WRK_SCRIPT = """
local counter = 0
local tag = tostring(math.random(1, 1000000000))
local texts = {"hello", "what time is it", "thanks!", "what's the date today", "write me a haiku", "good morning"}
local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY")}
request = function()
  counter = counter + 1
  local body = string.format('{"text": "%s", "user": {"id": "wrk-%s-%d"}, "message_id": "wrk-%s-%d"}',
    texts[counter % #texts + 1], tag, counter % 200, tag, counter)
  return wrk.format("POST", "/v1/channels/api/messages", headers, body)
end
"""


def _wrk(port: int, key: str, clients: int, seconds: float) -> dict[str, float]:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed (apt-get install wrk), use --driver python")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    result = subprocess.run([wrk, "-t1", f"-c{clients}", f"-d{max(1, int(seconds))}s", "--latency", "-s", script.name,
                             f"http://127.0.0.1:{port}"], capture_output=True, text=True,
                            env={**os.environ, "BENCH_KEY": key}, check=True)
    out = result.stdout

    def ms(label: str) -> float:
        value = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert value is not None, out
        number, unit = float(value.group(1)), value.group(2)
        return round(number / 1000 if unit == "us" else number * 1000 if unit == "s" else number, 2)

    total = re.search(r"(\d+) requests in ([\d.]+)s", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    assert total is not None, out
    return {"clients": clients, "driver": "wrk", "messages": int(total.group(1)),
            "errors": int(errors.group(1)) if errors else 0, "seconds": float(total.group(2)),
            "messages_per_second": round(int(total.group(1)) / float(total.group(2)), 1),
            "p50_ms": ms("50"), "p99_ms": ms("99")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--max-seconds", type=float, default=60)
    parser.add_argument("--driver", default="python", choices=["python", "wrk"])
    parser.add_argument("--synchronous", default="NORMAL", choices=["NORMAL", "FULL"],
                        help="SQLite synchronous mode for the server under test")
    args = parser.parse_args()
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="thinklio-bench-") as data_dir:
        env = {**os.environ, "THINKLIO_DATA_DIR": data_dir, "THINKLIO_PORT": str(port),
               "THINKLIO_LOG_LEVEL": "warning", "THINKLIO_RATE_LIMIT_PER_MINUTE": "1000000",
               "THINKLIO_RATE_LIMIT_BURST": "1000000", "THINKLIO_SQLITE_SYNCHRONOUS": args.synchronous,
               # the pipeline and the store are under test, not a model: Tier 3 answers "no model" at once
               "THINKLIO_LLM_PROVIDER": "none"}
        created = subprocess.run([sys.executable, "run.py", "apikey", "create", "--name", "bench"], cwd=REPO,
                                 env=env, capture_output=True, text=True, check=True)
        key = created.stdout.strip().splitlines()[-1]
        server = subprocess.Popen([sys.executable, "run.py", "serve"], cwd=REPO, env=env,
                                  stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        break
                except OSError:
                    time.sleep(0.1)
            if args.driver == "wrk":
                result = _wrk(port, key, args.clients, args.max_seconds)
            else:
                result = asyncio.run(_drive(port, key, args.clients, args.messages, args.max_seconds))
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        with sqlite3.connect(Path(data_dir) / "thinklio.db") as db:
            inbound = db.execute("select count(*) from message where direction = 'in'").fetchone()[0]
            replies = db.execute("select count(*) from message where direction = 'out'").fetchone()[0]
            unfinished = db.execute(
                "select count(*) from interaction where status in ('received', 'running')").fetchone()[0]
        result.update({"stored_inbound": inbound, "stored_replies": replies, "unfinished": unfinished,
                       "synchronous": args.synchronous})
    print(json.dumps(result))
    # every answered request (plus the python driver's warm-up) has its message and reply in the store
    expected = result["messages"] - result["errors"] + (args.clients if args.driver == "python" else 0)
    return 0 if inbound >= expected and replies >= expected and unfinished == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
