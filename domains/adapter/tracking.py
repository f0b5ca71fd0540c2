"""Write barriers: the live objects of an arena report the first change made to each of them.

An arena's containers are subclasses of the builtin ones whose mutating methods mark them
dirty; its objects are instances of a subclass of their class (same name, same methods)
whose `__setattr__` and `__delattr__` do. Reads cost nothing, so a call costs what it
changes. Changes made around these methods are not seen: `heapq` on a list attribute, writes
through `vars(obj)` or `obj.__dict__`, `object.__setattr__`, and mutations inside a value
given a custom codec (assign it again instead).
"""

from __future__ import annotations

from collections import Counter, OrderedDict, defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final

from runtime.errors import DomainError

Marker = Callable[[object], None]


class _Tracker:
    """Where marks go while a call runs (nowhere otherwise)."""

    __slots__ = ("mark",)

    def __init__(self) -> None:
        self.mark: Marker | None = None


_TRACKER: Final = _Tracker()


def _mark(obj: object) -> None:
    mark = _TRACKER.mark
    if mark is not None:
        mark(obj)


@contextmanager
def tracking(mark: Marker) -> Iterator[None]:
    """Send the marks of every tracked object changed inside the block to `mark`."""
    previous = _TRACKER.mark
    _TRACKER.mark = mark
    try:
        yield
    finally:
        _TRACKER.mark = previous


def _barriers(base: type, names: tuple[str, ...]) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__slots__": ()}
    for name in names:
        original = getattr(base, name)

        def method(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            _mark(self)
            return _original(self, *args, **kwargs)

        method.__name__ = name
        namespace[name] = method
    return namespace


_DICT = (
    "__setitem__",
    "__delitem__",
    "__ior__",
    "clear",
    "pop",
    "popitem",
    "setdefault",
    "update",
)
_LIST = (
    "__setitem__",
    "__delitem__",
    "__iadd__",
    "__imul__",
    "append",
    "extend",
    "insert",
    "pop",
    "remove",
    "clear",
    "sort",
    "reverse",
)
_SET = (
    "__ior__",
    "__iand__",
    "__isub__",
    "__ixor__",
    "add",
    "discard",
    "remove",
    "pop",
    "clear",
    "update",
    "difference_update",
    "intersection_update",
    "symmetric_difference_update",
)
_DEQUE = (
    "__setitem__",
    "__delitem__",
    "__iadd__",
    "append",
    "appendleft",
    "extend",
    "extendleft",
    "pop",
    "popleft",
    "remove",
    "rotate",
    "clear",
    "insert",
    "reverse",
)

TrackedDict = type("TrackedDict", (dict,), _barriers(dict, _DICT))
TrackedOrderedDict = type(
    "TrackedOrderedDict", (OrderedDict,), _barriers(OrderedDict, (*_DICT, "move_to_end"))
)
TrackedDefaultDict = type("TrackedDefaultDict", (defaultdict,), _barriers(defaultdict, _DICT))
TrackedCounter = type("TrackedCounter", (Counter,), _barriers(Counter, (*_DICT, "subtract")))
TrackedList = type("TrackedList", (list,), _barriers(list, _LIST))
TrackedSet = type("TrackedSet", (set,), _barriers(set, _SET))
TrackedDeque = type("TrackedDeque", (deque,), _barriers(deque, _DEQUE))

CONTAINER_KINDS: Final[dict[type, str]] = {
    dict: "dict",
    OrderedDict: "OrderedDict",
    defaultdict: "defaultdict",
    Counter: "Counter",
    list: "list",
    set: "set",
    deque: "deque",
}
"""The containers the state holds as nodes, by the kind name their records carry."""
_TRACKED_KIND: Final[dict[type, str]] = {
    TrackedDict: "dict",
    TrackedOrderedDict: "OrderedDict",
    TrackedDefaultDict: "defaultdict",
    TrackedCounter: "Counter",
    TrackedList: "list",
    TrackedSet: "set",
    TrackedDeque: "deque",
}
TRACKED_BY_KIND: Final[dict[str, type]] = {kind: cls for cls, kind in _TRACKED_KIND.items()}


def container_kind(value: object) -> str | None:
    """ "dict", "list", ... for a (tracked or plain) supported container, else None."""
    kind = type(value)
    return CONTAINER_KINDS.get(kind) or _TRACKED_KIND.get(kind)


_CLASSES: dict[type, type] = {}


def tracked_class(cls: type) -> type:
    """A subclass of `cls` that marks its instances when an attribute is set or deleted."""
    found = _CLASSES.get(cls)
    if found is not None:
        return found

    def __setattr__(self: Any, name: str, value: Any) -> None:
        _mark(self)
        setter: Any = cls.__setattr__
        setter(self, name, value)

    def __delattr__(self: Any, name: str) -> None:
        _mark(self)
        deleter: Any = cls.__delattr__
        deleter(self, name)

    namespace = {
        "__slots__": (),
        "__setattr__": __setattr__,
        "__delattr__": __delattr__,
        "__module__": cls.__module__,
        "__qualname__": cls.__qualname__,
        "_apigen_original": cls,
    }
    try:
        made: type = type(cls)(cls.__name__, (cls,), namespace)
    except TypeError as exc:
        raise DomainError(f"class {cls.__qualname__} cannot be tracked: {exc}") from exc
    _CLASSES[cls] = made
    return made


def original_class(obj: object) -> type:
    """The user's class of an object, tracked or not."""
    kind = type(obj)
    original: type = kind.__dict__.get("_apigen_original", kind)
    return original
