"""The generic adapter: a plain class's methods become tools, its attributes the state."""

from __future__ import annotations

import random
from datetime import date
from enum import Enum
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domains.adapter import ClassDomain, reads
from domains.base import Task, TaskPattern
from domains.environment import Environment
from domains.state import RecordChange, full_hash
from examples.todo_domain import TodoList
from runtime.errors import DomainError, ToolError

USERS = {"u1": {"name": "Ann"}, "u2": {"name": "Bo"}}
TODOS = {
    "t1": {"user_id": "u1", "title": "pay rent", "due": "2025-01-31", "done": False},
    "t2": {"user_id": "u2", "title": "call mum", "due": "2025-01-15", "done": False},
    "t3": {"user_id": "u1", "title": "buy milk", "due": "2025-01-02", "done": True},
}


def _env() -> Environment:
    return ClassDomain(TodoList).environment({"init": {"users": USERS, "todos": TODOS}}).fork()


def _pairs(record: dict[str, Any]) -> dict[str, Any]:
    """The stored form of a dict of scalars: its items as ordered pairs."""
    return {"$dict": [[key, value] for key, value in record.items()]}


def _todo(env: Environment, todo_id: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = ClassDomain(TodoList).read(
        env, lambda todo_list: todo_list.todos.get(todo_id)
    )
    return found


def _function(domain: ClassDomain, name: str) -> dict[str, Any]:
    schema: dict[str, Any] = domain.tools[name].schema()["function"]
    return schema


class Counter:
    """Counts things."""

    def __init__(self, start: int = 0) -> None:
        self.count = start
        self.log: list[str] = []

    @classmethod
    def from_text(cls, text: str) -> Counter:
        """A counter starting at the integer in `text`."""
        return cls(int(text))

    @staticmethod
    def helper() -> int:
        return 1

    @property
    def doubled(self) -> int:
        return 2 * self.count

    def bump(self, by: int = 1) -> int:
        """Add to the count."""
        self.count += by
        self.log.append(f"bump {by}")
        return self.count

    @reads
    def peek(self) -> int:
        """Read the count."""
        return self.count

    @reads
    def sneaky(self) -> int:
        """Claims to read, but writes."""
        self.count += 1
        return self.count

    def stash(self, note: str) -> None:
        """Store something the state cannot hold."""
        self.log.append(note)
        self.extra = memoryview(b"x")

    def fail(self, reason: str) -> None:
        """Change the count, then raise a tool error."""
        self.count = -1
        raise ToolError(reason)

    def _private(self) -> None:
        self.count = 0


class BumpPattern(TaskPattern):
    name = "bump"
    description = "bump the counter"
    write_tools = ("bump",)

    def instantiate(self, env: Environment, rng: random.Random) -> Task | None:
        return None


# -- tools from signatures and docstrings ------------------------------------------------------


def test_public_methods_become_tools_in_definition_order() -> None:
    assert list(ClassDomain(TodoList).tools) == [
        "get_user",
        "list_todos",
        "add_todo",
        "complete_todo",
        "rename_todo",
        "delete_todo",
    ]


def test_classmethods_staticmethods_properties_and_private_methods_are_not_tools() -> None:
    assert list(ClassDomain(Counter).tools) == ["bump", "peek", "sneaky", "stash", "fail"]


def test_the_schema_has_the_signature_and_the_docstring() -> None:
    function = _function(ClassDomain(TodoList), "add_todo")
    assert function["name"] == "add_todo"
    assert function["description"] == "Add a to-do for a user."
    parameters = function["parameters"]
    assert parameters["required"] == ["user_id", "title", "due"]
    assert parameters["additionalProperties"] is False
    assert parameters["properties"]["due"]["type"] == "string"
    assert parameters["properties"]["due"]["description"] == "The due date, as YYYY-MM-DD."


def test_a_parameter_with_a_default_is_optional_and_keeps_its_default() -> None:
    parameters = _function(ClassDomain(TodoList), "list_todos")["parameters"]
    assert parameters["required"] == ["user_id"]
    assert parameters["properties"]["include_done"]["type"] == "boolean"
    assert parameters["properties"]["include_done"]["default"] is False
    assert parameters["properties"]["include_done"]["description"] == (
        "Also list completed to-dos."
    )


def test_a_multi_line_args_entry_is_joined() -> None:
    class Notes:
        def add(self, text: str, pinned: bool = False) -> None:
            """Add a note.

            More detail that is not part of the summary.

            Args:
                text (str): The note's text,
                    at most one line.
                pinned: Keep it on top.

            Returns:
                Nothing.
            """

    function = _function(ClassDomain(Notes), "add")
    assert function["description"] == "Add a note."
    properties = function["parameters"]["properties"]
    assert properties["text"]["description"] == "The note's text, at most one line."
    assert properties["pinned"]["description"] == "Keep it on top."


def test_reads_and_writes_markers_set_the_flag_and_unmarked_methods_are_writes() -> None:
    assert ClassDomain(TodoList).write_tools() == [
        "add_todo",
        "complete_todo",
        "rename_todo",
        "delete_todo",
    ]
    assert ClassDomain(Counter).write_tools() == ["bump", "stash", "fail"]


def test_a_parameter_without_a_type_hint_is_refused() -> None:
    class Untyped:
        def tag(self, label) -> None:  # type: ignore[no-untyped-def]
            """Tag it."""

    with pytest.raises(DomainError, match=r"Untyped\.tag: parameter 'label' has no type hint"):
        ClassDomain(Untyped)


def test_a_variadic_parameter_is_refused() -> None:
    class Variadic:
        def tag(self, *labels: str) -> None:
            """Tag it."""

    with pytest.raises(DomainError, match="parameter 'labels' cannot be passed by name"):
        ClassDomain(Variadic)


# -- calls -------------------------------------------------------------------------------------


def test_a_wrong_type_is_an_error_result_naming_the_field() -> None:
    env = _env()
    result = env.call("add_todo", {"user_id": "u1", "title": 123, "due": "2025-03-01"})
    assert not result.ok
    assert result.output.startswith("Error: invalid arguments for add_todo: title:")


def test_an_unknown_argument_is_refused() -> None:
    result = _env().call("get_user", {"user_id": "u1", "admin": True})
    assert not result.ok
    assert "admin: Extra inputs are not permitted" in result.output


def test_a_missing_argument_is_refused() -> None:
    result = _env().call("complete_todo", {"user_id": "u1"})
    assert not result.ok
    assert "todo_id: Field required" in result.output


def test_a_successful_write_changes_the_fingerprint_and_the_diff_shows_the_record() -> None:
    env = _env()
    before = env.fingerprint()
    result = env.call("complete_todo", {"user_id": "u1", "todo_id": "t1"})
    assert result.ok and result.changed
    assert result.value == {**TODOS["t1"], "done": True}
    assert env.fingerprint() != before
    done = {**TODOS["t1"], "done": True}
    assert env.diff() == [RecordChange("objects", "todos['t1']", _pairs(TODOS["t1"]), _pairs(done))]


def test_adding_a_record_diffs_the_new_record_the_dict_and_the_counter() -> None:
    env = _env()
    result = env.call("add_todo", {"user_id": "u2", "title": " tax ", "due": "2025-04-30"})
    added = {"user_id": "u2", "title": "tax", "due": "2025-04-30", "done": False}
    assert result.value == {"todo_id": "t4", **added}
    refs = [[key, {"$ref": f"todos[{key!r}]"}] for key in ("t1", "t2", "t3")]
    root = {"$object": "examples.todo_domain:TodoList", "users": {"$ref": "users"}}
    root["todos"] = {"$ref": "todos"}
    assert env.diff() == [
        RecordChange("objects", "self", {**root, "next_id": 4}, {**root, "next_id": 5}),
        RecordChange(
            "objects",
            "todos",
            {"$dict": refs},
            {"$dict": [*refs, ["t4", {"$ref": "todos['t4']"}]]},
        ),
        RecordChange("objects", "todos['t4']", None, _pairs(added)),
    ]


def test_deleting_an_entry_deletes_its_record() -> None:
    env = _env()
    assert env.call("delete_todo", {"user_id": "u2", "todo_id": "t2"}).output == "deleted t2"
    assert [(change.key, change.after) for change in env.diff()][1:] == [("todos['t2']", None)]
    assert _todo(env, "t2") is None


def test_a_read_tool_returns_data_and_changes_nothing() -> None:
    env = _env()
    result = env.call("list_todos", {"user_id": "u1", "include_done": True})
    assert [todo["todo_id"] for todo in result.value] == ["t3", "t1"]
    assert not result.changed
    assert env.diff() == []


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("add_todo", {"user_id": "u1", "title": "x", "due": "soon"}, "due date 'soon' is not"),
        ("rename_todo", {"user_id": "u1", "todo_id": "t1", "title": " "}, "title must not be"),
        ("complete_todo", {"user_id": "u1", "todo_id": "t3"}, "to-do t3 is already done"),
        ("complete_todo", {"user_id": "u1", "todo_id": "t2"}, "to-do t2 not found for user u1"),
        ("get_user", {"user_id": "u9"}, "user u9 not found"),
    ],
)
def test_an_exception_is_an_error_result_and_leaves_the_state_unchanged(
    name: str, arguments: dict[str, Any], message: str
) -> None:
    env = _env()
    before = env.fingerprint()
    result = env.call(name, arguments)
    assert not result.ok
    assert result.output.startswith("Error: ")
    assert message in result.output
    assert env.fingerprint() == before
    assert env.diff() == []


