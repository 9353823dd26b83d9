"""Handled Telegram updates per second through the webhook path, against the fake Bot API server on loopback.

The server is `run.py serve` in its own process (webhook mode, SQLite on a fresh data dir, no model: triage
answers), pointed at the fake Bot API (tests/fakes/fake_telegram.py) that runs in this process and receives the
replies over real HTTP from real aiogram. C concurrent "Telegram" senders post updates with the secret header,
as Telegram does (up to 40 connections per bot); each update is a private text from one of U users. Figures:
- accepted/s: webhook requests answered 200 (the update is stored; Telegram may forget it);
- handled/s: updates whose reply reached the fake Bot API, from the first post to the last reply.
Bounded: --updates or --max-seconds, whichever comes first; loopback only.

    python tests/bench/telegram_webhook_bench.py --updates 3000 --clients 40
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from channels.telegram.webhook import PATH, SECRET_HEADER
from tests.fakes.fake_telegram import WEBHOOK_SECRET, FakeTelegram, message_update

REPO = Path(__file__).resolve().parents[2]
TEXTS = ("hello", "what time is it", "thanks!", "what's the date today", "good morning", "hi there")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def _sender(session: aiohttp.ClientSession, url: str, updates: itertools.count[int], total: int, users: int,
                  deadline: float, latencies: list[float], errors: list[str]) -> None:
    headers = {SECRET_HEADER: WEBHOOK_SECRET, "Content-Type": "application/json"}
    while (n := next(updates)) < total and time.monotonic() < deadline:
        user = 10_000 + n % users
        update = message_update(TEXTS[n % len(TEXTS)], chat_id=user, message_id=n + 1, update_id=n + 1,
                                user={"id": user, "is_bot": False, "first_name": f"User {user}"})
        started = time.perf_counter()
        async with session.post(url, data=json.dumps(update), headers=headers) as response:
            await response.read()
            if response.status != 200:
                errors.append(str(response.status))
        latencies.append((time.perf_counter() - started) * 1000)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cpu_seconds(pid: int) -> float | None:
    """The process's user + system CPU time (Linux), to tell server cost from a busy machine's waiting."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _wait_ready(session: aiohttp.ClientSession, base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120  # the first import of aiogram is slow on a small machine
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            async with session.get(f"{base}/health") as response:
                body = await response.json()
                if body["channels"].get("telegram", {}).get("status") == "running":
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise SystemExit("the server did not become ready")


async def _run(total: int, clients: int, users: int, max_seconds: float) -> dict[str, object]:
    fake = await FakeTelegram().start()
    port = _free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        env = {**os.environ, "THINKLIO_DATA_DIR": data_dir, "THINKLIO_PORT": str(port),
               "THINKLIO_LOG_LEVEL": "warning", "THINKLIO_LLM_PROVIDER": "none",
               "THINKLIO_RATE_LIMIT_PER_MINUTE": "1000000", "THINKLIO_RATE_LIMIT_BURST": "1000000",
               "THINKLIO_TELEGRAM_TOKEN": fake.token, "THINKLIO_TELEGRAM_API_BASE": fake.url,
               "THINKLIO_TELEGRAM_MODE": "webhook", "THINKLIO_TELEGRAM_WEBHOOK_URL": "https://bench.example.test/hook",
               "THINKLIO_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET}
        server = subprocess.Popen([sys.executable, str(REPO / "run.py"), "serve"], cwd=data_dir, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        url = f"{base}{PATH}"
        latencies: list[float] = []
        errors: list[str] = []
        try:
            connector = aiohttp.TCPConnector(limit=clients)
            async with aiohttp.ClientSession(connector=connector) as session:
                await _wait_ready(session, base, server)
                # Warm-up: first connections, caches, every user's identity and conversation rows.
                warm = itertools.count(total)
                await asyncio.gather(*(_sender(session, url, warm, total + users, users, time.monotonic() + 60,
                                               [], errors) for _ in range(clients)))
                while len(fake.sent()) < users and server.poll() is None:
                    await asyncio.sleep(0.01)
                baseline = len(fake.sent())
                cpu_before = _cpu_seconds(server.pid)
                started = time.perf_counter()
                deadline = time.monotonic() + max_seconds
                counter = itertools.count(0)
                await asyncio.gather(*(_sender(session, url, counter, total, users, deadline, latencies, errors)
                                       for _ in range(clients)))
                accepted_seconds = time.perf_counter() - started
                accepted = len(latencies)
                while len(fake.sent()) - baseline < accepted and time.monotonic() < deadline + 30:
                    await asyncio.sleep(0.005)
                handled_seconds = time.perf_counter() - started
                handled = len(fake.sent()) - baseline
                cpu_after = _cpu_seconds(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
            await fake.close()
    return {
        "updates": accepted, "clients": clients, "users": users, "errors": len(errors),
        "accepted_per_s": round(accepted / accepted_seconds, 1),
        "handled": handled, "handled_per_s": round(handled / handled_seconds, 1),
        "webhook_p50_ms": round(_percentile(latencies, 0.5), 2),
        "webhook_p99_ms": round(_percentile(latencies, 0.99), 2),
        "server_cpu_ms_per_update": None if cpu_before is None or cpu_after is None or not handled
        else round((cpu_after - cpu_before) * 1000 / handled, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--updates", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    args = parser.parse_args()
    result = asyncio.run(_run(args.updates, args.clients, args.users, args.max_seconds))
    print(json.dumps(result))
    return 0 if result["errors"] == 0 and result["handled"] == result["updates"] else 1


if __name__ == "__main__":
    sys.exit(main())
