"""The adapter keeps the state real classes hold: trees with parent links and pointers into
them, int keys, sets, tuples, dates, Decimals, custom types; private generators and caches
stay out of the fingerprint; a call costs what it touches."""

from __future__ import annotations

import heapq
import random
from collections import Counter, OrderedDict, defaultdict, deque
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domains.adapter import ClassDomain, Codec, reads, writes
from domains.adapter.codec import ValueCodec
from domains.adapter.graph import Arena, Roles
from domains.environment import Environment
from domains.state import full_hash
from runtime.errors import DomainError

# -- a file system: nodes with parent links, a current directory pointing into the tree --------


class Node:
    def __init__(self, name: str, parent: Node | None, is_dir: bool = True) -> None:
        self.name = name
        self.parent = parent
        self.children: dict[str, Node] = {}
        self.is_dir = is_dir
        self.text = ""


class Tree:
    """A directory tree."""

    def __init__(self, dirs: int = 2, files: int = 2) -> None:
        self.root = Node("", None)
        for d in range(dirs):
            folder = Node(f"d{d}", self.root)
            self.root.children[folder.name] = folder
            for f in range(files):
                folder.children[f"f{f}"] = Node(f"f{f}", folder, is_dir=False)
        self.cwd = self.root

    @writes
    def cd(self, name: str) -> str:
        """Enter a directory ('..' goes up)."""
        target = self.cwd.parent if name == ".." else self.cwd.children.get(name)
        if target is None or not target.is_dir:
            raise LookupError(f"no directory {name}")
        self.cwd = target
        return self.path()

    @reads
    def path(self) -> str:
        """The current path."""
        parts, node = [], self.cwd
        while node.parent is not None:
            parts.append(node.name)
            node = node.parent
        return "/" + "/".join(reversed(parts))

    @writes
    def mkdir(self, name: str) -> str:
        """Make a directory here."""
        if name in self.cwd.children:
            raise ValueError(f"{name} exists")
        self.cwd.children[name] = Node(name, self.cwd)
        return name

    @writes
    def write(self, name: str, text: str) -> str:
        """Write a file here."""
        node = self.cwd.children.get(name) or Node(name, self.cwd, is_dir=False)
        node.text = text
        self.cwd.children[name] = node
        return name

    @writes
    def rm(self, name: str) -> str:
        """Remove a file or a directory with everything in it."""
        del self.cwd.children[name]
        return name

    @writes
    def mv(self, name: str, into: str) -> str:
        """Move an entry of this directory into a sibling directory."""
        node = self.cwd.children.pop(name)
        target = self.cwd.children[into]
        node.parent = target
        target.children[name] = node
        return f"{name} -> {into}"


def _tree(**init: Any) -> tuple[ClassDomain, Environment]:
    domain = ClassDomain(Tree)
    return domain, domain.environment({"init": init}).fork()


def test_parent_links_and_the_current_directory_survive_calls() -> None:
    domain, env = _tree()
    assert env.call("cd", {"name": "d1"}).output == "/d1"
    assert env.call("path").output == "/d1"
    same = domain.read(env, lambda tree: tree.cwd is tree.root.children["d1"])
    parent_is_root = domain.read(env, lambda tree: tree.cwd.parent is tree.root)
    assert same and parent_is_root
    assert env.call("cd", {"name": ".."}).output == "/"


def test_a_pointer_into_the_tree_is_a_reference_not_a_copy() -> None:
    _, env = _tree()
    root = env.state.get("objects", "self")
    assert root is not None
    assert root["cwd"] == {"$ref": "root"}
    assert env.state.get("objects", "root.children['d0']")["parent"] == {"$ref": "root"}  # type: ignore[index]


def test_removing_a_directory_deletes_its_subtree_and_equals_never_having_it() -> None:
    domain = ClassDomain(Tree)
    env = domain.environment({"init": {"dirs": 2}}).fork()
    env.call("rm", {"name": "d1"})
    gone = {change.key for change in env.diff() if change.after is None}
    assert gone == {
        "root.children['d1']",
        "root.children['d1'].children",
        "root.children['d1'].children['f0']",
        "root.children['d1'].children['f0'].children",
        "root.children['d1'].children['f1']",
        "root.children['d1'].children['f1'].children",
    }
    fresh = ClassDomain(Tree).environment({"init": {"dirs": 1}})
    assert env.fingerprint() == fresh.fingerprint()


