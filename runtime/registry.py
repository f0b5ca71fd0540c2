"""Registries keyed by name: step kinds, validators, aggregation rules, exporters, ...

A registry is an explicit object; a name may also be an import path (`pkg.mod:Name`) so a
playbook can use a user's own class without any change to this codebase.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Generic, TypeVar

from runtime.errors import RegistryError

T = TypeVar("T")


def import_object(path: str) -> object:
    """Import `package.module:attribute` (attribute may be dotted)."""
    module_name, sep, attr_path = path.partition(":")
    if not sep or not module_name or not attr_path:
        raise RegistryError(f"{path!r} is not an import path of the form 'package.module:Name'")
    try:
        obj: object = importlib.import_module(module_name)
    except ImportError as exc:
        raise RegistryError(f"cannot import module {module_name!r}: {exc}") from exc
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            raise RegistryError(f"module {module_name!r} has no attribute {attr_path!r}") from exc
    return obj


class Registry(Generic[T]):
    """Name -> object, with import-path fallback for names containing ':'."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str, item: T, *, replace: bool = False) -> T:
        if name in self._items and not replace:
            raise RegistryError(f"{self.kind} {name!r} is already registered")
        self._items[name] = item
        return item

    def get(self, name: str) -> T:
        if name in self._items:
            return self._items[name]
        if ":" in name:
            item: T = import_object(name)  # type: ignore[assignment]
            return item
        known = ", ".join(sorted(self._items)) or "none"
        raise RegistryError(f"unknown {self.kind} {name!r} (known: {known})")

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))

    def names(self) -> list[str]:
        return sorted(self._items)
