"""From a plain class's methods to tool parts: which methods, their argument models, their docs.

Arguments are `strict` by default, as every tool's (`ToolArgs`): `"3"`, `3.0` and `true` are
not an `int`. A `float` parameter takes an int or a float and keeps it as given; a tuple or
set takes a JSON array, and a type JSON spells as a string (a date, an Enum, a UUID, ...) is
read from one, while what they hold stays strict. `lenient` reads them as the class's own
code would tolerate (pydantic's lax mode: `"3"` is the int 3), except that a number for a
`float` still keeps its kind (`5` stays the int 5, `"2.5"` is read as 2.5).

Read/write: `@reads` and `@writes` mark a method; `declared_access` is None for an unmarked
one, whose kind the adapter then infers by probing (`domains.adapter.probe`) unless the
domain declares it.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import operator
import re
import types
from collections.abc import Callable
from typing import (
    Annotated,
    Any,
    Final,
    Literal,
    TypeVar,
    Union,
    get_args,
    get_origin,
    get_type_hints,
)

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    WithJsonSchema,
    create_model,
)
from typing_extensions import is_typeddict

from domains.tools import Number, ToolArgs
from runtime.errors import DomainError

F = TypeVar("F", bound=Callable[..., Any])
Method = Callable[..., Any]

_MARK: Final = "__apigen_writes__"
_ARGS_HEADERS: Final = frozenset({"Args", "Arguments", "Parameters"})
_SECTION = re.compile(r"^(\w[\w ]*):\s*$")
_ENTRY = re.compile(r"^(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_BY_NAME: Final = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
_JSON_LEAVES: Final = (str, int, bool, type(None), object, list, dict)
_FROM_ARRAY: Final = (tuple, set, frozenset)


def writes(method: F) -> F:
    """Mark a method as a write tool (the default for unmarked methods)."""
    setattr(method, _MARK, True)
    return method


def reads(method: F) -> F:
    """Mark a method as a read tool: a call that changes the instance then fails."""
    setattr(method, _MARK, False)
    return method


def is_write(method: Method) -> bool:
    """Whether a method is a write tool: marked `@writes`, or not marked at all."""
    return bool(getattr(method, _MARK, True))


def declared_access(method: Method) -> bool | None:
    """True for `@writes`, False for `@reads`, None for an unmarked method."""
    found = getattr(method, _MARK, None)
    return None if found is None else bool(found)


class LenientArgs(ToolArgs):
    """Arguments read as the class's own code would tolerate them: pydantic's lax mode."""

    model_config = ConfigDict(extra="forbid", strict=False)


def _lenient_number(value: Any) -> Any:
    """A number kept as given; a numeric string read as the int or float it spells."""
    if isinstance(value, str) and not isinstance(value, bool):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            try:
                return float(text)
            except ValueError:
                return value
    return value


LenientNumber = Annotated[
    int | float, BeforeValidator(_lenient_number), WithJsonSchema({"type": "number"})
]


def public_methods(cls: type) -> dict[str, Method]:
    """Plain public functions of `cls` and its bases, bases' first, each in definition order.

    Classmethods, staticmethods, properties and names starting with `_` are left out.
    """
    found: dict[str, Method] = {}
    for klass in reversed(cls.__mro__):
        for name, member in vars(klass).items():
            if name.startswith("_"):
                continue
            if inspect.isfunction(member):
                found[name] = member
            else:
                found.pop(name, None)
    return found


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """The first paragraph, joined into one line, and the `Args:` entries by parameter name."""
    lines = inspect.cleandoc(doc or "").splitlines()
    summary: list[str] = []
    for line in lines:
        if not line.strip() or _SECTION.match(line):
            break
        summary.append(line.strip())
    params: dict[str, str] = {}
    in_args = False
    current: str | None = None
    entry_indent: int | None = None
    for line in lines:
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if stripped and indent == 0:
            header = _SECTION.match(line)
            in_args = header is not None and header.group(1) in _ARGS_HEADERS
            current, entry_indent = None, None
            continue
        if not in_args or not stripped:
            continue
        entry_indent = indent if entry_indent is None else entry_indent
        entry = _ENTRY.match(stripped)
        if indent == entry_indent and entry is not None:
            current = entry.group(1)
            params[current] = entry.group(2).strip()
        elif current is not None:
            params[current] = f"{params[current]} {stripped}".strip()
    return " ".join(summary), params


def args_model(
    owner: str, name: str, method: Method, docs: dict[str, str], *, lenient: bool = False
) -> type[ToolArgs]:
    """A `ToolArgs` model of the method's parameters (after `self`): hints, defaults, docs."""
    where = f"{owner}.{name}"
    try:
        hints = get_type_hints(method)
    except (NameError, TypeError) as exc:
        raise DomainError(f"{where}: cannot resolve its type hints: {exc}") from exc
    parameters = list(inspect.signature(method).parameters.values())
    if not parameters or parameters[0].kind not in _BY_NAME:
        raise DomainError(f"{where}: a tool method takes `self` first")
    fields: dict[str, Any] = {}
    for parameter in parameters[1:]:
        if parameter.kind not in _BY_NAME:
            raise DomainError(f"{where}: parameter {parameter.name!r} cannot be passed by name")
        if parameter.name.startswith("_"):
            raise DomainError(f"{where}: parameter {parameter.name!r} must not start with '_'")
        if parameter.name not in hints:
            raise DomainError(f"{where}: parameter {parameter.name!r} has no type hint")
        default = ... if parameter.default is inspect.Parameter.empty else parameter.default
        field = Field(default, description=docs.get(parameter.name))
        hint = hints[parameter.name]
        fields[parameter.name] = (lenient_hint(hint) if lenient else json_exact(hint), field)
    model_name = "".join(part.title() for part in name.split("_")) + "Args"
    model: type[ToolArgs] = create_model(
        model_name,
        __base__=LenientArgs if lenient else ToolArgs,
        __module__=method.__module__,
        **fields,
    )
    return model


