"""An instance's object graph as copy-on-write records, and the live arena calls run on.

Every object (with a `__dict__`) and every dict, list, set and deque the instance reaches is
a node: one record of table `objects`, keyed by the path it was first reached by
(`todos['t1']`, `fs.root.children['docs']`). Back-references and pointers into the same tree
are `{"$ref": id}`, so identity survives; dicts keep their key order and key types
(`{"$dict": [[key, value], ...]}`); sets are sorted by their encoded members.

The arena is one live copy of the base graph, built once from the base records with
tracked containers and classes (`domains.adapter.tracking`). A call on a fork checks out the fork's
changed records into it, runs the method, encodes only the nodes the method changed (and
the new nodes they reach), and restores what it touched: its cost follows what the fork and
the call touched, not the instance's size. Nodes no longer reachable are deleted (their
owners are kept in the hidden `_graph` table so only the affected part is searched).

Attributes have roles (`Roles`): state; excluded (not stored: reset after every call to
the value they had when their object entered the graph: caches, loggers, locks); volatile
(stored per fork in `_volatile`, out of the fingerprint: random generators, clocks).
"""

from __future__ import annotations

import copy
import functools
import io
import logging
import random
import threading
import types
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal

from domains.adapter.codec import ValueCodec, is_node

if TYPE_CHECKING:
    from domains.adapter.calls import Effect
from domains.adapter.state import GRAPH, OBJECTS, VOLATILE, ObjectState
from domains.adapter.tracking import (
    TRACKED_BY_KIND,
    container_kind,
    original_class,
    tracked_class,
    tracking,
)
from domains.state import BaseData, Record, Tables, record_hash, same_json
from runtime.errors import DomainError

ROOT: Final = "self"
Role = Literal["state", "exclude", "volatile"]
_HANDLES: Final = (
    types.ModuleType,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    type,
    functools.partial,
    logging.Logger,
    io.IOBase,
    threading.Thread,
)
_HANDLE_MODULES: Final = frozenset({"_thread", "threading", "logging", "socket", "sqlite3"})


@dataclass(frozen=True)
class Roles:
    """Which attributes are state. Names are `attr` (any class) or `Class.attr`.

    Defaults: a `random.Random` is volatile; a private attribute whose name says `cache`,
    and a module, function, class, logger, lock, thread or file, is excluded.
    """

    exclude: frozenset[str] = frozenset()
    volatile: frozenset[str] = frozenset()
    state: frozenset[str] = frozenset()

    def role(self, owner: str, name: str, value: Any) -> Role:
        names = {name, f"{owner}.{name}"}
        if names & self.state:
            return "state"
        if names & self.exclude:
            return "exclude"
        if names & self.volatile or isinstance(value, random.Random):
            return "volatile"
        if name.startswith("_") and "cache" in name.lower():
            return "exclude"
        if isinstance(value, _HANDLES) or type(value).__module__ in _HANDLE_MODULES:
            return "exclude"
        if callable(value) and not is_node(value):
            return "exclude"
        return "state"


def child_id(parent: str, label: str) -> str:
    """The id of a node first reached from `parent` at `label` (`.name`, `['key']`, `[3]`)."""
    if parent == ROOT and label.startswith("."):
        return label[1:]
    return parent + label


def _key_label(key: Any) -> str:
    """`[repr(key)]` for a plain key; a node used as a key is labelled by its class only."""
    if is_node(key):
        return f"[<{original_class(key).__name__}>]"
    return f"[{key!r}]"


def refs_of(record: Record | None) -> Counter[str]:
    """How many times a record references each node."""
    found: Counter[str] = Counter()
    if record is not None:
        _collect_refs(record, found)
    return found


def _collect_refs(value: Any, found: Counter[str]) -> None:
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str) and len(value) == 1:
            found[ref] += 1
            return
        for item in value.values():
            _collect_refs(item, found)
    elif isinstance(value, list):
        for item in value:
            _collect_refs(item, found)


def _volatile_key(oid: str, attr: str) -> str:
    return f"{oid}#{attr}"


