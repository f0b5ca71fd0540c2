"""Argument values for calls nobody scripted: drawn from the state and from earlier outputs.

`ValuePool` files every scalar (and dict key) under the words of the name that holds it;
`draw_arguments` fills a tool's parameters from the best-matching names, then by JSON type,
and gives parameters any value does for (`free`) a new value such as `file_42`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from domains.adapter.graph import ROOT
from domains.adapter.state import ObjectState
from domains.environment import Environment

_WORD = re.compile(r"[a-z]+|[0-9]+")
_GENERIC_WORDS: Final = frozenset({"the", "a", "an", "of", "to", "in", "for", "new", "get"})
_KIND_OF: Final = {str: "string", int: "integer", float: "number", bool: "boolean"}


def words(name: str) -> frozenset[str]:
    """The stems of a name: `ticketIds` and `ticket_ids` -> {"ticket", "id"}."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()
    found = (word.rstrip("s") if len(word) > 3 else word for word in _WORD.findall(spaced))
    return frozenset(word for word in found if word not in _GENERIC_WORDS)


def kind_of(value: Any) -> str | None:
    """The JSON schema type a scalar satisfies exactly (an int is also a number)."""
    return _KIND_OF.get(type(value))


def fits(value: Any, kind: str | None) -> bool:
    found = kind_of(value)
    return kind is None or found == kind or (kind == "number" and found == "integer")


def telling(value: Any) -> bool:
    """A value too specific to match by chance: not a bool, 0, 1 or a one-letter string."""
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        return len(value.strip()) >= 2
    return isinstance(value, int | float) and value not in (0, 1)


@dataclass
class ValuePool:
    """Scalars by the words of the name that holds them, in the order they were met."""

    entries: list[tuple[frozenset[str], Any]] = field(default_factory=list)
    _seen: set[tuple[frozenset[str], str, Any]] = field(default_factory=set)

    def add(self, name_words: frozenset[str], value: Any) -> None:
        key = (name_words, type(value).__name__, value)
        if isinstance(value, str) and not value.strip():
            return
        if kind_of(value) is not None and key not in self._seen:
            self._seen.add(key)
            self.entries.append((name_words, value))

    def ranked(self, param: str, kind: str | None) -> list[tuple[float, list[Any]]]:
        """Values of the right type grouped by how well their names match, best first."""
        wanted = words(param)
        groups: dict[float, list[Any]] = {}
        for name_words, value in self.entries:
            if not fits(value, kind):
                continue
            shared = len(wanted & name_words)
            score = shared / len(wanted | name_words) if shared else 0.0
            groups.setdefault(score, []).append(value)
        return [(score, groups[score]) for score in sorted(groups, reverse=True)]


def state_pool(env: Environment) -> ValuePool:
    """Every public scalar and dict key of the state, filed by the name holding it."""
    pool = ValuePool()
    state = env.state
    if isinstance(state, ObjectState):
        state.arena.read(state, ROOT, lambda root: _fill_pool(root, pool))
    return pool


def _fill_pool(root: object, pool: ValuePool, limit: int = 50_000) -> None:
    seen: set[int] = set()
    stack: list[tuple[object, frozenset[str]]] = [(root, frozenset())]
    while stack and len(seen) < limit:
        node, name = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, Mapping):
            for key, value in node.items():
                if isinstance(key, str) and key.startswith("_"):
                    continue
                pool.add(name | {"id", "key", "name"}, key)
                _visit(value, words(str(key)) if isinstance(key, str) else name, pool, stack)
        elif isinstance(node, list | tuple | set | frozenset):
            for item in node:
                _visit(item, name, pool, stack)
        else:
            try:
                attributes = vars(node)
            except TypeError:
                continue
            for attr, value in attributes.items():
                if not attr.startswith("_"):
                    _visit(value, words(attr), pool, stack)


def _visit(
    value: Any, name: frozenset[str], pool: ValuePool, stack: list[tuple[object, frozenset[str]]]
) -> None:
    if kind_of(value) is not None:
        pool.add(name, value)
    elif not callable(value):
        stack.append((value, name))


def output_pool(value: Any, base: ValuePool | None = None) -> ValuePool:
    """The scalars of a call's output (already plain data), filed by their field names."""
    pool = base or ValuePool()

    def walk(item: Any, name: frozenset[str]) -> None:
        if isinstance(item, dict):
            for key, inner in item.items():
                pool.add(name | {"id", "key", "name"}, key)
                walk(inner, words(str(key)))
        elif isinstance(item, list):
            for inner in item:
                walk(inner, name)
        else:
            pool.add(name, item)

    walk(value, frozenset())
    return pool


def fresh_value(name: str, kind: str | None, rng: random.Random) -> Any:
    """A new value for a parameter any value does for: `file_42` for `file_name`."""
    if kind in ("integer", "number"):
        return rng.randrange(2, 10)
    stem = "_".join(sorted(words(name) - {"name", "id", "key"})) or name
    return f"{stem}_{rng.randrange(1, 100)}"


def draw_arguments(
    schema: Mapping[str, Any],
    pool: ValuePool,
    rng: random.Random,
    fed: ValuePool | None = None,
    prefer: Mapping[str, Any] | None = None,
    free: frozenset[str] = frozenset(),
) -> dict[str, Any] | None:
    """Arguments for a tool's parameters schema, or None when a required one has no value.

    `fed` (earlier outputs) is tried before the state; `prefer` fixes values by name;
    parameters in `free` (any value does) mostly get a new value.
    """
    properties: Mapping[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    arguments: dict[str, Any] = {}
    for name, spec in properties.items():
        if name not in required and rng.random() > 0.25:
            continue
        if prefer and name in prefer:
            arguments[name] = prefer[name]
            continue
        if name in free and spec.get("type") in ("string", "integer") and rng.random() < 0.8:
            arguments[name] = fresh_value(name, spec.get("type"), rng)
            continue
        value = _draw_one(name, spec, pool, rng, fed)
        if value is _NOTHING:
            if name in required:
                return None
            continue
        arguments[name] = value
    return arguments


_NOTHING: Final = object()


def _draw_one(
    name: str, spec: Mapping[str, Any], pool: ValuePool, rng: random.Random, fed: ValuePool | None
) -> Any:
    if "enum" in spec:
        return rng.choice(spec["enum"])
    if "const" in spec:
        return spec["const"]
    kind = spec.get("type")
    options = spec.get("anyOf")
    if kind is None and isinstance(options, list):
        kinds = [o for o in options if o.get("type") not in (None, "null")]
        if not kinds:
            return None
        return _draw_one(name, kinds[0], pool, rng, fed)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "array":
        item = _draw_one(name, spec.get("items", {}), pool, rng, fed)
        return _NOTHING if item is _NOTHING else [item]
    if kind == "object" or (kind is None and "properties" in spec):
        return _NOTHING
    choices = [
        (groups[0][0] + (0.01 if source is fed else 0.0), groups)
        for source in (fed, pool)
        if source is not None and (groups := source.ranked(name, kind))
    ]
    if choices and rng.random() < 0.9:
        _, groups = max(choices, key=lambda choice: choice[0])
        group = groups[0][1] if rng.random() < 0.75 or len(groups) == 1 else groups[1][1]
        return rng.choice(group)
    if kind in ("string", "integer", "number"):
        return fresh_value(name, kind, rng)
    return _NOTHING
