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
        parameters = self.args_model.model_json_schema()
        parameters.pop("title", None)
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