def test_a_tool_error_after_a_change_leaves_the_state_unchanged() -> None:
    env = ClassDomain(Counter).environment({"init": {"start": 3}})
    result = env.call("fail", {"reason": "not today"})
    assert result.output == "Error: not today"
    assert env.call("peek").value == 3


def test_a_read_tool_that_changes_the_state_fails_and_changes_nothing() -> None:
    env = ClassDomain(Counter).environment({})
    result = env.call("sneaky")
    assert result.output == "Error: internal error in sneaky: DomainError"
    assert env.call("peek").value == 0


def test_a_method_storing_non_json_data_fails_and_changes_nothing() -> None:
    env = ClassDomain(Counter).environment({})
    result = env.call("stash", {"note": "n"})
    assert result.output == "Error: internal error in stash: DomainError"
    assert env.diff() == []


def test_a_string_that_looks_like_code_is_just_a_string() -> None:
    env = _env()
    code = "__import__('os').system('echo pwned')"
    result = env.call("rename_todo", {"user_id": "u1", "todo_id": "t1", "title": code})
    assert result.ok
    assert _todo(env, "t1") == {**TODOS["t1"], "title": code}
    refused = ClassDomain(Counter).environment({}).call("bump", {"by": "1+1"})
    assert "by: Input should be a valid integer" in refused.output


