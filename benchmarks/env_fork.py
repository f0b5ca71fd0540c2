"""Copy-on-write forks vs deep copies, on retail data at spec scale, side by side in one run.

Per episode-like operation:
  (a) `State.fork()` + one order record written in a transaction + incremental `fingerprint()`;
  (b) `copy.deepcopy` of all tables + the same write + `full_hash` of everything.
Prints the time per operation of each (split by phase), the bytes each live fork/copy holds
(tracemalloc, over many live forks/copies with one change each) and both ratios (goal: >= 100x).

Then the same for an adapted class (a directory tree of a few thousand nodes with parent
links, through the generic adapter):
  (a) `Environment.fork()` + one tool call + `fingerprint()`;
  (b) `copy.deepcopy` of the instance + the same method called on it + a full hash of its
      whole object graph (every node encoded as the state stores it);
  (c) as (b), but hashing `pickle.dumps` of the copy instead: about the cheapest
      whole-instance hash there is (though not a state one could diff or fork), so a lower
      bound for any copy-the-instance approach;
goal: >= 20x on time against (b), and reported against (c).

    python benchmarks/env_fork.py [--seed 0] [--scale 1.0] [--forks 2000] [--copies 20]
                                  [--live-forks 200] [--live-copies 20]
                                  [--dirs 60] [--files 50] [--calls 500]
"""

from __future__ import annotations

import argparse
import copy
import gc
import hashlib
import pickle
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass

from domains.registry import resolve_domain
from domains.state import State, Tables, full_hash

GOAL = 100.0
ADAPTED_GOAL = 20.0
NEW_STATUS = "cancelled"


class _Node:
    def __init__(self, name: str, parent: _Node | None) -> None:
        self.name = name
        self.parent = parent
        self.children: dict[str, _Node] = {}
        self.text = ""
        self.size = 0


class BenchTree:
    """A directory tree: `dirs` directories of `files` files, every node linked to its parent."""

    def __init__(self, dirs: int = 60, files: int = 50) -> None:
        self.root = _Node("", None)
        for d in range(dirs):
            folder = _Node(f"d{d}", self.root)
            self.root.children[folder.name] = folder
            for f in range(files):
                folder.children[f"f{f}"] = _Node(f"f{f}", folder)
        self.cwd = self.root
        self.writes = 0

    def write(self, folder: str, name: str, text: str) -> int:
        """Write text into a file of a directory; the file's new size."""
        node = self.root.children[folder].children[name]
        node.text = text
        node.size = len(text)
        self.writes += 1
        return node.size


def _adapted(dirs: int, files: int, calls: int, copies: int) -> tuple[Phases, Phases, Phases, int]:
    """(a), (b) and (c) for the adapted tree; also the number of nodes."""
    from domains.adapter import ClassDomain
    from domains.adapter.codec import ValueCodec
    from domains.adapter.graph import Arena, Roles

    domain = ClassDomain(BenchTree)
    base = domain.environment({"init": {"dirs": dirs, "files": files}, "infer_access": False})
    instance = BenchTree(dirs, files)
    nodes = len(Arena.records_of(instance, ValueCodec(), Roles()))

    def arguments(run: int) -> dict[str, str]:
        return {"folder": f"d{run % dirs}", "name": f"f{run % files}", "text": f"v{run}"}

    check = base.fork()
    check.call("write", arguments(0))
    direct = copy.deepcopy(instance)
    direct.write(**arguments(0))
    expected = full_hash({"objects": Arena.records_of(direct, ValueCodec(), Roles())})
    assert check.fingerprint() == expected, "fingerprint and full hash disagree"

    forks = Phases(("fork", "call", "fingerprint"), [0.0, 0.0, 0.0], calls)
    clock = time.perf_counter
    for run in range(calls):
        start = clock()
        fork = base.fork()
        forked = clock()
        fork.call("write", arguments(run))
        called = clock()
        fork.fingerprint()
        done = clock()
        forks.seconds[0] += forked - start
        forks.seconds[1] += called - forked
        forks.seconds[2] += done - called
    deep = Phases(("deepcopy", "call", "full_hash"), [0.0, 0.0, 0.0], copies)
    for run in range(copies):
        start = clock()
        copied = copy.deepcopy(instance)
        forked = clock()
        copied.write(**arguments(run))
        called = clock()
        full_hash({"objects": Arena.records_of(copied, ValueCodec(), Roles())})
        done = clock()
        deep.seconds[0] += forked - start
        deep.seconds[1] += called - forked
        deep.seconds[2] += done - called
    pickled = Phases(("deepcopy", "call", "pickle hash"), [0.0, 0.0, 0.0], copies)
    for run in range(copies):
        start = clock()
        copied = copy.deepcopy(instance)
        forked = clock()
        copied.write(**arguments(run))
        called = clock()
        hashlib.sha256(pickle.dumps(copied)).hexdigest()
        done = clock()
        pickled.seconds[0] += forked - start
        pickled.seconds[1] += called - forked
        pickled.seconds[2] += done - called
    return forks, deep, pickled, nodes


