"""Copy-on-write domain state: named tables of JSON records shared by every fork.

A fork stores only the records it changed; reads fall through to the shared base. Records
reached through the base or through committed changes are never mutated: a write always
works on a private copy, staged until the tool call succeeds.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

Record = dict[str, Any]
Tables = dict[str, dict[str, Record]]
RecordField = Callable[[Record], Hashable]
"""What `State.find` looks records up by: a module-level function, so its index is reused."""

_MODULUS: Final = 1 << 256


class _Deleted:
    """Marks a record removed in a fork."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<deleted>"


DELETED: Final = _Deleted()
Change = Record | _Deleted


def copy_json(value: Any) -> Any:
    """Deep-copy a JSON-like value (dicts, lists, scalars) much faster than `copy.deepcopy`."""
    if isinstance(value, dict):
        return {key: copy_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copy_json(item) for item in value]
    return value


def same_json(left: Any, right: Any) -> bool:
    """Structural equality that, unlike `==`, tells `1`, `1.0` and `True` apart."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(
            same_json(item, right[key]) for key, item in left.items()
        )
    if isinstance(left, list):
        return len(left) == len(right) and all(map(same_json, left, right))
    return bool(left == right)


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: equal data gives equal text, whatever the order."""
    return _CANONICAL.encode(value)


def record_hash(table: str, key: str, record: Record) -> int:
    """A 256-bit hash of one record at its address; the state hash is their sum."""
    text = f"{table}\x00{key}\x00{canonical_json(record)}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest(), "big")


class BaseData:
    """The shared, never-mutated tables of an environment, with its hash computed once."""

    __slots__ = ("_hash_cache", "_indexes", "_total", "tables")

    def __init__(self, tables: Tables) -> None:
        self.tables = tables
        self._hash_cache: dict[tuple[str, str], int] = {}
        self._indexes: dict[tuple[str, RecordField], dict[Hashable, str]] = {}
        self._total: int | None = None

    def index(self, table: str, field: RecordField) -> dict[Hashable, str]:
        """Each value of `field` in `table` -> the first key (in table order) that has it;
        built on first use and shared by every fork."""
        found = self._indexes.get((table, field))
        if found is None:
            found = {}
            for key, record in self.tables[table].items():
                found.setdefault(field(record), key)
            self._indexes[(table, field)] = found
        return found

    def record_hash(self, table: str, key: str) -> int:
        """The hash of a base record, memoised: forks ask for the same few again and again."""
        address = (table, key)
        cached = self._hash_cache.get(address)
        if cached is None:
            cached = record_hash(table, key, self.tables[table][key])
            self._hash_cache[address] = cached
        return cached

    def total_hash(self) -> int:
        """The sum of all record hashes (mod 2**256), computed on first use only."""
        if self._total is None:
            total = 0
            for table, records in self.tables.items():
                for key, record in records.items():
                    total += record_hash(table, key, record)
            self._total = total % _MODULUS
        return self._total


@dataclass(frozen=True)
class RecordChange:
    """One record that differs from the base: `before` is None when added, `after` when deleted."""

    table: str
    key: str
    before: Record | None
    after: Record | None


