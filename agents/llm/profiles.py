"""Model profiles: what the harness may ask of a model, by provider and model name.

A profile says how large the model's context window is, how long an answer may be, which tools it is offered
(none, or up to a trust level), how many steps a turn may take, and for small models a shorter system prompt.
The harness fits every request to its profile, so a 135M model is never handed eleven tool schemas and a
conversation never overflows a window it cannot see.

Built-in profiles cover the embedded model and the common endpoint families; `THINKLIO_LLM_PROFILES` overrides
or adds any of them by model-name pattern (`fnmatch`, case-insensitive), the first match winning.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from typing import Any

from config.settings import ProfileOverride, ToolAccess


@dataclass(frozen=True, slots=True)
class ModelProfile:
    name: str
    context_tokens: int  # the model's window: prompt and answer together
    max_answer_tokens: int  # the longest answer asked for; reserved out of the window
    tools: ToolAccess  # the highest trust level of the tools offered; "none" offers no tools at all
    max_steps: int  # model calls per turn
    # For small models: replaces the agent's prompt and the lines about the user and the time, which a small model
    # repeats back; "{name}" is the agent's name. Knowledge lines are still added.
    system_prompt: str | None = None
    history_tokens: int | None = None  # earlier messages, at most; None: THINKLIO_HARNESS_HISTORY_TOKENS
    tool_share: float = 0.25  # of the window, at most, for tool schemas
    knowledge_share: float = 0.3  # of the window, at most, for knowledge lines
    repeat_penalty: float | None = None  # the embedded model loops without one
    embedded: bool = False  # the built-in model: replies that fail point to a better one

    @property
    def prompt_tokens(self) -> int:
        """What the prompt may use: the window less the answer."""
        return max(0, self.context_tokens - self.max_answer_tokens)


EMBEDDED_PROMPT = "You are {name}, a helpful assistant. Give short, correct answers."

# Measured (tests/bench/harness_quality.py --tool-probe): SmolLM2-135M calls a tool for most messages whether
# or not it fits, and repeats it; it answers small talk, jokes and simple questions well without tools. Given
# any history it carries the earlier answers' topic and style into the next one (4 of 9 answers off topic with
# the last few exchanges, 1 in 12 without, on a tuning set apart from the bench's), so it gets none.
EMBEDDED = ModelProfile(name="embedded", context_tokens=2048, max_answer_tokens=200, tools="none", max_steps=1,
                        system_prompt=EMBEDDED_PROMPT, history_tokens=0, knowledge_share=0.4, repeat_penalty=1.1,
                        embedded=True)

# Endpoint models: a conservative window for names we do not know (Ollama's own default is smaller still; raise
# it there with num_ctx and here with THINKLIO_LLM_PROFILES).
# Its answer length and step limit are THINKLIO_LLM_MAX_TOKENS and THINKLIO_HARNESS_MAX_STEPS.
ENDPOINT = ModelProfile(name="endpoint", context_tokens=8192, max_answer_tokens=512, tools="admin", max_steps=6)

# (pattern, window). Patterns match anywhere in the name, so "openai/gpt-4o-mini" and "gpt-4o-mini" both match.
KNOWN_WINDOWS: tuple[tuple[str, int], ...] = (
    ("*gpt-4.1*", 1_000_000), ("*gpt-5*", 400_000), ("*gpt-4o*", 128_000), ("*o[134]-*", 200_000),
    ("*o[134]", 200_000), ("*claude*", 200_000), ("*gemini*", 1_000_000), ("*llama-3.[123]*", 128_000),
    ("*llama3.[123]*", 128_000), ("*qwen3*", 32_768), ("*qwen2.5*", 32_768), ("*mistral*", 32_768),
    ("*mixtral*", 32_768), ("*deepseek*", 64_000), ("*phi-4*", 16_384), ("*phi4*", 16_384), ("*gemma*", 8192),
)


def apply(override: ProfileOverride, profile: ModelProfile, name: str) -> ModelProfile:
    values: dict[str, Any] = {k: v for k, v in override.model_dump().items() if v is not None}
    return replace(profile, name=name, **values)


def built_in(provider: str, model: str) -> ModelProfile:
    lowered = model.lower()
    if provider == "local":
        # The packaged SmolLM2 is the embedded default; another GGUF (THINKLIO_LLM_MODEL_PATH) is the operator's
        # choice of a bigger model, treated as an endpoint model in the local window.
        return EMBEDDED if "smollm" in lowered else replace(ENDPOINT, name="local")
    for pattern, window in KNOWN_WINDOWS:
        if fnmatchcase(lowered, pattern):
            return replace(ENDPOINT, name=pattern.strip("*"), context_tokens=window)
    return ENDPOINT


class Profiles:
    """The profile for each model the harness calls: a built-in one, then the first matching override."""

    def __init__(self, overrides: dict[str, ProfileOverride] | None = None, *, local_context_tokens: int,
                 answer_tokens: int, max_steps: int) -> None:
        """`local_context_tokens`: the window the local model is loaded with (THINKLIO_LLM_CONTEXT_TOKENS);
        `answer_tokens` and `max_steps` (THINKLIO_LLM_MAX_TOKENS, THINKLIO_HARNESS_MAX_STEPS): an endpoint
        model's, and the most any model gets."""
        self._overrides = [(pattern.lower(), override) for pattern, override in (overrides or {}).items()]
        self._local_context_tokens = local_context_tokens
        self._answer_tokens = answer_tokens
        self._max_steps = max_steps
        self._cache: dict[tuple[str, str], ModelProfile] = {}

    def for_model(self, provider: str, model: str) -> ModelProfile:
        key = (provider, model)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._resolve(provider, model)
        return found

    def _resolve(self, provider: str, model: str) -> ModelProfile:
        profile = built_in(provider, model)
        if provider == "local":
            profile = replace(profile, context_tokens=self._local_context_tokens)
        if profile.embedded:
            profile = replace(profile,
                              max_answer_tokens=min(profile.max_answer_tokens, self._answer_tokens),
                              max_steps=min(profile.max_steps, self._max_steps))
        else:
            profile = replace(profile, max_answer_tokens=self._answer_tokens, max_steps=self._max_steps)
        lowered = model.lower()
        for pattern, override in self._overrides:
            if fnmatchcase(lowered, pattern) or (provider == "local" and pattern == "embedded"):
                profile = apply(override, profile, pattern)
                break
        if provider == "local":
            # Never more than the window the model is loaded with.
            profile = replace(profile, context_tokens=min(profile.context_tokens, self._local_context_tokens))
        return replace(profile, max_answer_tokens=min(profile.max_answer_tokens, profile.context_tokens // 2))
