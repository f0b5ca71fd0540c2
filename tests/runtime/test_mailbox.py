"""The actor mailbox: FIFO order, capacity, writers served in turn, close semantics."""

from __future__ import annotations

import anyio
import pytest

from runtime.mailbox import Mailbox

pytestmark = pytest.mark.anyio


async def test_items_come_out_in_the_order_they_went_in() -> None:
    mailbox: Mailbox[int] = Mailbox(10)
    for item in range(5):
        mailbox.put_nowait(item)
    assert [await mailbox.get() for _ in range(5)] == [0, 1, 2, 3, 4]


async def test_a_full_mailbox_refuses_put_nowait() -> None:
    mailbox: Mailbox[int] = Mailbox(1)
    mailbox.put_nowait(1)
    with pytest.raises(anyio.WouldBlock):
        mailbox.put_nowait(2)


async def test_waiting_writers_are_served_in_arrival_order_within_capacity() -> None:
    mailbox: Mailbox[str] = Mailbox(1)
    mailbox.put_nowait("first")
    async with anyio.create_task_group() as group:
        for name in ("a", "b", "c"):
            group.start_soon(mailbox.put, name)
            await anyio.wait_all_tasks_blocked()
        received = []
        for _ in range(4):
            received.append(await mailbox.get())
            await anyio.wait_all_tasks_blocked()
            assert len(mailbox) <= 1
    assert received == ["first", "a", "b", "c"]


async def test_a_cancelled_waiting_writer_does_not_take_a_slot() -> None:
    mailbox: Mailbox[str] = Mailbox(1)
    mailbox.put_nowait("first")
    with anyio.move_on_after(0.01):
        await mailbox.put("cancelled")
    assert await mailbox.get() == "first"
    mailbox.put_nowait("next")
    assert await mailbox.get() == "next"


async def test_close_lets_the_reader_drain_then_ends_the_stream() -> None:
    mailbox: Mailbox[int] = Mailbox(5)
    mailbox.put_nowait(1)
    mailbox.close()
    with pytest.raises(anyio.ClosedResourceError):
        mailbox.put_nowait(2)
    assert await mailbox.get() == 1
    with pytest.raises(anyio.EndOfStream):
        await mailbox.get()


async def test_close_wakes_a_sleeping_reader_and_refuses_waiting_writers() -> None:
    mailbox: Mailbox[int] = Mailbox(1)
    mailbox.put_nowait(0)
    refused: list[str] = []

    async def blocked_writer() -> None:
        with pytest.raises(anyio.ClosedResourceError):
            await mailbox.put(1)
        refused.append("writer")

    async with anyio.create_task_group() as group:
        group.start_soon(blocked_writer)
        await anyio.wait_all_tasks_blocked()
        mailbox.close()
    assert refused == ["writer"]
    assert await mailbox.get() == 0
    with pytest.raises(anyio.EndOfStream):
        await mailbox.get()