class State:
    """A copy-on-write view of `BaseData`: tools read and write records through it."""

    __slots__ = ("_base", "_changes", "_staged", "last_transaction_changed")

    def __init__(
        self, base: BaseData, changes: dict[tuple[str, str], Change] | None = None
    ) -> None:
        self._base = base
        self._changes: dict[tuple[str, str], Change] = changes if changes is not None else {}
        self._staged: dict[tuple[str, str], Change] | None = None
        self.last_transaction_changed = False

    @classmethod
    def from_tables(cls, tables: Tables) -> State:
        return cls(BaseData(tables))

    def fork(self) -> State:
        """A new view sharing the base and this view's committed changes (which are immutable)."""
        if self._staged is not None:
            raise RuntimeError("cannot fork a state in the middle of a tool call")
        return State(self._base, dict(self._changes))

    # -- reads ------------------------------------------------------------------------------

    def _lookup(self, table: str, key: str) -> Change | None:
        address = (table, key)
        if self._staged is not None and address in self._staged:
            return self._staged[address]
        if address in self._changes:
            return self._changes[address]
        return self._base.tables[table].get(key)

    def get(self, table: str, key: str) -> Record | None:
        """The current record, or None. Treat it as read-only; use `write` to change it."""
        self._check_table(table)
        found = self._lookup(table, key)
        return None if isinstance(found, _Deleted) else found

    def has(self, table: str, key: str) -> bool:
        return self.get(table, key) is not None

    def items(self, table: str) -> Iterator[tuple[str, Record]]:
        """Records in base order, then records added by this view in insertion order."""
        self._check_table(table)
        base = self._base.tables[table]
        changed = {key: change for (name, key), change in self._pending_items() if name == table}
        if not changed:  # the common case: a scan of the base alone
            yield from base.items()
            return
        for key, record in base.items():
            current = changed.get(key, record)
            if not isinstance(current, _Deleted):
                yield key, current
        for key, change in changed.items():
            if key not in base and not isinstance(change, _Deleted):
                yield key, change

    def keys(self, table: str) -> list[str]:
        return [key for key, _ in self.items(table)]

    def find(self, table: str, field: RecordField, value: Hashable) -> str | None:
        """The key of the first record (in `items` order) whose `field` is `value`, or None.

        While this view has not changed the table, a lookup in the base's index instead of
        a scan of the table.
        """
        self._check_table(table)
        if not any(name == table for name, _ in self._pending_addresses()):
            return self._base.index(table, field).get(value)
        return next((key for key, record in self.items(table) if field(record) == value), None)

    def _pending_addresses(self) -> Iterator[tuple[str, str]]:
        yield from self._changes
        if self._staged is not None:
            yield from self._staged

    def _pending_items(self) -> list[tuple[tuple[str, str], Change]]:
        merged = dict(self._changes)
        if self._staged is not None:
            merged.update(self._staged)
        return list(merged.items())

    # -- writes (only inside `transaction`) ------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Stage writes; commit them when the block succeeds, drop them when it raises."""
        if self._staged is not None:
            raise RuntimeError("nested state transactions are not supported")
        staged: dict[tuple[str, str], Change] = {}
        self._staged = staged
        try:
            yield
        finally:
            self._staged = None
        self.last_transaction_changed = any(
            self._is_change(address, change) for address, change in staged.items()
        )
        self._changes.update(staged)

    def _is_change(self, address: tuple[str, str], staged: Change) -> bool:
        """Whether a staged record differs from the committed one (a state change)."""
        return not same_json(self._committed(address), staged)

    def _committed(self, address: tuple[str, str]) -> Change | None:
        if address in self._changes:
            return self._changes[address]
        return self._base.tables[address[0]].get(address[1])

    def _stage(self) -> dict[tuple[str, str], Change]:
        if self._staged is None:
            raise RuntimeError("state writes happen inside State.transaction()")
        return self._staged

    def write(self, table: str, key: str) -> Record:
        """A private, mutable copy of an existing record; changes to it are this view's only."""
        staged = self._stage()
        address = (table, key)
        current = staged.get(address)
        if isinstance(current, dict):
            return current
        record = self.get(table, key)
        if record is None:
            raise KeyError(f"{table}/{key}")
        private: Record = copy_json(record)
        staged[address] = private
        return private

    def insert(self, table: str, key: str, record: Record) -> None:
        """Add a new record (or replace one wholesale)."""
        self._check_table(table)
        self._stage()[(table, key)] = copy_json(record)

    def delete(self, table: str, key: str) -> None:
        self._check_table(table)
        self._stage()[(table, key)] = DELETED

    # -- identity ---------------------------------------------------------------------------

    def fingerprint(self) -> str:
        """Hash of the whole logical state from the base hash and the changed records only."""
        total = self._base.total_hash()
        base_tables = self._base.tables
        for (table, key), change in self._changes.items():
            if key in base_tables[table]:
                total -= self._base.record_hash(table, key)
            if not isinstance(change, _Deleted):
                total += record_hash(table, key, change)
        return f"{total % _MODULUS:064x}"

    def diff(self) -> list[RecordChange]:
        """Records that differ from the base, in table then key order."""
        changes: list[RecordChange] = []
        for (table, key), change in sorted(self._changes.items(), key=lambda item: item[0]):
            before = self._base.tables[table].get(key)
            after = None if isinstance(change, _Deleted) else change
            if not same_json(before, after):
                changes.append(RecordChange(table, key, before, after))
        return changes

    def snapshot(self) -> Tables:
        """A deep copy of the full logical state, in the tables' own order."""
        return {
            table: {key: copy_json(record) for key, record in self.items(table)}
            for table in self._base.tables
        }

    def _check_table(self, table: str) -> None:
        if table not in self._base.tables:
            raise KeyError(f"unknown table {table!r}")


def full_hash(tables: Mapping[str, Mapping[str, Record]]) -> str:
    """Hash a materialised state the slow way; equals `State.fingerprint` for the same data."""
    total = sum(
        record_hash(table, key, record)
        for table, records in tables.items()
        for key, record in records.items()
    )
    return f"{total % _MODULUS:064x}"
