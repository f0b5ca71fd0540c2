"""One watchdog keeps the deadlines of many scopes, with no timer per scope."""

from __future__ import annotations

import math

import anyio
import anyio.lowlevel
import pytest

from runtime.deadlines import DeadlineWatch

pytestmark = pytest.mark.anyio


async def test_a_watched_scope_is_cancelled_at_its_deadline_without_a_timer_of_its_own() -> None:
    watch = DeadlineWatch()
    async with anyio.create_task_group() as group:
        group.start_soon(watch.run)
        await anyio.lowlevel.checkpoint()
        started = anyio.current_time()
        with watch.scope(0.05) as scope:
            assert scope.deadline == math.inf  # the watchdog keeps it, not a loop timer
            await anyio.sleep(5)
        assert scope.cancelled_caught
        assert 0.04 <= anyio.current_time() - started < 2
        group.cancel_scope.cancel()


async def test_scopes_that_end_in_time_are_not_cancelled_and_later_ones_still_are() -> None:
    watch = DeadlineWatch()
    async with anyio.create_task_group() as group:
        group.start_soon(watch.run)
        await anyio.lowlevel.checkpoint()
        for _ in range(100):
            with watch.scope(0.05) as quick:
                await anyio.lowlevel.checkpoint()
            assert not quick.cancelled_caught
        with watch.scope(0.2) as other, watch.scope(0.05) as inner:
            await anyio.sleep(5)
        assert inner.cancelled_caught and not other.cancelled_caught
        group.cancel_scope.cancel()


async def test_without_a_running_watchdog_a_scope_keeps_its_own_deadline() -> None:
    watch = DeadlineWatch()
    with watch.scope(0.05) as scope:
        assert scope.deadline < math.inf
        await anyio.sleep(5)
    assert scope.cancelled_caught


async def test_a_scope_pending_when_the_watchdog_stops_still_ends_at_its_deadline() -> None:
    watch = DeadlineWatch()
    watchdog = anyio.CancelScope()

    async def run_watch() -> None:
        with watchdog:
            await watch.run()

    async with anyio.create_task_group() as group:
        group.start_soon(run_watch)
        await anyio.lowlevel.checkpoint()
        with watch.scope(0.1) as scope:
            watchdog.cancel()
            await anyio.sleep(0.01)
            assert not watch.running and scope.deadline < math.inf  # a timer of its own now
            await anyio.sleep(5)
        assert scope.cancelled_caught
