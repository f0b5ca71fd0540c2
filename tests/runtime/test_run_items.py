"""Work items: made as they are taken, and run at most `limit` at once, counting the
episodes whose commit is not written yet."""

from __future__ import annotations

import itertools
import weakref
from types import SimpleNamespace
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from runtime.episodes import WorkItem, WorkList, run_items
from runtime.steps import Resources
from runtime.store_types import ResultPayload


class _Runner:
    """Finishes each item at once and counts the episodes not yet delivered."""

    def __init__(self) -> None:
        self.ctx = SimpleNamespace(resources=Resources())
        self.undelivered = 0
        self.most_undelivered = 0

    async def execute(self, item: WorkItem) -> Any:
        self.undelivered += 1
        self.most_undelivered = max(self.most_undelivered, self.undelivered)
        await anyio.lowlevel.checkpoint()
        return item.key


@pytest.mark.anyio
async def test_an_episode_keeps_its_slot_until_its_commit_is_delivered() -> None:
    runner = _Runner()
    delivered: list[str] = []
    writer_free = anyio.Event()

    async def deliver(commit: Any) -> None:
        await writer_free.wait()  # a slow writer: every commit waits for it
        delivered.append(commit)
        runner.undelivered -= 1

    items = [WorkItem(key=f"k{index}", index=index, trial=0) for index in range(12)]
    async with anyio.create_task_group() as group:
        group.start_soon(run_items, runner, items, 3, deliver)  # type: ignore[arg-type]
        await anyio.wait_all_tasks_blocked()
        assert runner.most_undelivered == 3  # no new episode while three commits wait
        assert delivered == []
        writer_free.set()
    assert sorted(delivered) == sorted(item.key for item in items)
    assert runner.most_undelivered == 3


class _Commit:
    """A commit that can tell whether anything still holds it."""


@pytest.mark.anyio
async def test_a_worker_holds_nothing_of_its_last_episode_while_it_runs_the_next() -> None:
    commits: list[weakref.ref[_Commit]] = []
    held_at_start: list[bool] = []
    delivered: list[str] = []

    class Runner(_Runner):
        async def execute(self, item: WorkItem) -> Any:
            held_at_start.append(any(ref() is not None for ref in commits))
            commit = _Commit()
            commits.append(weakref.ref(commit))
            await anyio.lowlevel.checkpoint()
            return commit

    async def deliver(commit: Any) -> None:
        delivered.append(type(commit).__name__)

    items = [WorkItem(key=f"k{index}", index=index, trial=0) for index in range(5)]
    await run_items(Runner(), items, 1, deliver)  # type: ignore[arg-type]
    assert delivered == ["_Commit"] * 5
    assert held_at_start == [False] * 5


@pytest.mark.anyio
async def test_fewer_items_than_slots_start_one_worker_each() -> None:
    runner = _Runner()
    delivered: list[str] = []

    async def deliver(commit: Any) -> None:
        delivered.append(commit)

    items = [WorkItem(key=f"k{index}", index=index, trial=0) for index in range(2)]
    await run_items(runner, items, 1000, deliver)  # type: ignore[arg-type]
    assert sorted(delivered) == ["k0", "k1"]
    assert runner.most_undelivered == 2


def test_a_phase_of_numbered_episodes_makes_its_items_as_they_are_taken() -> None:
    work = WorkList(1_000_000, 3)
    assert len(work) == 3_000_000
    first = list(itertools.islice(work, 4))
    assert [(item.key, item.index, item.trial) for item in first] == [
        ("000000.t0", 0, 0),
        ("000000.t1", 0, 1),
        ("000000.t2", 0, 2),
        ("000001.t0", 1, 0),
    ]
    assert list(itertools.islice(work.item_keys(), 4)) == [item.key for item in first]


def test_the_items_of_an_input_phase_carry_their_source_inputs() -> None:
    inputs = {"b": [ResultPayload(kind="blueprint", payload={"id": 1})]}
    work = WorkList(["a", "b"], 1, inputs)
    items = list(work)
    assert [(item.key, item.index) for item in items] == [("a", 0), ("b", 1)]
    assert items[0].inputs == [] and items[1].inputs is inputs["b"]
    assert list(work.item_keys()) == ["a", "b"]
