"""Copy-on-write state: fork isolation, transactions, fingerprints, diffs."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from domains.state import State, full_hash
from domains.tools import ToolArgs, tool


def _tables() -> dict[str, dict[str, dict[str, Any]]]:
    return {
        "users": {"u1": {"name": "Ann", "tags": ["a"]}, "u2": {"name": "Bo", "tags": []}},
        "orders": {"o1": {"user": "u1", "total": 10.5}},
    }


def _set(state: State, table: str, key: str, field: str, value: Any) -> None:
    with state.transaction():
        state.write(table, key)[field] = value


def test_a_fork_sees_its_writes_and_the_base_does_not() -> None:
    base = State.from_tables(_tables())
    fork = base.fork()
    _set(fork, "users", "u1", "name", "Anna")
    assert fork.get("users", "u1") == {"name": "Anna", "tags": ["a"]}
    assert base.get("users", "u1") == {"name": "Ann", "tags": ["a"]}


def test_two_forks_do_not_see_each_others_writes() -> None:
    base = State.from_tables(_tables())
    left, right = base.fork(), base.fork()
    with left.transaction():
        left.write("users", "u1")["tags"].append("left")
    with right.transaction():
        right.write("users", "u1")["tags"].append("right")
    assert left.get("users", "u1")["tags"] == ["a", "left"]  # type: ignore[index]
    assert right.get("users", "u1")["tags"] == ["a", "right"]  # type: ignore[index]
    assert base.get("users", "u1")["tags"] == ["a"]  # type: ignore[index]


def test_a_fork_of_a_fork_does_not_leak_back() -> None:
    parent = State.from_tables(_tables()).fork()
    _set(parent, "users", "u1", "name", "P")
    child = parent.fork()
    _set(child, "users", "u1", "name", "C")
    assert parent.get("users", "u1")["name"] == "P"  # type: ignore[index]
    assert child.get("users", "u1")["name"] == "C"  # type: ignore[index]


def test_a_failed_transaction_leaves_no_trace() -> None:
    state = State.from_tables(_tables()).fork()
    before = state.fingerprint()
    with pytest.raises(ValueError), state.transaction():
        state.write("users", "u1")["name"] = "half"
        state.insert("users", "u3", {"name": "new", "tags": []})
        raise ValueError("check failed")
    assert state.get("users", "u1")["name"] == "Ann"  # type: ignore[index]
    assert not state.has("users", "u3")
    assert state.fingerprint() == before
    assert state.diff() == []


def test_writes_outside_a_transaction_are_refused() -> None:
    with pytest.raises(RuntimeError, match="transaction"):
        State.from_tables(_tables()).write("users", "u1")


def test_fingerprint_matches_the_full_hash_of_the_snapshot() -> None:
    state = State.from_tables(_tables()).fork()
    with state.transaction():
        state.write("orders", "o1")["total"] = 12
        state.insert("orders", "o2", {"user": "u2", "total": 1})
        state.delete("users", "u2")
    assert state.fingerprint() == full_hash(state.snapshot())
    assert state.fingerprint() != State.from_tables(_tables()).fingerprint()


def test_int_and_float_values_hash_differently() -> None:
    ints = State.from_tables({"t": {"k": {"v": 1}}})
    floats = State.from_tables({"t": {"k": {"v": 1.0}}})
    assert ints.fingerprint() != floats.fingerprint()


def test_dict_key_order_does_not_change_the_fingerprint() -> None:
    one = State.from_tables({"t": {"a": {"x": 1, "y": 2}, "b": {"z": 3}}})
    two = State.from_tables({"t": {"b": {"z": 3}, "a": {"y": 2, "x": 1}}})
    assert one.fingerprint() == two.fingerprint()


def test_diff_lists_changed_added_and_deleted_records() -> None:
    state = State.from_tables(_tables()).fork()
    with state.transaction():
        state.write("users", "u1")["name"] = "Z"
        state.insert("users", "u3", {"name": "New", "tags": []})
        state.delete("orders", "o1")
    changes = {(c.table, c.key): (c.before, c.after) for c in state.diff()}
    assert changes[("users", "u1")][1] == {"name": "Z", "tags": ["a"]}
    assert changes[("users", "u3")] == (None, {"name": "New", "tags": []})
    assert changes[("orders", "o1")] == ({"user": "u1", "total": 10.5}, None)


def test_a_write_that_restores_the_value_is_not_a_change() -> None:
    state = State.from_tables(_tables()).fork()
    with state.transaction():
        state.write("users", "u1")["name"] = "Ann"
    assert not state.last_transaction_changed
    assert state.diff() == []


def test_items_keep_base_order_then_new_records() -> None:
    state = State.from_tables(_tables()).fork()
    with state.transaction():
        state.insert("users", "u0", {"name": "First?", "tags": []})
        state.delete("users", "u1")
    assert state.keys("users") == ["u2", "u0"]


_writes = st.lists(
    st.tuples(st.sampled_from(["u1", "u2"]), st.sampled_from(["name", "x"]), st.integers(0, 3)),
    max_size=8,
)


@given(_writes)
def test_independent_writes_commute(writes: list[tuple[str, str, int]]) -> None:
    """Writes to different fields in any order reach the same fingerprint."""
    last: dict[tuple[str, str], int] = {}
    for key, field, value in writes:
        last[(key, field)] = value
    forward, backward = State.from_tables(_tables()).fork(), State.from_tables(_tables()).fork()
    items = list(last.items())
    for (key, field), value in items:
        _set(forward, "users", key, field, value)
    for (key, field), value in reversed(items):
        _set(backward, "users", key, field, value)
    assert forward.fingerprint() == backward.fingerprint()
    assert forward.fingerprint() == full_hash(forward.snapshot())


def _name(record: dict[str, Any]) -> Any:
    return record["name"]


def _scan(state: State, name: str) -> str | None:
    return next((key for key, record in state.items("users") if record["name"] == name), None)


_edits = st.lists(
    st.tuples(
        st.sampled_from(["set", "insert", "delete"]),
        st.sampled_from(["u1", "u2", "u3"]),
        st.sampled_from(["Ann", "Bo"]),
    ),
    max_size=6,
)


@given(_edits, st.booleans())
def test_find_gives_the_first_match_a_scan_gives(
    edits: list[tuple[str, str, str]], staged: bool
) -> None:
    """Base index or scan, committed or staged changes: the first record in items order."""
    base = State.from_tables(_tables())
    assert base.find("users", _name, "Bo") == "u2"  # builds the base index before any fork
    fork = base.fork()

    def apply() -> None:
        for action, key, name in edits:
            if action == "insert":
                fork.insert("users", key, {"name": name, "tags": []})
            elif action == "delete":
                fork.delete("users", key)
            elif fork.has("users", key):
                fork.write("users", key)["name"] = name

    if staged:
        with fork.transaction():
            apply()
            assert [fork.find("users", _name, n) for n in ("Ann", "Bo")] == [
                _scan(fork, n) for n in ("Ann", "Bo")
            ]
    else:
        with fork.transaction():
            apply()
    for name in ("Ann", "Bo", "Cy"):
        assert fork.find("users", _name, name) == _scan(fork, name)
        assert base.find("users", _name, name) == _scan(base, name)


def test_find_in_an_unknown_table_is_refused() -> None:
    with pytest.raises(KeyError, match="unknown table"):
        State.from_tables(_tables()).find("people", _name, "Ann")


def test_a_change_of_json_type_is_a_change() -> None:
    state = State.from_tables({"t": {"k": {"v": 1}}}).fork()
    with state.transaction():
        state.write("t", "k")["v"] = True
    assert state.last_transaction_changed
    assert [change.after for change in state.diff()] == [{"v": True}]


class _Inner(BaseModel):
    due: str


class _TitledArgs(ToolArgs):
    title: str
    when: _Inner


@tool()
def _add(state: State, args: _TitledArgs) -> str:
    """Add something."""
    return args.title


def test_tool_schemas_carry_no_generated_titles_but_keep_an_argument_named_title() -> None:
    parameters = _add.schema()["function"]["parameters"]
    assert "title" in parameters["properties"]
    assert "title" not in parameters["properties"]["title"]
    assert all("title" not in definition for definition in parameters["$defs"].values())