def json_exact(hint: Any) -> Any:
    """`hint` as tool arguments are judged: exact JSON types, read the way JSON spells them.

    `float` (anywhere inside) becomes `Number`, so an int stays an int; tuples, sets and
    types given as JSON strings are read leniently at their own level only.
    """
    if hint is float:
        return Number
    origin, args = get_origin(hint), get_args(hint)
    if origin is Literal:
        return hint
    if origin is None or not args:
        return _leaf(origin or hint, hint)
    exact = tuple(json_exact(arg) for arg in args)
    if origin is Union or origin is types.UnionType:
        return functools.reduce(operator.or_, exact)
    try:
        rebuilt = origin[exact]
    except TypeError:
        return hint
    return Annotated[rebuilt, Strict(False)] if origin in _FROM_ARRAY else rebuilt


def lenient_hint(hint: Any) -> Any:
    """`hint` read laxly, except that a `float` anywhere keeps an int an int."""
    if hint is float:
        return LenientNumber
    origin, args = get_origin(hint), get_args(hint)
    if origin is None or not args or origin is Literal:
        return hint
    lax = tuple(lenient_hint(arg) for arg in args)
    if origin is Union or origin is types.UnionType:
        return functools.reduce(operator.or_, lax)
    try:
        return origin[lax]
    except TypeError:
        return hint


def _leaf(kind: Any, hint: Any) -> Any:
    """A hint without parameters (of class `kind`): strict if JSON has it, else read leniently.

    Objects (pydantic models, TypedDicts, dataclasses) keep their own rules.
    """
    if not isinstance(kind, type) or kind in _JSON_LEAVES:
        return hint
    if issubclass(kind, BaseModel) or is_typeddict(kind) or dataclasses.is_dataclass(kind):
        return hint
    return Annotated[hint, Strict(False)]