def test_a_moved_node_stays_alive_and_keeps_its_children() -> None:
    domain, env = _tree()
    env.call("mv", {"name": "d0", "into": "d1"})
    assert env.call("cd", {"name": "d1"}).ok
    assert env.call("cd", {"name": "d0"}).output == "/d1/d0"
    names = domain.read(env, lambda tree: list(tree.cwd.children))
    assert names == ["f0", "f1"]
    assert all(change.after is not None for change in env.diff())
    assert env.fingerprint() == full_hash(env.snapshot())


class Pointer:
    """Keeps a pointer to a node that the tree drops."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, str]] = {"a": {"v": "1"}, "b": {"v": "2"}}
        self.held: dict[str, str] | None = None

    def hold(self, key: str) -> None:
        """Point at an item."""
        self.held = self.items[key]

    def drop(self, key: str) -> None:
        """Remove an item from the dict."""
        del self.items[key]

    @reads
    def held_value(self) -> str | None:
        """The held item's value."""
        return None if self.held is None else self.held["v"]

    def release(self) -> None:
        """Stop pointing."""
        self.held = None


def test_an_entry_dropped_from_a_dict_but_still_pointed_at_lives_until_released() -> None:
    env = ClassDomain(Pointer).environment({}).fork()
    env.call("hold", {"key": "a"})
    env.call("drop", {"key": "a"})
    assert env.state.get("objects", "items['a']") == {"$dict": [["v", "1"]]}
    assert env.call("held_value").value == "1"
    env.call("release")
    assert env.state.get("objects", "items['a']") is None


# -- the values real classes hold ----------------------------------------------------------------


class Ledger:
    """Accounts by number."""

    def __init__(self) -> None:
        self.accounts: dict[int, dict[str, Any]] = {
            7: {"owner": "ann", "balance": Decimal("10.50"), "tags": {"vip", "new"}},
        }
        self.opened = date(2025, 1, 31)
        self.history: list[tuple[int, Decimal]] = []
        self.rate = 1
        self._rng = random.Random(3)
        self._cache: dict[int, str] = {}

    def deposit(self, account: int, amount: str) -> str:
        """Add money."""
        entry = self.accounts[account]
        entry["balance"] += Decimal(amount)
        self.history.append((account, Decimal(amount)))
        return entry["balance"]  # type: ignore[no-any-return]

    def open_account(self, owner: str) -> int:
        """Open an account with a random number."""
        number = self._rng.randint(100, 999)
        self.accounts[number] = {"owner": owner, "balance": Decimal("0"), "tags": set()}
        return number

    def owner(self, account: int) -> str:
        """An account's owner (cached)."""
        if account not in self._cache:
            self._cache[account] = self.accounts[account]["owner"]
        return self._cache[account]

    def set_rate(self, rate: float) -> float:
        """Set the rate as given."""
        self.rate = rate  # type: ignore[assignment]
        return rate

    def reorder(self) -> list[int]:
        """Move the first account to the end."""
        first = next(iter(self.accounts))
        self.accounts[first] = self.accounts.pop(first)
        return list(self.accounts)


def _ledger() -> tuple[ClassDomain, Environment]:
    domain = ClassDomain(Ledger)
    return domain, domain.environment({}).fork()


def test_int_keys_decimals_sets_tuples_and_dates_are_stored_as_they_are() -> None:
    domain, env = _ledger()
    assert env.state.get("objects", "accounts") == {"$dict": [[7, {"$ref": "accounts[7]"}]]}
    assert env.state.get("objects", "accounts[7]") == {
        "$dict": [
            ["owner", "ann"],
            ["balance", {"$decimal": "10.50"}],
            ["tags", {"$ref": "accounts[7]['tags']"}],
        ]
    }
    assert env.state.get("objects", "accounts[7]['tags']") == {"$set": ["new", "vip"]}
    assert env.state.get("objects", "self")["opened"] == {"$date": "2025-01-31"}  # type: ignore[index]
    assert env.call("deposit", {"account": 7, "amount": "0.25"}).output == "10.75"
    history = domain.read(env, lambda ledger: ledger.history)
    assert history == [(7, Decimal("0.25"))]
    assert domain.read(env, lambda ledger: ledger.opened) == date(2025, 1, 31)


