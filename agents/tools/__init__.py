"""The tool registry and the built-in tools."""

from agents.tools.builtin import BUILTIN_TOOLS
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


def default_tools() -> ToolRegistry:
    registry = ToolRegistry()
    registry.register(*BUILTIN_TOOLS)
    return registry


__all__ = ["TRUST_RANK", "Tool", "ToolContext", "ToolRegistry", "TrustLevel", "default_tools", "tool",
           "tool_from_function", "validate_arguments"]
