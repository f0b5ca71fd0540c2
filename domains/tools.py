"""Tools: a pydantic argument model, a read/write flag and an implementation side by side."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast, get_type_hints

from pydantic import BaseModel, ConfigDict

from domains.state import State

A = TypeVar("A", bound=BaseModel)


class ToolArgs(BaseModel):
    """Base for tool argument models: unknown arguments are refused, never ignored.

    Use `int | float` (not `float`) where data may hold either: a replayed state must keep
    the exact JSON types of its arguments.
    """

    model_config = ConfigDict(extra="forbid")


class NoArgs(ToolArgs):
    """For tools that take no arguments."""


ToolFunction = Callable[[State, A], Any]


@dataclass(frozen=True)
class Tool(Generic[A]):
    """One tool. `fn` raises `ToolError` for an invalid request and must not write before it."""

    name: str
    description: str
    args_model: type[A]
    writes: bool
    fn: ToolFunction[A]

    def schema(self) -> dict[str, Any]:
        """The OpenAI function-tool schema of this tool."""
        parameters = _without_titles(self.args_model.model_json_schema())
        parameters.setdefault("properties", {})
        parameters.setdefault("required", [])
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": parameters,
            },
        }


_NAME_MAPS = frozenset({"properties", "$defs", "definitions", "patternProperties"})


def _without_titles(schema: Any) -> Any:
    """The schema without pydantic's generated `title`s: noise to a model, and sent each call.

    Keys of `properties` (and other name maps) are argument names, kept even if one is
    called "title"; only the `title` annotation of a schema object goes.
    """
    if isinstance(schema, list):
        return [_without_titles(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    cleaned: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if key in _NAME_MAPS and isinstance(value, dict):
            cleaned[key] = {name: _without_titles(sub) for name, sub in value.items()}
        else:
            cleaned[key] = _without_titles(value)
    return cleaned


def tool(*, writes: bool = False, name: str | None = None) -> Callable[[ToolFunction[A]], Tool[A]]:
    """Make a `Tool` from `fn(state, args)`: the args model comes from the annotation."""

    def wrap(fn: ToolFunction[A]) -> Tool[A]:
        hints = get_type_hints(fn)
        parameters = list(inspect.signature(fn).parameters)
        if len(parameters) != 2:
            raise TypeError(f"tool {fn.__name__} must take (state, args)")
        args_model = hints[parameters[1]]
        if not (isinstance(args_model, type) and issubclass(args_model, BaseModel)):
            raise TypeError(f"tool {fn.__name__}: args must be annotated with a pydantic model")
        return Tool(
            name=name or fn.__name__,
            description=inspect.cleandoc(fn.__doc__ or "").strip(),
            args_model=cast("type[A]", args_model),
            writes=writes,
            fn=fn,
        )

    return wrap