class Arena:
    """The live graph of one base state; calls on its forks run here one at a time."""

    def __init__(self, codec: ValueCodec, roles: Roles) -> None:
        self.codec = codec
        self.roles = roles
        self.objects: dict[str, object] = {}
        self.ids: dict[int, str] = {}
        self.records: dict[str, Record] = {}
        self.volatile: dict[str, Record] = {}
        self.excluded: dict[str, dict[str, Any]] = {}
        self.resettable: list[tuple[str, str]] = []
        self.opaque: list[str] = []
        self.volatile_attrs: dict[str, list[str]] = {}
        self.base: BaseData | None = None
        self._base_hash: int | None = None
        self._lock = threading.RLock()
        self.compare_all = False
        """Encode every node after each call instead of trusting the write barriers (for
        classes that change their state around them); each call then costs the whole graph."""

    # -- loading ---------------------------------------------------------------------------

    @classmethod
    def load(cls, root: object, codec: ValueCodec, roles: Roles) -> tuple[Arena, Tables]:
        """The arena and the tables of `root`'s graph.

        A node's id is the path that first reaches it depth-first in attribute and key
        order (`root.children['d0']` rather than a pointer `cwd` to it), the same path by
        which a call names a node it creates there.
        """
        arena = cls(codec, roles)
        originals = arena._depth_first(root)
        ids = {id(node): oid for oid, node in originals.items()}
        graph: dict[str, Record] = {oid: {"owner": None, "in": {}} for oid in originals}
        records: dict[str, Record] = {}
        for oid, node in originals.items():

            def ref(child: object, label: str, _from: str = oid) -> str:
                found = ids[id(child)]
                entry = graph[found]
                if entry["owner"] is None and found != ROOT:
                    entry["owner"] = _from
                entry["in"][_from] = entry["in"].get(_from, 0) + 1
                return found

            record, volatile, excluded = arena.encode_node(node, oid, ref)
            records[oid] = record
            for attr, value in volatile.items():
                arena.volatile[_volatile_key(oid, attr)] = {"id": oid, "attr": attr, "value": value}
                arena.volatile_attrs.setdefault(oid, []).append(attr)
                if isinstance(getattr(node, attr, None), random.Random | dict | list | set):
                    arena.opaque.append(_volatile_key(oid, attr))
            if excluded:
                arena.remember_excluded(oid, excluded)
        arena.records = records
        for oid, record in records.items():
            shell = arena.shell(record)
            arena.objects[oid] = shell
            arena.ids[id(shell)] = oid
        for oid, record in records.items():
            arena.fill(arena.objects[oid], record, arena.objects.__getitem__)
            arena.reset_hidden(arena.objects[oid], oid)
        tables: Tables = {OBJECTS: records, GRAPH: graph, VOLATILE: dict(arena.volatile)}
        arena._check_round_trip()
        return arena, tables

    @classmethod
    def records_of(cls, root: object, codec: ValueCodec, roles: Roles) -> dict[str, Record]:
        """The `objects` records of `root`'s graph alone: what `load` stores, without the
        arena (for hashing an instance the slow way)."""
        encoder = cls(codec, roles)
        originals = encoder._depth_first(root)
        ids = {id(node): oid for oid, node in originals.items()}
        return {
            oid: encoder.encode_node(node, oid, lambda child, _: ids[id(child)])[0]
            for oid, node in originals.items()
        }

    def _depth_first(self, root: object) -> dict[str, object]:
        """Every node reachable from `root`, by id, in depth-first pre-order."""
        originals: dict[str, object] = {ROOT: root}
        seen: set[int] = {id(root)}
        stack = [iter(self._children(root, ROOT))]
        while stack:
            step = next(stack[-1], None)
            if step is None:
                stack.pop()
                continue
            child, label, parent = step
            if id(child) in seen:
                continue
            seen.add(id(child))
            oid = child_id(parent, label)
            while oid in originals:
                oid += "#"
            originals[oid] = child
            stack.append(iter(self._children(child, oid)))
        return originals

    def _children(self, node: object, oid: str) -> list[tuple[object, str, str]]:
        found: list[tuple[object, str, str]] = []

        def ref(child: object, label: str) -> str:
            found.append((child, label, oid))
            return "?"

        self.encode_node(node, oid, ref)
        return found

    def attach(self, base: BaseData) -> None:
        """The base data the arena's records live in (set once the state is built)."""
        self.base = base

    def base_hash(self) -> int:
        """The sum of the base `objects` records' hashes, computed once."""
        if self._base_hash is None:
            self._base_hash = sum(record_hash(OBJECTS, key, r) for key, r in self.records.items())
        return self._base_hash

    def _check_round_trip(self) -> None:
        """Decoding then encoding every record gives it back: the codec loses nothing."""
        ids = self.ids

        def ref(child: object, label: str) -> str:
            return ids.get(id(child), "?")

        for oid, obj in self.objects.items():
            record, _, _ = self.encode_node(obj, oid, ref)
            if not same_json(record, self.records[oid]):
                raise DomainError(f"state node {oid!r} does not survive encoding: {record}")

    def remember_excluded(self, oid: str, values: dict[str, Any]) -> None:
        """Keep what excluded attributes hold when their object enters the graph."""
        kept: dict[str, Any] = {}
        for attr, value in values.items():
            try:
                kept[attr] = copy.deepcopy(value)
            except Exception:
                kept[attr] = value
            if isinstance(value, dict | list | set):
                self.resettable.append((oid, attr))
        self.excluded.setdefault(oid, kept)

    # -- nodes and records ------------------------------------------------------------------

    def encode_node(
        self, node: object, oid: str, ref: Callable[[object, str], str]
    ) -> tuple[Record, dict[str, Any], dict[str, Any]]:
        """The node's record, its volatile attributes (encoded) and excluded ones (raw)."""
        codec = self.codec

        def at(label: str) -> Callable[[object, str], str]:
            return lambda child, _: ref(child, label)

        kind = container_kind(node)
        if kind is None and isinstance(node, dict | list | set | deque):
            raise DomainError(
                f"state node {oid!r} is a {type(node).__name__}, a container subclass the "
                "state cannot rebuild: give the domain a Codec for it"
            )
        if kind is None:
            cls = original_class(node)
            record: Record = {"$object": codec.classes.path(cls)}
            volatile: dict[str, Any] = {}
            excluded: dict[str, Any] = {}
            try:
                attributes = vars(node)
            except TypeError as exc:
                raise DomainError(f"state node {oid!r}: a {cls.__name__} has no __dict__") from exc
            for name, value in attributes.items():
                role = self.roles.role(cls.__name__, name, value)
                where = f"{oid}.{name}"
                if role == "exclude":
                    excluded[name] = value
                elif role == "volatile":
                    volatile[name] = codec.encode(value, None, where)
                else:
                    record[name] = codec.encode(value, at(f".{name}"), where)
            return record, volatile, excluded
        if kind in ("dict", "OrderedDict", "defaultdict", "Counter"):
            assert isinstance(node, dict)
            pairs = [
                [
                    codec.encode(key, at(_key_label(key)), f"{oid} key {_key_label(key)}"),
                    codec.encode(value, at(_key_label(key)), f"{oid}{_key_label(key)}"),
                ]
                for key, value in node.items()
            ]
            record = {"$dict": pairs}
            if kind != "dict":
                record["kind"] = kind
            factory = getattr(node, "default_factory", None)
            if kind == "defaultdict" and factory is not None:
                record["factory"] = codec.classes.path(factory)
            return record, {}, {}
        if kind == "set":
            assert isinstance(node, set)
            return {"$set": codec.sorted_items(node, at("{}"), oid)}, {}, {}
        assert isinstance(node, list | deque)
        items = [codec.encode(item, at(f"[{i}]"), f"{oid}[{i}]") for i, item in enumerate(node)]
        if kind == "deque":
            assert isinstance(node, deque)
            return {"$deque": items, "maxlen": node.maxlen}, {}, {}
        return {"$list": items}, {}, {}

    def shell(self, record: Record) -> object:
        """An empty tracked node of the record's kind, to be filled by `fill`."""
        if "$object" in record:
            cls = tracked_class(self.codec.classes.get(record["$object"]))
            try:
                made: object = object.__new__(cls)
            except TypeError as exc:
                raise DomainError(f"cannot rebuild a {cls.__name__}: {exc}") from exc
            return made
        if "$dict" in record:
            kind = record.get("kind", "dict")
            if kind == "defaultdict":
                factory = record.get("factory")
                made = TRACKED_BY_KIND[kind](self.codec.classes.get(factory) if factory else None)
                return made
            return TRACKED_BY_KIND[kind]()
        if "$set" in record:
            return TRACKED_BY_KIND["set"]()
        if "$deque" in record:
            return TRACKED_BY_KIND["deque"](maxlen=record["maxlen"])
        return TRACKED_BY_KIND["list"]()

    def same_shape(self, node: object, record: Record) -> bool:
        """Whether `node` can be refilled with `record` (same class or container kind)."""
        kind = container_kind(node)
        if "$object" in record:
            return (
                kind is None and self.codec.classes.path(original_class(node)) == record["$object"]
            )
        if "$dict" in record:
            return kind == record.get("kind", "dict") and record.get("factory") == (
                self.codec.classes.path(node.default_factory)  # type: ignore[attr-defined]
                if getattr(node, "default_factory", None) is not None
                else None
            )
        if "$deque" in record:
            return kind == "deque" and getattr(node, "maxlen", None) == record["maxlen"]
        return kind == ("set" if "$set" in record else "list")

    def fill(self, node: object, record: Record, resolve: Callable[[str], object]) -> None:
        """Make `node` hold `record` in place, keeping its excluded and volatile attributes.

        Runs outside `tracking`, so the write barriers it passes through mark nothing.
        """
        decode = self.codec.decode
        if "$object" in record:
            attributes = vars(node)
            owner = original_class(node).__name__
            kept = {
                name: value
                for name, value in attributes.items()
                if name not in record and self.roles.role(owner, name, value) != "state"
            }
            attributes.clear()
            for name, value in record.items():
                if name != "$object":
                    attributes[name] = decode(value, resolve)
            attributes.update(kept)
        elif "$dict" in record:  # through the node's own methods: an OrderedDict keeps order
            assert isinstance(node, dict)
            node.clear()
            for key, value in record["$dict"]:
                node[decode(key, resolve)] = decode(value, resolve)
        elif "$set" in record:
            assert isinstance(node, set)
            node.clear()
            node.update(decode(item, resolve) for item in record["$set"])
        elif "$deque" in record:
            assert isinstance(node, deque)
            node.clear()
            node.extend(decode(item, resolve) for item in record["$deque"])
        else:
            assert isinstance(node, list)
            node.clear()
            node.extend(decode(item, resolve) for item in record["$list"])

    def reset_hidden(self, node: object, oid: str) -> None:
        """Excluded attributes back to what they held when the node entered the graph, and
        volatile ones to their base values."""
        excluded = self.excluded.get(oid)
        if excluded and container_kind(node) is None:
            attributes = vars(node)
            for attr, value in excluded.items():
                attributes[attr] = _fresh(value)
        for key in (_volatile_key(oid, attr) for attr in self._volatile_attrs(oid)):
            record = self.volatile[key]
            vars(node)[record["attr"]] = self.codec.decode(record["value"], None)

    def _volatile_attrs(self, oid: str) -> list[str]:
        return self.volatile_attrs.get(oid, [])

    # -- calls -------------------------------------------------------------------------------

    def call(
        self,
        state: ObjectState,
        target: str,
        invoke: Callable[[object], Any],
        convert: Callable[[Any], Any],
    ) -> tuple[Any, Effect]:
        """Run `invoke` on node `target` of the state's graph; stage what it changed.

        `convert` turns the return value into data that outlives the call (it may raise
        to fail the call, which then changes nothing).
        """
        from domains.adapter.calls import Session

        with self._lock:
            session = Session(self, state)
            try:
                session.checkout()
                node = session.node(target)
                with tracking(session.mark):
                    raw = invoke(node)
                value = convert(raw)
                effect = session.collect()
                return value, effect
            finally:
                session.restore()

    def read(self, state: ObjectState, target: str, use: Callable[[object], Any]) -> Any:
        """`use(node)` on the state's graph, untracked; `use` must not change anything."""
        from domains.adapter.calls import Session

        with self._lock:
            session = Session(self, state)
            try:
                session.checkout()
                return use(session.node(target))
            finally:
                session.restore()


def _fresh(value: Any) -> Any:
    if isinstance(value, dict | list | set):
        return copy.deepcopy(value)
    return value
