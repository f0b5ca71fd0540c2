"""The one-shot signal behind mailboxes and replies."""

from __future__ import annotations

import anyio
import pytest

from runtime.signal import Signal

pytestmark = pytest.mark.anyio


async def test_a_waiter_wakes_when_the_signal_is_set() -> None:
    signal = Signal()
    woke: list[bool] = []

    async def wait() -> None:
        await signal.wait()
        woke.append(True)

    async with anyio.create_task_group() as group:
        group.start_soon(wait)
        await anyio.wait_all_tasks_blocked()
        assert woke == []
        signal.set()
    assert woke == [True] and signal.is_set()


async def test_waiting_on_a_set_signal_returns_at_once() -> None:
    signal = Signal()
    signal.set()
    signal.set()
    with anyio.fail_after(1):
        await signal.wait()


async def test_a_cancelled_waiter_leaves_the_signal_usable() -> None:
    signal = Signal()
    with anyio.move_on_after(0.01) as scope:
        await signal.wait()
    assert scope.cancelled_caught
    signal.set()
    with anyio.fail_after(1):
        await signal.wait()
