"""Values a class holds, as JSON the state can store and hash exactly, and back again.

Immutable values are written inline: JSON scalars as they are (an int stays an int, a float
a float), and tagged objects for the rest: `{"$tuple": [...]}`, `{"$frozenset": [...]}`,
`{"$date": "2025-01-31"}`, `{"$datetime": ...}`, `{"$time": ...}`, `{"$timedelta": [d, s, us]}`,
`{"$decimal": "1.10"}`, `{"$fraction": "1/3"}`, `{"$complex": [re, im]}`,
`{"$enum": "mod:Class", "name": "RED"}`, `{"$uuid": ...}`, `{"$path": ...}`, `{"$bytes": b64}`,
`{"$random": state}`, and `{"$codec": name, "value": ...}` for a type given a `Codec`.
Mutable things (objects, dicts, lists, sets, deques) are nodes of the object graph
(`domains.adapter.graph`): here they become `{"$ref": id}` through the caller's `ref` function.

`view` is the other direction for people and models: any value as readable JSON data (a
Decimal as its text, an object as its public attributes, a back-reference as a short label),
and `to_text` renders it; neither ever fails.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import enum
import importlib
import json
import math
import random
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from fractions import Fraction
from pathlib import PurePath
from typing import Any, Final

from pydantic import BaseModel

from domains.state import canonical_json
from runtime.errors import DomainError

Ref = Callable[[object, str], str]
"""`ref(node, label)`: the id of a mutable node met at `label` (`.attr`, `[key]`)."""
Resolve = Callable[[str], object]

SCALARS: Final = (str, int, float, bool, type(None))
_VIEW_DEPTH: Final = 6


@dataclasses.dataclass(frozen=True)
class Codec:
    """How to store values of a custom type: `encode` to JSON-like data, `decode` back.

    Values of `kind` (and its subclasses) are treated as immutable: a method that changes
    one in place must assign it again for the change to be seen.
    """

    kind: type
    name: str
    encode: Callable[[Any], Any]
    decode: Callable[[Any], Any]


class ClassTable:
    """Classes by `module:qualname`, filled as objects are met, so local classes decode too."""

    def __init__(self) -> None:
        self._by_path: dict[str, Any] = {}

    def path(self, obj: Any) -> str:
        """The path of a class or function, remembered for `get`."""
        original = getattr(obj, "_apigen_original", obj)
        path = f"{original.__module__}:{original.__qualname__}"
        self._by_path.setdefault(path, original)
        return path

    def get(self, path: str) -> Any:
        found = self._by_path.get(path)
        if found is None:
            found = _import(path)
            self._by_path[path] = found
        return found


def _import(path: str) -> Any:
    module_name, _, qualname = path.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as exc:
        raise DomainError(f"cannot find class {path!r} to rebuild the state") from exc
    return found


def is_node(value: Any) -> bool:
    """Whether a value is a mutable node of the graph rather than an inline value."""
    if isinstance(value, dict | list | set | deque):
        return True
    if isinstance(value, (*SCALARS, tuple, frozenset, enum.Enum, type, random.Random)):
        return False
    return hasattr(value, "__dict__") and not callable(value)


class ValueCodec:
    """Inline encoding of leaves, with the built-in tags and the domain's custom codecs."""

    def __init__(self, codecs: Iterable[Codec] = (), classes: ClassTable | None = None) -> None:
        self.custom = {codec.name: codec for codec in codecs}
        self.classes = classes or ClassTable()

    def _custom_for(self, value: Any) -> Codec | None:
        for codec in self.custom.values():
            if isinstance(value, codec.kind):
                return codec
        return None

    def encode(self, value: Any, ref: Ref | None, where: str) -> Any:
        """`value` as inline JSON; nodes through `ref` (or deep-inline when `ref` is None)."""
        kind = type(value)
        if kind in SCALARS:
            return value
        codec = self._custom_for(value)
        if codec is not None:
            return {"$codec": codec.name, "value": codec.encode(value)}
        if isinstance(value, enum.Enum):
            return {"$enum": self.classes.path(kind), "name": value.name}
        if isinstance(value, tuple):
            items = [self.encode(item, ref, f"{where}[{i}]") for i, item in enumerate(value)]
            if kind is tuple:
                return {"$tuple": items}
            return {"$tuple": items, "class": self.classes.path(kind)}
        if isinstance(value, frozenset):
            return {"$frozenset": self.sorted_items(value, ref, where)}
        leaf = _builtin_leaf(value)
        if leaf is not None:
            return leaf
        if ref is not None and is_node(value):
            return {"$ref": ref(value, "")}
        if ref is None and isinstance(value, dict | list | set):
            return self._inline_container(value, where)
        raise DomainError(
            f"{where} holds a {kind.__name__}, which the state cannot store: give the domain a "
            "Codec for it, or exclude the attribute"
        )

    def _inline_container(self, value: dict[Any, Any] | list[Any] | set[Any], where: str) -> Any:
        if isinstance(value, dict):
            pairs = [
                [self.encode(key, None, where), self.encode(item, None, f"{where}[{key!r}]")]
                for key, item in value.items()
            ]
            return {"$dict": pairs}
        if isinstance(value, set):
            return {"$set": self.sorted_items(value, None, where)}
        return {"$list": [self.encode(item, None, f"{where}[{i}]") for i, item in enumerate(value)]}

    def sorted_items(self, values: Iterable[Any], ref: Ref | None, where: str) -> list[Any]:
        """Set members encoded and sorted by their canonical text: one order for one set."""
        encoded = [self.encode(item, ref, where) for item in values]
        return sorted(encoded, key=canonical_json)

    def decode(self, data: Any, resolve: Resolve | None) -> Any:
        """The value `encode` wrote; `{"$ref": id}` through `resolve`."""
        if not isinstance(data, dict):
            return data
        if "$ref" in data:
            if resolve is None:
                raise DomainError("a reference where only inline values may be")
            return resolve(data["$ref"])
        if "$tuple" in data:
            items = tuple(self.decode(item, resolve) for item in data["$tuple"])
            if "class" in data:
                return self.classes.get(data["class"])(*items)
            return items
        if "$frozenset" in data:
            return frozenset(self.decode(item, resolve) for item in data["$frozenset"])
        if "$enum" in data:
            return self.classes.get(data["$enum"])[data["name"]]
        if "$codec" in data:
            codec = self.custom.get(data["$codec"])
            if codec is None:
                raise DomainError(f"no codec named {data['$codec']!r} to rebuild the state")
            return codec.decode(data["value"])
        if "$dict" in data:
            return {self.decode(k, resolve): self.decode(v, resolve) for k, v in data["$dict"]}
        if "$list" in data:
            return [self.decode(item, resolve) for item in data["$list"]]
        if "$set" in data:
            return {self.decode(item, resolve) for item in data["$set"]}
        return _decode_builtin(data)


