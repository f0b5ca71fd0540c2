"""Tools: a pydantic argument model, a read/write flag and an implementation side by side."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar, cast, get_type_hints

from pydantic import BaseModel, ConfigDict, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from domains.state import State

A = TypeVar("A", bound=BaseModel)


class ToolArgs(BaseModel):
    """Base for tool argument models: exact JSON types, unknown arguments refused.

    Strict, as the reference judges arguments: `"3"`, `3.0` and `true` are not integers, a
    string field takes no number, so a replayed state holds exactly the types of the call.
    For money use `Number` or `FiniteNumber` (an int or a float, kept as given), not `float`.
    """

    model_config = ConfigDict(extra="forbid", strict=True)


class NestedArgs(BaseModel):
    """Base for objects inside tool arguments: exact types; unknown keys ignored, not kept.

    As the reference does: a flight choice that also names its origin is accepted, and only
    the declared fields reach the tool (and the state). The schema still asks models for no
    other keys.
    """

    model_config = ConfigDict(
        extra="ignore", strict=True, json_schema_extra={"additionalProperties": False}
    )


class NoArgs(ToolArgs):
    """For tools that take no arguments."""


def exact_types(*kinds: type, expected: str, finite: bool = False) -> PlainValidator:
    """A validator passing a value of exactly one of `kinds` through unchanged.

    Exactly: `True` is not an `int` here. `finite` also refuses infinities and NaN.
    """

    def check(value: object) -> object:
        if type(value) not in kinds:
            raise PydanticCustomError(
                "exact_type", "Input should be {expected}", {"expected": expected}
            )
        if finite and isinstance(value, float) and not math.isfinite(value):
            raise PydanticCustomError("finite_number", "Input should be a finite number")
        return value

    return PlainValidator(check)


Number = Annotated[
    int | float,
    exact_types(int, float, expected="a valid number"),
    WithJsonSchema({"type": "number"}),
]
"""A JSON number kept as given: 1 stays the int 1, 0.0 stays the float 0.0; no bool, no string."""

FiniteNumber = Annotated[
    int | float,
    exact_types(int, float, expected="a valid number", finite=True),
    WithJsonSchema({"type": "number"}),
]
"""A `Number` that is finite: for money."""


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
