"""Deadlines of many concurrent waits kept by one watchdog task instead of a timer each.

An anyio cancel scope with a deadline arms an event-loop timer: half a kilobyte per live
episode and per model call in flight, and a timer-heap insert and removal on each. Waits
that share a timeout have increasing deadlines, so each timeout value gets a FIFO queue:
adding is an append, finished waits are dropped from the queue's head as it advances, and
the watchdog sleeps only until the earliest head.
"""

from __future__ import annotations

import math
from collections import deque
from types import TracebackType
from typing import Protocol

import anyio


class Expiring(Protocol):
    """A wait the watchdog keeps: `limit` is its timeout, `deadline` is set when it is added."""

    limit: float
    deadline: float

    @property
    def done(self) -> bool:
        """True once the wait is over: the watchdog drops it unexpired."""

    def expire(self) -> None:
        """End the wait: its deadline has passed."""

    def close(self) -> None:
        """End the wait: the watchdog stops."""


class DeadlineWatch:
    """The watchdog: `add` a wait, and `run` (in a task group) expires it at its deadline.

    `scope(timeout_s)` is a cancel scope that the watchdog cancels at its deadline; while no
    watchdog runs (it was never started, or has stopped), it is anyio's scope with a deadline.
    """

    def __init__(self) -> None:
        self._queues: dict[float, deque[Expiring]] = {}
        self._wakeup = anyio.Event()
        self._next_deadline = math.inf
        self.running = False

    def add(self, wait: Expiring) -> None:
        """Keep `wait` until it is done, or expire it `wait.limit` seconds from now."""
        wait.deadline = deadline = anyio.current_time() + wait.limit
        queue = self._queues.get(wait.limit)
        if queue is None:
            queue = self._queues[wait.limit] = deque()
        while queue and queue[0].done:
            queue.popleft()
        queue.append(wait)
        if deadline < self._next_deadline:
            self._wakeup.set()

    def scope(self, timeout_s: float) -> WatchedScope:
        """A cancel scope cancelled `timeout_s` seconds after it is entered."""
        return WatchedScope(self, timeout_s)

    async def run(self) -> None:
        """Expire each wait still pending at its deadline; on exit, close every pending one."""
        self.running = True
        try:
            while True:
                now = anyio.current_time()
                self._next_deadline = self._expire(now)
                self._wakeup = anyio.Event()
                with anyio.move_on_after(self._next_deadline - now):
                    await self._wakeup.wait()
        finally:
            self.running = False
            queues, self._queues = self._queues, {}
            for queue in queues.values():
                for wait in queue:
                    if not wait.done:
                        wait.close()

    def _expire(self, now: float) -> float:
        """Expire overdue waits; return the earliest deadline still pending."""
        earliest = math.inf
        for queue in self._queues.values():
            while queue and (queue[0].done or queue[0].deadline <= now):
                wait = queue.popleft()
                if not wait.done:
                    wait.expire()
            if queue:
                earliest = min(earliest, queue[0].deadline)
        return earliest


class WatchedScope:
    """A cancel scope with a deadline kept by a `DeadlineWatch` (see `DeadlineWatch.scope`)."""

    __slots__ = ("_scope", "_watch", "deadline", "done", "limit")

    def __init__(self, watch: DeadlineWatch, timeout_s: float) -> None:
        self._watch = watch
        self.limit = timeout_s
        self.deadline = math.inf
        self.done = False
        self._scope = anyio.CancelScope()

    def __enter__(self) -> anyio.CancelScope:
        if self._watch.running:
            self._watch.add(self)
        else:
            self._scope.deadline = anyio.current_time() + self.limit
        return self._scope.__enter__()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        self.done = True
        return self._scope.__exit__(exc_type, exc, traceback)

    def expire(self) -> None:
        self._scope.cancel()

    def close(self) -> None:
        """The watchdog stopped: the scope keeps its deadline by a timer of its own."""
        self._scope.deadline = self.deadline