def test_a_random_generator_is_kept_per_fork_but_left_out_of_the_fingerprint() -> None:
    _, env = _ledger()
    before = env.fingerprint()
    first = env.call("open_account", {"owner": "bo"}).value
    second = env.call("open_account", {"owner": "cy"}).value
    assert first == random.Random(3).randint(100, 999)
    assert second != first  # the generator moved on within the fork
    other = ClassDomain(Ledger).environment({}).fork()
    assert other.call("open_account", {"owner": "bo"}).value == first  # each fork from the base
    assert env.fingerprint() != before
    assert all(change.table == "objects" for change in env.diff())


def test_filling_a_private_cache_is_not_a_change() -> None:
    _, env = _ledger()
    before = env.fingerprint()
    result = env.call("owner", {"account": 7})
    assert (result.value, result.changed) == ("ann", False)
    assert env.fingerprint() == before


def test_an_int_given_for_a_float_stays_an_int_and_differs_from_the_float() -> None:
    domain, as_int = _ledger()
    as_float = domain.environment({}).fork()
    as_int.call("set_rate", {"rate": 2})
    as_float.call("set_rate", {"rate": 2.0})
    assert type(domain.read(as_int, lambda ledger: ledger.rate)) is int
    assert as_int.fingerprint() != as_float.fingerprint()


def test_key_order_is_kept_and_is_part_of_the_state() -> None:
    domain = ClassDomain(Ledger)
    env = domain.environment({}).fork()
    env.call("open_account", {"owner": "bo"})
    opened = domain.read(env, lambda ledger: list(ledger.accounts))
    before = env.fingerprint()
    assert env.call("reorder").value == [opened[1], 7]
    assert domain.read(env, lambda ledger: list(ledger.accounts)) == [opened[1], 7]
    assert env.fingerprint() != before


class Money:
    """A custom numeric type the state does not know."""

    def __init__(self, cents: int) -> None:
        self.cents = cents

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Money) and other.cents == self.cents

    def __hash__(self) -> int:
        return hash(self.cents)


class Till:
    """Holds Money, stored through a codec."""

    __codecs__ = (
        Codec(Money, "money", lambda money: money.cents, lambda cents: Money(int(cents))),
    )

    def __init__(self) -> None:
        self.total = Money(100)

    def add(self, cents: int) -> int:
        """Add cents."""
        self.total = Money(self.total.cents + cents)
        return self.total.cents


def test_a_codec_stores_a_custom_type() -> None:
    domain = ClassDomain(Till)
    env = domain.environment({}).fork()
    assert env.state.get("objects", "self")["total"] == {"$codec": "money", "value": 100}  # type: ignore[index]
    assert env.call("add", {"cents": 5}).value == 105
    assert domain.read(env, lambda till: till.total) == Money(105)


