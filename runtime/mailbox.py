"""A bounded single-consumer mailbox: the queue in front of every actor.

anyio's memory object streams yield to the scheduler on every `receive()`, even when an
item is waiting, which costs one extra event-loop pass per message. This mailbox takes a
queued item synchronously and sleeps only when there is nothing to take; senders that find
it full wait in FIFO order (backpressure) until the actor makes room.
"""

from __future__ import annotations

from collections import deque
from typing import Generic, TypeVar

import anyio

from runtime.signal import Signal

T = TypeVar("T")


class Mailbox(Generic[T]):
    """FIFO with a capacity (`math.inf` for unbounded), one reader, many writers."""

    __slots__ = ("_capacity", "_closed", "_items", "_reader", "_reserved", "_writers")

    def __init__(self, capacity: float) -> None:
        if capacity < 1:
            raise ValueError("mailbox capacity must be at least 1")
        self._capacity = capacity
        self._items: deque[T] = deque()
        self._reader: Signal | None = None
        self._writers: deque[Signal] = deque()
        self._reserved = 0  # slots promised to woken writers that have not resumed yet
        self._closed = False

    def __len__(self) -> int:
        return len(self._items)

    @property
    def closed(self) -> bool:
        return self._closed

    def put_nowait(self, item: T) -> None:
        """Enqueue now; `anyio.WouldBlock` when full, `anyio.ClosedResourceError` when closed."""
        if self._closed:
            raise anyio.ClosedResourceError
        if len(self._items) + self._reserved >= self._capacity or self._writers:
            raise anyio.WouldBlock
        self._items.append(item)
        self._wake_reader()

    async def put(self, item: T) -> None:
        """Enqueue, waiting (after earlier waiting writers) while the mailbox is full."""
        try:
            self.put_nowait(item)
            return
        except anyio.WouldBlock:
            pass
        turn = Signal()
        self._writers.append(turn)
        try:
            await turn.wait()
        except BaseException:
            if turn.is_set():
                self._release()  # pass the slot we were promised to the next writer
            else:
                self._writers.remove(turn)
            raise
        if self._closed:
            raise anyio.ClosedResourceError
        self._reserved -= 1
        self._items.append(item)
        self._wake_reader()

    def get_nowait(self) -> T:
        """Dequeue now; `anyio.WouldBlock` when empty, `anyio.EndOfStream` when closed and empty."""
        if self._items:
            item = self._items.popleft()
            self._wake_writer()
            return item
        if self._closed:
            raise anyio.EndOfStream
        raise anyio.WouldBlock

    async def get(self) -> T:
        """Dequeue, sleeping until an item arrives; `anyio.EndOfStream` once closed and empty."""
        while not self._items:
            if self._closed:
                raise anyio.EndOfStream
            self._reader = Signal()
            await self._reader.wait()
        item = self._items.popleft()
        self._wake_writer()
        return item

    def close(self) -> None:
        """Refuse new items; the reader drains what is queued, waiting writers are refused."""
        if self._closed:
            return
        self._closed = True
        self._reserved = 0
        self._wake_reader()
        while self._writers:
            self._writers.popleft().set()

    def _wake_reader(self) -> None:
        if self._reader is not None:
            self._reader.set()
            self._reader = None

    def _wake_writer(self) -> None:
        if self._writers and len(self._items) + self._reserved < self._capacity:
            self._reserved += 1
            self._writers.popleft().set()

    def _release(self) -> None:
        if not self._closed:
            self._reserved -= 1
            self._wake_writer()