# -- argument types: exact JSON types, as every tool judges them ------------------------------


class Size(Enum):
    SMALL = "small"
    LARGE = "large"


class Ledger:
    """Amounts in several shapes."""

    def __init__(self) -> None:
        self.entries: list[Any] = []

    def add(self, amount: float, count: int = 1, note: str = "") -> list[Any]:
        """Record an amount."""
        self.entries.append([amount, count, note])
        return self.entries

    def add_all(self, amounts: list[float], scale: float | None = None) -> list[Any]:
        """Record several amounts."""
        self.entries.append([amounts, scale])
        return self.entries

    def mark(self, point: tuple[int, int], on: date, size: Size) -> list[Any]:
        """Record a point on a day."""
        self.entries.append([list(point), on.isoformat(), size.value])
        return self.entries


def _ledger() -> Environment:
    return ClassDomain(Ledger).environment({}).fork()


@pytest.mark.parametrize("count", ["3", 3.0, True, None])
def test_an_int_parameter_refuses_strings_floats_and_bools(count: Any) -> None:
    env = _ledger()
    result = env.call("add", {"amount": 1, "count": count})
    assert (
        result.output == "Error: invalid arguments for add: count: Input should be a valid integer"
    )
    assert env.diff() == []


@pytest.mark.parametrize("amount", [2, 2.5, 0.0])
def test_a_float_parameter_keeps_an_int_an_int_and_a_float_a_float(amount: Any) -> None:
    env = _ledger()
    assert env.call("add", {"amount": amount}).ok
    stored = ClassDomain(Ledger).read(env, lambda ledger: ledger.entries[0][0])
    assert (stored, type(stored)) == (amount, type(amount))