class Clocked:
    """Stamps every call with the wall clock."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.touched = datetime(2025, 1, 1)

    def add(self, item: str) -> int:
        """Add an item."""
        self.touched = datetime.now()
        self.items.append(item)
        return len(self.items)

    def count(self) -> int:
        """How many items."""
        self.touched = datetime.now()
        return len(self.items)


def test_a_field_that_changes_on_every_call_is_reported() -> None:
    domain = ClassDomain(Clocked)
    domain.environment({})
    assert domain.warnings == [
        "Clocked.touched changes on every call (a clock or a counter?): make it volatile, "
        "exclude it, or freeze the clock"
    ]
    assert domain.write_tools() == ["add", "count"]


def test_a_frozen_clock_makes_the_same_calls_give_the_same_state() -> None:
    domain = ClassDomain(Clocked)
    base = domain.environment({"clock": "2025-03-01T09:00:00"})
    one, two = base.fork(), base.fork()
    one.call("add", {"item": "x"})
    two.call("add", {"item": "x"})
    assert one.fingerprint() == two.fingerprint()
    assert domain.read(one, lambda clocked: clocked.touched) == datetime(2025, 3, 1, 9)


def test_a_volatile_field_is_left_out_so_reads_are_reads_again() -> None:
    domain = ClassDomain(Clocked)
    env = domain.environment({"volatile": ["touched"]})
    assert domain.warnings == []
    assert domain.write_tools() == ["add"]
    assert env.fork().call("count").changed is False


def test_an_unknown_type_in_the_state_names_where_it_is() -> None:
    class Odd:
        def __init__(self) -> None:
            self.things = [1, memoryview(b"x")]

    with pytest.raises(DomainError, match=r"things\[1\] holds a memoryview"):
        ClassDomain(Odd).environment({})


# -- cost: what a call touches, not the instance ------------------------------------------------


def test_a_call_on_a_big_tree_encodes_only_what_it_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    domain = ClassDomain(Tree)
    env = domain.environment({"init": {"dirs": 300, "files": 5}}).fork()
    encoded: list[str] = []
    original = Arena.encode_node

    def counting(self: Arena, node: object, oid: str, ref: Any) -> Any:
        encoded.append(oid)
        return original(self, node, oid, ref)

    monkeypatch.setattr(Arena, "encode_node", counting)
    env.call("cd", {"name": "d17"})
    env.call("write", {"name": "f2", "text": "hello"})
    # cd: the root object; write: the directory's dict (its entry is set again) and the file
    assert encoded == [
        "self",
        "root.children['d17'].children",
        "root.children['d17'].children['f2']",
    ]
    assert [change.key for change in env.diff()] == [
        "root.children['d17'].children['f2']",
        "self",
    ]


# -- invariants -------------------------------------------------------------------------------

OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["cd", "mkdir", "write", "rm"]),
        st.sampled_from(["d0", "d1", "x", "y", ".."]),
    ),
    max_size=12,
)


@settings(max_examples=40, deadline=None)
@given(OPERATIONS)
def test_a_fork_after_calls_hashes_like_the_class_run_directly(
    operations: list[tuple[str, str]],
) -> None:
    env = ClassDomain(Tree).environment({}).fork()
    direct = Tree()
    for name, argument in operations:
        arguments = {"name": argument} if name != "write" else {"name": argument, "text": "t"}
        result = env.call(name, arguments)
        try:
            getattr(direct, name)(**arguments)
        except (LookupError, ValueError):
            assert not result.ok
        else:
            assert result.ok, result.output
    _, tables = Arena.load(direct, ValueCodec(), Roles())
    assert env.fingerprint() == full_hash({"objects": tables["objects"]})
    assert env.fingerprint() == full_hash(env.snapshot())


# -- every way of changing a container is seen ----------------------------------------------------


class Containers:
    """Each container kind the state holds, and methods changing them every which way."""

    def __init__(self) -> None:
        self.d: dict[str, int] = {"a": 1}
        self.lst: list[int] = [3, 1, 2]
        self.s: set[int] = {1}
        self.dd: defaultdict[str, list[int]] = defaultdict(list)
        self.counts: Counter[str] = Counter(a=1)
        self.od: OrderedDict[str, int] = OrderedDict(x=1, y=2)
        self.q: deque[int] = deque([1, 2], maxlen=3)

    def mutate(self, how: str) -> None:
        """Change one container in one way."""
        actions = {
            "setdefault": lambda: self.d.setdefault("b", 2),
            "pop": lambda: self.d.pop("a"),
            "update": lambda: self.d.update(c=3),
            "ior": lambda: self.d.__ior__({"e": 5}),
            "sort": lambda: self.lst.sort(),
            "iadd": lambda: self.lst.__iadd__([9]),
            "slice": lambda: self.lst.__setitem__(slice(0, 2), [7]),
            "set_update": lambda: self.s.update({2, 3}),
            "set_isub": lambda: self.s.__isub__({1}),
            "missing": lambda: self.dd["k"].append(1),
            "counter": lambda: self.counts.update("ab"),
            "move_to_end": lambda: self.od.move_to_end("x"),
            "deque": lambda: self.q.extend([3, 4]),
        }
        actions[how]()


HOWS = [
    "setdefault",
    "pop",
    "update",
    "ior",
    "sort",
    "iadd",
    "slice",
    "set_update",
    "set_isub",
    "missing",
    "counter",
    "move_to_end",
    "deque",
]


@pytest.mark.parametrize("how", HOWS)
def test_a_change_through_any_container_method_is_seen(how: str) -> None:
    domain = ClassDomain(Containers)
    env = domain.environment({}).fork()
    before = env.fingerprint()
    assert env.call("mutate", {"how": how}).changed
    direct = Containers()
    direct.mutate(how)
    _, tables = Arena.load(direct, ValueCodec(), Roles())
    assert env.fingerprint() == full_hash({"objects": tables["objects"]}) != before


def test_container_kinds_come_back_as_they_were() -> None:
    domain = ClassDomain(Containers)
    env = domain.environment({}).fork()
    env.call("mutate", {"how": "missing"})
    kinds = domain.read(
        env, lambda c: [type(c.dd).__mro__[1], type(c.counts).__mro__[1], c.q.maxlen]
    )
    assert kinds == [defaultdict, Counter, 3]
    assert domain.read(env, lambda c: (dict(c.dd), c.dd["new"])) == ({"k": [1]}, [])


class Cached:
    """An attribute declared excluded: not state, reset after every call."""

    __exclude__ = ("scratch",)

    def __init__(self) -> None:
        self.total = 0
        self.scratch: list[int] = []

    def add(self, amount: int) -> int:
        """Add, noting the amount in the scratch list."""
        self.scratch.append(amount)
        self.total += amount
        return len(self.scratch)


def test_an_excluded_attribute_is_not_state_and_is_reset_after_every_call() -> None:
    env = ClassDomain(Cached).environment({}).fork()
    assert "scratch" not in env.state.get("objects", "self")  # type: ignore[operator]
    assert env.call("add", {"amount": 2}).value == 1
    assert env.call("add", {"amount": 3}).value == 1


class Queue:
    """Changes its list around the write barriers: heapq works on the list directly."""

    def __init__(self) -> None:
        self.heap: list[int] = [5, 9]

    def push(self, value: int) -> int:
        """Push onto the heap; its smallest value."""
        heapq.heappush(self.heap, value)
        return self.heap[0]


def test_compare_all_sees_changes_made_around_the_write_barriers() -> None:
    domain = ClassDomain(Queue)
    env = domain.environment({"compare_all": True}).fork()
    assert env.call("push", {"value": 1}).changed
    assert domain.read(env, lambda queue: queue.heap) == [1, 9, 5]
    assert env.call("push", {"value": 7}).value == 1
    assert domain.read(env, lambda queue: queue.heap) == [1, 7, 5, 9]
    fresh = domain.environment({"compare_all": True}).fork()
    assert domain.read(fresh, lambda queue: queue.heap) == [5, 9]


class Cart:
    """A cart emptied two ways."""

    def __init__(self) -> None:
        self.items: list[str] = ["apple"]

    def clear(self) -> None:
        """Empty the cart by replacing its list."""
        self.items = []

    def remove(self, item: str) -> None:
        """Take one item out of the list in place."""
        self.items.remove(item)


def test_a_list_replaced_wholesale_takes_the_freed_id_and_equals_one_emptied_in_place() -> None:
    base = ClassDomain(Cart).environment({})
    replaced, emptied = base.fork(), base.fork()
    replaced.call("clear")
    emptied.call("remove", {"item": "apple"})
    assert [change.key for change in replaced.diff()] == ["items"]
    assert replaced.fingerprint() == emptied.fingerprint()


def test_a_default_is_overridden_by_declaring_the_attribute_state() -> None:
    domain = ClassDomain(Ledger)
    env = domain.environment({"state": ["_cache"]}).fork()
    result = env.call("owner", {"account": 7})
    assert result.changed
    assert env.state.get("objects", "_cache") == {"$dict": [[7, "ann"]]}