@dataclass
class Phases:
    """Accumulated seconds per phase of one kind of operation."""

    names: tuple[str, str, str]
    seconds: list[float]
    runs: int = 0

    def per_op(self) -> list[float]:
        return [total / self.runs for total in self.seconds]

    def total_per_op(self) -> float:
        return sum(self.seconds) / self.runs


def time_forks(base: State, keys: list[str], runs: int) -> Phases:
    """(a): fork, one write in a transaction, fingerprint; `runs` times over cycling orders."""
    phases = Phases(("fork", "write", "fingerprint"), [0.0, 0.0, 0.0], runs)
    clock = time.perf_counter
    for run in range(runs):
        key = keys[run % len(keys)]
        start = clock()
        fork = base.fork()
        forked = clock()
        with fork.transaction():
            fork.write("orders", key)["status"] = NEW_STATUS
        written = clock()
        fork.fingerprint()
        done = clock()
        phases.seconds[0] += forked - start
        phases.seconds[1] += written - forked
        phases.seconds[2] += done - written
    return phases


def time_copies(tables: Tables, keys: list[str], runs: int) -> Phases:
    """(b): deepcopy of every table, the same write, a full hash; `runs` times."""
    phases = Phases(("deepcopy", "write", "full_hash"), [0.0, 0.0, 0.0], runs)
    clock = time.perf_counter
    for run in range(runs):
        key = keys[run % len(keys)]
        start = clock()
        copied = copy.deepcopy(tables)
        forked = clock()
        copied["orders"][key]["status"] = NEW_STATUS
        written = clock()
        full_hash(copied)
        done = clock()
        phases.seconds[0] += forked - start
        phases.seconds[1] += written - forked
        phases.seconds[2] += done - written
    return phases


