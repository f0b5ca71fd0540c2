"""`run_items`: at most `limit` episodes at once, counting those whose commit is not written."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from runtime.episodes import WorkItem, run_items
from runtime.steps import Resources

pytestmark = pytest.mark.anyio


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
