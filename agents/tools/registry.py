"""Tools: plain typed async functions whose docstring and signature are their description and JSON schema.

    @tool(trust="read")
    async def current_time(ctx: ToolContext, timezone: str | None = None) -> str:
        '''The current date and time.

        Args:
            timezone: an IANA zone such as Europe/Berlin; the user's own when omitted.
        '''

The first parameter is the `ToolContext` (who is asking, from where); the rest become the schema. Trust
levels follow the reference guide: `read` < `write` < `admin`. A tool that writes the user's data names the
arguments that must be the user's own words (`grounded=("task",)`, see grounding.py), and returns a sentence
the user can read: a write tool's successful result is shown to the user with the model's answer. Tools
registered by manifest later (external HTTP tools) register here too, as `Tool` values with their own schema
and handler.
"""

from __future__ import annotations

import inspect
import re
import types
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from agents.llm.base import ToolSpec
from bot.turn import Turn

TrustLevel = Literal["read", "write", "admin"]
TRUST_RANK: dict[str, int] = {"read": 0, "write": 1, "admin": 2}


@dataclass(frozen=True, slots=True)
class ToolContext:
    """What a tool may know about the call: the turn (user, agent, conversation, time zone) and the services."""

    turn: Turn
    services: Any  # bot.services.Services; typed loosely so tools do not import the app


Handler = Callable[..., Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]
    trust: TrustLevel
    handler: Handler
    timeout: float | None = None
    grounded: tuple[str, ...] = ()  # arguments whose values must come from what the user said

    def spec(self) -> ToolSpec:
        return ToolSpec(self.name, self.description, self.parameters)


_SIMPLE = {str: "string", int: "integer", float: "number", bool: "boolean"}


def _schema_of(annotation: Any) -> tuple[dict[str, Any], bool]:
    """JSON schema for a parameter annotation, and whether None is allowed."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        nullable = len(members) < len(get_args(annotation))
        if len(members) != 1:
            raise TypeError(f"unsupported union {annotation!r}")
        schema, _ = _schema_of(members[0])
        return schema, nullable
    if origin is Literal:
        values = list(get_args(annotation))
        return {"type": _SIMPLE[type(values[0])], "enum": values}, False
    if origin is list:
        (item,) = get_args(annotation) or (str,)
        return {"type": "array", "items": _schema_of(item)[0]}, False
    if annotation in _SIMPLE:
        return {"type": _SIMPLE[annotation]}, False
    raise TypeError(f"unsupported parameter type {annotation!r}")


_ARG_LINE = re.compile(r"^\s+(\w+):\s*(.+)$")


def _docs(function: Callable[..., Any]) -> tuple[str, dict[str, str]]:
    doc = inspect.getdoc(function) or ""
    summary, _, rest = doc.partition("\n\n")
    described: dict[str, str] = {}
    in_args = False
    for line in rest.splitlines():
        if line.strip() == "Args:":
            in_args = True
            continue
        if in_args and (match := _ARG_LINE.match(line)):
            described[match.group(1)] = match.group(2).strip()
    return " ".join(summary.split()), described


def tool_from_function(function: Handler, *, trust: TrustLevel = "read", name: str | None = None,
                       timeout: float | None = None, grounded: tuple[str, ...] = ()) -> Tool:
    if trust not in TRUST_RANK:
        raise ValueError(f"unknown trust level {trust!r}")
    hints = get_type_hints(function)
    params = list(inspect.signature(function).parameters.values())
    if not params or hints.get(params[0].name) is not ToolContext:
        raise TypeError(f"{function.__name__}: the first parameter must be `ctx: ToolContext`")
    summary, described = _docs(function)
    if not summary:
        raise TypeError(f"{function.__name__}: a tool needs a docstring; it is the model's description")
    properties: dict[str, Any] = {}
    required: list[str] = []
    for param in params[1:]:
        schema, nullable = _schema_of(hints[param.name])
        if param.name in described:
            schema = {**schema, "description": described[param.name]}
        if param.default is not inspect.Parameter.empty and param.default is not None:
            schema = {**schema, "default": param.default}
        properties[param.name] = schema
        if param.default is inspect.Parameter.empty and not nullable:
            required.append(param.name)
    unknown = [arg for arg in grounded if arg not in properties]
    if unknown:
        raise TypeError(f"{function.__name__}: grounded names no parameter {', '.join(unknown)}")
    parameters = {"type": "object", "properties": properties, "required": required, "additionalProperties": False}
    return Tool(name or function.__name__, summary, parameters, trust, function, timeout, grounded)


def tool(*, trust: TrustLevel = "read", name: str | None = None, timeout: float | None = None,
         grounded: tuple[str, ...] = ()) -> Callable[[Handler], Tool]:
    """Decorator: turn an async function into a `Tool`."""

    def wrap(function: Handler) -> Tool:
        return tool_from_function(function, trust=trust, name=name, timeout=timeout, grounded=grounded)

    return wrap


class ToolRegistry:
    def __init__(self) -> None:
        self._tools: dict[str, Tool] = {}

    def register(self, *tools: Tool) -> None:
        for item in tools:
            if item.name in self._tools:
                raise ValueError(f"tool {item.name!r} is registered twice")
            self._tools[item.name] = item

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def catalogue(self) -> dict[str, str]:
        """Every tool's name and the trust it needs (what an administrator may assign)."""
        return {name: item.trust for name, item in self._tools.items()}

    def offered(self, assigned: dict[str, str], access: str) -> list[Tool]:
        """The agent's assigned tools a model with `access` ("none" or a trust level) may be offered, by name."""
        if access == "none":
            return []
        ceiling = TRUST_RANK[access]
        return [tool for name in sorted(assigned) if (tool := self._tools.get(name)) is not None
                and TRUST_RANK[tool.trust] <= ceiling]


def validate_arguments(item: Tool, arguments: dict[str, Any]) -> str | None:
    """Why `arguments` do not fit the tool's schema, or None. Small and strict: the model's mistakes go back to
    it as the tool result, so it can correct them."""
    properties: dict[str, Any] = item.parameters.get("properties", {})
    unknown = sorted(set(arguments) - set(properties))
    if unknown:
        return f"unknown argument(s): {', '.join(unknown)}"
    missing = [name for name in item.parameters.get("required", []) if name not in arguments]
    if missing:
        return f"missing argument(s): {', '.join(missing)}"
    checks = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "array": list}
    for name, value in arguments.items():
        schema = properties[name]
        if value is None:
            continue
        expected = checks.get(schema.get("type", ""))
        if expected is not None and (not isinstance(value, expected) or (
                schema["type"] in ("integer", "number") and isinstance(value, bool))):
            return f"argument {name!r} must be of type {schema['type']}"
        if "enum" in schema and value not in schema["enum"]:
            return f"argument {name!r} must be one of {schema['enum']}"
    return None