def bytes_per_live(make: Callable[[str], object], keys: list[str], count: int) -> float:
    """Traced bytes still allocated per object while `count` objects from `make` are alive."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    alive = [make(keys[index % len(keys)]) for index in range(count)]
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del alive
    return (after - before) / count


def changed_fork(base: State) -> Callable[[str], object]:
    """A maker of live forks with one changed order each."""

    def make(key: str) -> object:
        fork = base.fork()
        with fork.transaction():
            fork.write("orders", key)["status"] = NEW_STATUS
        return fork

    return make


def changed_copy(tables: Tables) -> Callable[[str], object]:
    """A maker of live deep copies with one changed order each."""

    def make(key: str) -> object:
        copied = copy.deepcopy(tables)
        copied["orders"][key]["status"] = NEW_STATUS
        return copied

    return make


def _duration(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:,.1f} {unit}"
    return f"{seconds / 1e-9:,.0f} ns"


def _size(count: float) -> str:
    for unit, scale in (("MB", 1 << 20), ("KB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:,.1f} {unit}"
    return f"{count:,.0f} B"


def main(argv: list[str] | None = None) -> None:
    """Run both measurements and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=0, help="retail generator seed")
    parser.add_argument("--scale", type=float, default=1.0, help="retail data size vs spec")
    parser.add_argument("--forks", type=int, default=2000, help="timed fork operations")
    parser.add_argument("--copies", type=int, default=20, help="timed deep-copy operations")
    parser.add_argument("--live-forks", type=int, default=200, help="forks kept alive")
    parser.add_argument("--live-copies", type=int, default=20, help="deep copies kept alive")
    parser.add_argument("--dirs", type=int, default=60, help="adapted tree: directories")
    parser.add_argument("--files", type=int, default=50, help="adapted tree: files per directory")
    parser.add_argument("--calls", type=int, default=500, help="adapted tree: timed fork calls")
    args = parser.parse_args(argv)

    env = resolve_domain("retail").environment({"data": {"seed": args.seed, "scale": args.scale}})
    base = env.state
    tables = base.snapshot()
    keys = list(tables["orders"])
    started = time.perf_counter()
    base.fingerprint()
    base_hash = time.perf_counter() - started
    check = base.fork()
    with check.transaction():
        check.write("orders", keys[0])["status"] = NEW_STATUS
    changed = copy.deepcopy(tables)
    changed["orders"][keys[0]]["status"] = NEW_STATUS
    assert check.fingerprint() == full_hash(changed), "fingerprint and full hash disagree"

    forks = time_forks(base, keys, args.forks)
    copies = time_copies(tables, keys, args.copies)
    fork_bytes = bytes_per_live(changed_fork(base), keys, args.live_forks)
    copy_bytes = bytes_per_live(changed_copy(tables), keys, args.live_copies)

    sizes = ", ".join(f"{len(records):,} {name}" for name, records in tables.items())
    print(f"retail data (seed {args.seed}, scale {args.scale}): {sizes}")
    print(f"base hash, computed once per base and shared by its forks: {_duration(base_hash)}\n")
    time_ratio = copies.total_per_op() / forks.total_per_op()
    memory_ratio = copy_bytes / fork_bytes
    rows = [
        ("", "(a) fork", "(b) deepcopy", "ratio b/a"),
        (
            "time per op",
            _duration(forks.total_per_op()),
            _duration(copies.total_per_op()),
            f"{time_ratio:,.0f}x",
        ),
        ("bytes per live state", _size(fork_bytes), _size(copy_bytes), f"{memory_ratio:,.0f}x"),
    ]
    for phase_a, phase_b, seconds_a, seconds_b in zip(
        forks.names, copies.names, forks.per_op(), copies.per_op(), strict=True
    ):
        rows.append((f"  {phase_a} | {phase_b}", _duration(seconds_a), _duration(seconds_b), ""))
    _print_rows(rows)
    runs = f"{args.forks:,} forks / {args.copies:,} copies timed"
    live = f"{args.live_forks:,} forks / {args.live_copies:,} copies alive"
    print(f"\n({runs}; {live})")
    for label, ratio in (("time", time_ratio), ("memory", memory_ratio)):
        verdict = "met" if ratio >= GOAL else "NOT met"
        print(f"goal >= {GOAL:.0f}x on {label}: {verdict} ({ratio:,.0f}x)")

    forks, deep, pickled, nodes = _adapted(args.dirs, args.files, args.calls, args.copies)
    ratio = deep.total_per_op() / forks.total_per_op()
    floor = pickled.total_per_op() / forks.total_per_op()
    print(f"\nadapted class: a tree of {nodes:,} nodes (objects and dicts), one method call each")
    rows = [
        ("", "(a) fork+call", "(b) deepcopy+call", "ratio b/a", "(c) +pickle hash", "ratio c/a"),
        (
            "time per op",
            _duration(forks.total_per_op()),
            _duration(deep.total_per_op()),
            f"{ratio:,.0f}x",
            _duration(pickled.total_per_op()),
            f"{floor:,.0f}x",
        ),
    ]
    for phase_a, phase_b, phase_c, seconds_a, seconds_b, seconds_c in zip(
        forks.names,
        deep.names,
        pickled.names,
        forks.per_op(),
        deep.per_op(),
        pickled.per_op(),
        strict=True,
    ):
        rows.append(
            (
                f"  {phase_a} | {phase_b} | {phase_c}",
                _duration(seconds_a),
                _duration(seconds_b),
                "",
                _duration(seconds_c),
                "",
            )
        )
    _print_rows(rows)
    print(f"\n({args.calls:,} fork calls / {args.copies:,} deep copies each timed)")
    for label, value in (("(b)", ratio), ("(c)", floor)):
        verdict = "met" if value >= ADAPTED_GOAL else "NOT met"
        goal = f"goal >= {ADAPTED_GOAL:.0f}x on time, adapted class vs {label}"
        print(f"{goal}: {verdict} ({value:,.0f}x)")


def _print_rows(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(
                cell.ljust(width) if column == 0 else cell.rjust(width)
                for column, (cell, width) in enumerate(zip(row, widths, strict=True))
            )
        )


if __name__ == "__main__":
    main()