def _builtin_leaf(value: Any) -> dict[str, Any] | None:
    """The tag of a standard-library immutable value, or None."""
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dt.time):
        return {"$time": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"$timedelta": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, Fraction):
        return {"$fraction": str(value)}
    if isinstance(value, complex):
        return {"$complex": [value.real, value.imag]}
    if isinstance(value, uuid.UUID):
        return {"$uuid": str(value)}
    if isinstance(value, PurePath):
        return {"$path": str(value), "pure": not hasattr(value, "exists")}
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode("ascii")}
    if isinstance(value, random.Random):
        version, internal, gauss = value.getstate()
        return {"$random": [version, list(internal), gauss]}
    return None


def _decode_builtin(data: dict[str, Any]) -> Any:
    if "$datetime" in data:
        return dt.datetime.fromisoformat(data["$datetime"])
    if "$date" in data:
        return dt.date.fromisoformat(data["$date"])
    if "$time" in data:
        return dt.time.fromisoformat(data["$time"])
    if "$timedelta" in data:
        days, seconds, micro = data["$timedelta"]
        return dt.timedelta(days=days, seconds=seconds, microseconds=micro)
    if "$decimal" in data:
        return Decimal(data["$decimal"])
    if "$fraction" in data:
        return Fraction(data["$fraction"])
    if "$complex" in data:
        return complex(*data["$complex"])
    if "$uuid" in data:
        return uuid.UUID(data["$uuid"])
    if "$path" in data:
        from pathlib import Path, PurePosixPath

        return PurePosixPath(data["$path"]) if data.get("pure") else Path(data["$path"])
    if "$bytes" in data:
        return base64.b64decode(data["$bytes"])
    if "$random" in data:
        version, internal, gauss = data["$random"]
        generator = random.Random()
        generator.setstate((version, tuple(internal), gauss))
        return generator
    raise DomainError(f"unknown stored value {sorted(data)!r}")


