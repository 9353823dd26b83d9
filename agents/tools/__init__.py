"""The tool registry; the built-in tools (`builtin.py`) are installed by `agents/core.py`."""

from agents.tools.registry import (
    TRUST_RANK,
    Tool,
    ToolContext,
    ToolRegistry,
    TrustLevel,
    tool,
    tool_from_function,
    validate_arguments,
)

__all__ = ["TRUST_RANK", "Tool", "ToolContext", "ToolRegistry", "TrustLevel", "tool",
           "tool_from_function", "validate_arguments"]