@pytest.mark.parametrize("amount", ["2.5", True, [2]])
def test_a_float_parameter_refuses_anything_but_a_number(amount: Any) -> None:
    result = _ledger().call("add", {"amount": amount})
    assert (
        result.output == "Error: invalid arguments for add: amount: Input should be a valid number"
    )


def test_a_string_parameter_refuses_a_number() -> None:
    result = _ledger().call("add", {"amount": 1, "note": 5})
    assert result.output == "Error: invalid arguments for add: note: Input should be a valid string"


def test_floats_inside_lists_and_optionals_keep_their_json_types() -> None:
    env = _ledger()
    assert env.call("add_all", {"amounts": [1, 2.5], "scale": 3}).value == [[[1, 2.5], 3]]
    entry = ClassDomain(Ledger).read(env, lambda ledger: ledger.entries[0])
    assert [type(value) for value in entry[0]] == [int, float]
    assert type(entry[1]) is int
    refused = env.call("add_all", {"amounts": [1, "2"]})
    assert refused.output.endswith("amounts.1: Input should be a valid number")


def test_a_float_parameter_is_a_number_in_the_schema() -> None:
    properties = _function(ClassDomain(Ledger), "add_all")["parameters"]["properties"]
    assert properties["amounts"] == {
        "type": "array",
        "items": {"type": "number"},
    }


def test_json_arrays_and_strings_fill_tuples_dates_and_enums_strictly_inside() -> None:
    env = _ledger()
    arguments = {"point": [1, 2], "on": "2025-01-31", "size": "small"}
    assert env.call("mark", arguments).value == [[[1, 2], "2025-01-31", "small"]]
    refused = env.call("mark", {**arguments, "point": [1, "2"]})
    assert (
        refused.output
        == "Error: invalid arguments for mark: point.1: Input should be a valid integer"
    )


# -- forks and fingerprints -------------------------------------------------------------------


def test_forks_do_not_see_each_others_calls() -> None:
    base = _env()
    left, right = base.fork(), base.fork()
    left.call("rename_todo", {"user_id": "u1", "todo_id": "t1", "title": "left"})
    right.call("delete_todo", {"user_id": "u1", "todo_id": "t1"})
    assert _todo(left, "t1") == {**TODOS["t1"], "title": "left"}
    assert _todo(right, "t1") is None
    assert _todo(base, "t1") == TODOS["t1"]


INDEPENDENT_CALLS = [
    ("complete_todo", {"user_id": "u1", "todo_id": "t1"}),
    ("rename_todo", {"user_id": "u2", "todo_id": "t2", "title": "call dad"}),
    ("delete_todo", {"user_id": "u1", "todo_id": "t3"}),
]


@settings(deadline=None)  # an environment (with probing) can outlast 200 ms on a busy machine
@given(st.permutations(INDEPENDENT_CALLS))
def test_the_same_state_reached_in_any_order_has_the_same_fingerprint(
    calls: list[tuple[str, dict[str, Any]]],
) -> None:
    reference = _env()
    reference.run([{"name": name, "kwargs": kwargs} for name, kwargs in INDEPENDENT_CALLS])
    env = _env()
    assert all(result.ok for result in env.run([{"name": n, "kwargs": k} for n, k in calls]))
    assert env.fingerprint() == reference.fingerprint()
    assert env.fingerprint() == full_hash(env.snapshot())