# -- views: what people and models read ---------------------------------------------------------


def view(value: Any, *, public: bool = True, depth: int = _VIEW_DEPTH) -> Any:
    """Readable JSON data for any value; never fails (unknown things become their `str`).

    An object whose class defines `__str__` shows as that text; other objects show their
    attributes (public ones only when `public`: dict keys are data and always shown); a
    container or object met before (a parent link, a pointer into a tree shown already)
    shows as a short label.
    """
    return _view(value, public, depth, set())


def _view(value: Any, public: bool, depth: int, seen: set[int]) -> Any:
    if isinstance(value, bool | str | type(None)):
        return value
    if isinstance(value, int) and not isinstance(value, enum.Enum):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, enum.Enum):
        return _view(value.value, public, depth, seen)
    leaf = _plain_leaf(value)
    if leaf is not None:
        return leaf
    if depth <= 0:
        return _label(value)
    if id(value) in seen:
        return _label(value)
    seen.add(id(value))
    if isinstance(value, BaseModel):
        return _view(value.model_dump(), public, depth - 1, seen)
    if isinstance(value, Mapping):
        return {_key_text(key): _view(item, public, depth - 1, seen) for key, item in value.items()}
    if isinstance(value, set | frozenset):
        items = [_view(item, public, depth - 1, seen) for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True, default=str))
    if isinstance(value, list | tuple | deque):
        return [_view(item, public, depth - 1, seen) for item in value]
    custom_str: object = type(value).__str__
    if custom_str is not object.__str__:
        return str(value)  # the class says how it reads (a number type, a path, ...)
    attributes = _attributes(value)
    if attributes is not None:
        return {
            name: _view(item, public, depth - 1, seen)
            for name, item in attributes.items()
            if not (public and name.startswith("_")) and not callable(item)
        }
    return str(value)


def _plain_leaf(value: Any) -> Any:
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal | Fraction | complex | uuid.UUID | PurePath | dt.timedelta):
        return str(value)
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(value).decode("ascii")
    if isinstance(value, random.Random | type) or callable(value):
        return f"<{type(value).__name__}>"
    return None


def _attributes(value: Any) -> dict[str, Any] | None:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
    try:
        return dict(vars(value))
    except TypeError:
        return None


def _label(value: Any) -> str:
    """A short reference to an object already shown: its class and a name-like attribute."""
    kind = getattr(type(value), "_apigen_original", type(value)).__name__
    for attribute in ("name", "id", "title", "path"):
        found = getattr(value, attribute, None)
        if isinstance(found, str | int) and not isinstance(found, bool) and found != "":
            return f"<{kind} {found}>"
    return f"<{kind}>"


def _key_text(key: Any) -> str:
    if isinstance(key, str):
        return key
    shown = _view(key, True, 1, set())
    return shown if isinstance(shown, str) else json.dumps(shown, default=str)


def to_text(value: Any) -> str:
    """What an agent reads for a tool's return value: a string as it is, the rest as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(view(value), ensure_ascii=False)
