"""How a plain object's attributes map onto copy-on-write tables, and back again.

Table `_attributes` lists every attribute in order, keyed by its name, with one of:
  `{"value": v}`          the attribute held inline (a scalar, list or None);
  `{"table": "records"}`  a dict of JSON objects: each entry is a record of table `<name>`;
  `{"table": "values"}`   any other dict: each entry `v` is the record `{"value": v}` of `<name>`.
A dict attribute is a "records" table when, at load time, it is non-empty and every value is a
JSON object; an empty dict is a "values" table, so it may later hold anything. Every dict
attribute is a table of its own, so a tool that changes one entry copies and rehashes that
entry only; the layout lives in the state itself, so any fork can be materialised alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, TypeVar

from domains.state import Record, State, Tables, copy_json, same_json
from runtime.errors import DomainError

ATTRIBUTES: Final = "_attributes"
RECORDS: Final = "records"
VALUES: Final = "values"
_SCALARS: Final = (str, int, float, bool, type(None))

T = TypeVar("T")


def check_json(value: Any, where: str) -> None:
    """Raise `DomainError` naming `where` unless `value` is JSON-like (exact builtin types)."""
    if type(value) is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise DomainError(f"{where}: key {key!r} is not a string")
            check_json(item, f"{where}[{key!r}]")
    elif type(value) is list:
        for index, item in enumerate(value):
            check_json(item, f"{where}[{index}]")
    elif type(value) not in _SCALARS:
        raise DomainError(f"{where} holds a {type(value).__name__}, not JSON-like data")


def to_tables(attributes: Mapping[str, Any], owner: str) -> Tables:
    """The tables holding `attributes` (an instance's `vars`), checked and deep-copied."""
    index: dict[str, Record] = {}
    tables: Tables = {ATTRIBUTES: index}
    for name, value in attributes.items():
        where = f"{owner}.{name}"
        check_json(value, where)
        if not isinstance(value, dict):
            index[name] = {"value": copy_json(value)}
            continue
        if name == ATTRIBUTES:
            raise DomainError(f"{where}: the name {ATTRIBUTES!r} is reserved by the adapter")
        if value and all(isinstance(item, dict) for item in value.values()):
            index[name] = {"table": RECORDS}
            tables[name] = {key: copy_json(item) for key, item in value.items()}
        else:
            index[name] = {"table": VALUES}
            tables[name] = {key: {"value": copy_json(item)} for key, item in value.items()}
    return tables


def materialise(cls: type[T], state: State) -> T:
    """A fresh instance of `cls` (`__init__` not called) holding a deep copy of the state."""
    instance = cls.__new__(cls)
    attributes: dict[str, Any] = {}
    for name, entry in state.items(ATTRIBUTES):
        mode = entry.get("table")
        if mode is None:
            attributes[name] = copy_json(entry["value"])
        elif mode == RECORDS:
            attributes[name] = {key: copy_json(record) for key, record in state.items(name)}
        else:
            attributes[name] = {
                key: copy_json(record["value"]) for key, record in state.items(name)
            }
    vars(instance).update(attributes)
    return instance


def write_back(state: State, attributes: Mapping[str, Any], owner: str) -> list[str]:
    """Stage the records that differ from `attributes`; the names of the changed attributes."""
    index = dict(state.items(ATTRIBUTES))
    changed: list[str] = []
    for name, entry in index.items():
        if name not in attributes:
            if "table" in entry:
                raise DomainError(f"{owner}.{name}: a dict attribute cannot be deleted")
            state.delete(ATTRIBUTES, name)
            changed.append(name)
    for name, value in attributes.items():
        where = f"{owner}.{name}"
        current = index.get(name)
        if current is not None and "table" in current:
            if _write_table(state, name, current["table"] == RECORDS, value, where):
                changed.append(name)
        elif current is None or not same_json(current["value"], value):
            check_json(value, where)
            state.insert(ATTRIBUTES, name, {"value": value})
            changed.append(name)
    return changed


def _write_table(state: State, table: str, records: bool, value: Any, where: str) -> bool:
    if type(value) is not dict:
        raise DomainError(f"{where} must stay a dict: it is stored as table {table!r}")
    existing = dict(state.items(table))
    gone = [key for key in existing if key not in value]
    for key in gone:
        state.delete(table, key)
    changed = bool(gone)
    for key, item in value.items():
        if records and type(item) is not dict:
            raise DomainError(f"{where}[{key!r}] must stay a JSON object: the table holds records")
        record = item if records else {"value": item}
        old = existing.get(key)
        if old is None or not same_json(old, record):
            if type(key) is not str:
                raise DomainError(f"{where}: key {key!r} is not a string")
            check_json(item, f"{where}[{key!r}]")
            state.insert(table, key, record)
            changed = True
    return changed