def test_undoing_a_change_restores_the_fingerprint() -> None:
    env = _env()
    before = env.fingerprint()
    env.call("rename_todo", {"user_id": "u1", "todo_id": "t1", "title": "other"})
    env.call("rename_todo", {"user_id": "u1", "todo_id": "t1", "title": "pay rent"})
    assert env.fingerprint() == before


# -- state layout --------------------------------------------------------------------------------


def test_each_object_and_container_is_a_record_keyed_by_the_path_that_reached_it() -> None:
    tables = ClassDomain(TodoList).load_tables(ClassDomain.options_model())
    assert tables["objects"]["self"] == {
        "$object": "examples.todo_domain:TodoList",
        "users": {"$ref": "users"},
        "todos": {"$ref": "todos"},
        "next_id": 3,
    }
    assert tables["objects"]["users"] == {
        "$dict": [["u1", {"$ref": "users['u1']"}], ["u2", {"$ref": "users['u2']"}]]
    }
    assert tables["objects"]["users['u1']"] == {"$dict": [["name", "Ann"]]}


def test_a_dict_of_scalars_is_one_record_that_round_trips() -> None:
    class Stock:
        def __init__(self) -> None:
            self.counts: dict[str, int] = {"apple": 2}

        def restock(self, item: str, count: int) -> dict[str, int]:
            """Add items."""
            self.counts[item] = self.counts.get(item, 0) + count
            return self.counts

    env = ClassDomain(Stock).environment({})
    assert env.snapshot()["objects"]["counts"] == {"$dict": [["apple", 2]]}
    assert env.call("restock", {"item": "pear", "count": 1}).value == {"apple": 2, "pear": 1}
    assert env.diff() == [
        RecordChange(
            "objects", "counts", {"$dict": [["apple", 2]]}, {"$dict": [["apple", 2], ["pear", 1]]}
        )
    ]


def test_a_changed_json_type_is_a_change() -> None:
    class Flag:
        def __init__(self) -> None:
            self.on: int | bool = 1

        def to_bool(self) -> None:
            """Make it a bool."""
            self.on = True

    env = ClassDomain(Flag).environment({})
    before = env.fingerprint()
    env.call("to_bool")
    assert type(env.state.get("objects", "self")["on"]) is bool  # type: ignore[index]
    assert env.fingerprint() != before


def test_an_attribute_the_state_cannot_hold_is_rejected_naming_it() -> None:
    class Viewed:
        def __init__(self) -> None:
            self.when = {"start": memoryview(b"x")}

    with pytest.raises(DomainError, match=r"when\['start'\] holds a memoryview, which the state"):
        ClassDomain(Viewed).environment({})


def test_a_class_without_an_attribute_dict_is_rejected() -> None:
    class Slotted:
        __slots__ = ("count",)

        def __init__(self) -> None:
            self.count = 0

    with pytest.raises(DomainError, match="'Slotted': instances have no attribute dict"):
        ClassDomain(Slotted).environment({})


def test_int_keys_stay_ints() -> None:
    class Numbered:
        def __init__(self) -> None:
            self.rows = {1: "one"}

        def add(self, number: int, text: str) -> list[Any]:
            """Add a row."""
            self.rows[number] = text
            return list(self.rows)

    env = ClassDomain(Numbered).environment({})
    assert env.call("add", {"number": 2, "text": "two"}).value == [1, 2]
    assert ClassDomain(Numbered).read(env, lambda numbered: numbered.rows) == {1: "one", 2: "two"}


# -- construction from options ---------------------------------------------------------------


def test_init_options_are_the_constructor_arguments() -> None:
    env = ClassDomain(Counter).environment({"init": {"start": 7}})
    assert env.call("peek").value == 7


def test_a_loader_builds_the_instance_from_its_args() -> None:
    env = ClassDomain(Counter).environment({"loader": "from_text", "args": {"text": "41"}})
    assert env.call("bump").value == 42


def test_a_default_loader_is_used_when_the_options_name_none() -> None:
    domain = ClassDomain(TodoList, loader="sample")
    env = domain.environment({"args": {"users": 4, "seed": 2}})
    assert domain.subjects(env) == ["u1", "u2", "u3", "u4"]


def test_the_same_loader_args_give_the_same_state() -> None:
    options = {"loader": "sample", "args": {"users": 5, "seed": 3}}
    domain = ClassDomain(TodoList)
    assert domain.environment(options).fingerprint() == domain.environment(options).fingerprint()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"initt": {}}, "options: initt: Extra inputs are not permitted"),
        ({"init": {"begin": 1}}, "option 'init': got an unexpected keyword argument 'begin'"),
        ({"loader": "bump"}, "option 'loader': 'bump' is not a classmethod or staticmethod"),
        ({"loader": "doubled"}, r"of Counter \(loaders: from_text, helper\)"),
        ({"loader": "from_text", "args": {}}, "option 'args': missing a required argument"),
        ({"args": {"text": "1"}}, "option 'args': needs a 'loader'"),
        ({"loader": "from_text", "init": {"start": 1}}, "option 'init': this domain is built by"),
        ({"loader": "from_text", "args": {"text": "x"}}, "building the instance failed: Value"),
    ],
)
def test_a_bad_option_is_a_domain_error_naming_it(options: dict[str, Any], message: str) -> None:
    with pytest.raises(DomainError, match=message):
        ClassDomain(Counter).environment(options)


def test_a_loader_returning_something_else_is_refused() -> None:
    with pytest.raises(DomainError, match="loader 'helper' returned a int, not a Counter"):
        ClassDomain(Counter).environment({"loader": "helper"})


# -- subjects, policy, patterns -------------------------------------------------------------------


def test_subjects_are_the_keys_of_the_subjects_attribute() -> None:
    domain = ClassDomain(TodoList)
    assert domain.subjects(_env()) == ["u1", "u2"]


def test_without_a_subject_table_there_is_one_default_subject() -> None:
    domain = ClassDomain(Counter)
    assert domain.subjects(domain.environment({})) == ["default"]


def test_a_subject_table_that_is_not_a_dict_attribute_is_an_error() -> None:
    domain = ClassDomain(Counter, subject_table="count")
    with pytest.raises(DomainError, match="subjects 'count' is not a dict attribute"):
        domain.subjects(domain.environment({}))


def test_the_subject_context_holds_the_subject_and_the_entries_mentioning_it() -> None:
    context = ClassDomain(TodoList).subject_context(_env(), "u1")
    assert context.records == {
        "users": {"u1": {"name": "Ann"}},
        "todos": {"t1": TODOS["t1"], "t3": TODOS["t3"]},
        "next_id": 4,
    }


def test_the_policy_is_the_argument_else_dunder_policy_else_the_docstring() -> None:
    assert ClassDomain(TodoList).policy.startswith("# To-do assistant\n\n- Act only for")
    assert ClassDomain(Counter, policy="Be nice.").policy == "Be nice."

    class Polite(Counter):
        __policy__ = "Say please."

    assert ClassDomain(Polite).policy == "Say please."


def test_without_patterns_the_graph_is_inferred_and_patterns_are_walks_on_it() -> None:
    domain = ClassDomain(TodoList)
    domain.environment({"init": {"users": USERS, "todos": TODOS}})
    assert [pattern.ending for pattern in domain.patterns] == ["act", "answer"]
    assert ("list_todos", "complete_todo") in domain.api_graph.edges


def test_patterns_come_from_the_class() -> None:
    class Patterned(Counter):
        __patterns__ = (BumpPattern(),)

    assert [pattern.name for pattern in ClassDomain(Patterned).patterns] == ["bump"]
