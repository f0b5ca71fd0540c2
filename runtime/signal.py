"""A one-shot, single-waiter signal: the wake-up primitive of mailboxes and replies.

Every round trip between two actors sets two of these. `anyio.Event` costs an anyio
wrapper, an asyncio.Event, its waiter deque and a future on every use; on asyncio this
needs only a future, created when (and if) someone waits. Other backends get an
`anyio.Event`, so semantics stay anyio's: waiting is a cancellation point.
"""

from __future__ import annotations

import asyncio

import anyio
import anyio.lowlevel
import sniffio


class Signal:
    """Set once; at most one task waits for it (a reply's asker, a mailbox's reader)."""

    __slots__ = ("_event", "_future", "_set")

    def __init__(self) -> None:
        self._set = False
        self._future: asyncio.Future[None] | None = None
        self._event: anyio.Event | None = None

    def set(self) -> None:
        if self._set:
            return
        self._set = True
        if self._future is not None and not self._future.done():
            self._future.set_result(None)
        if self._event is not None:
            self._event.set()

    def is_set(self) -> bool:
        return self._set

    async def wait(self) -> None:
        """Return once set (at once if it already is, after a checkpoint)."""
        if self._set:
            await anyio.lowlevel.checkpoint()
            return
        if sniffio.current_async_library() == "asyncio":
            self._future = asyncio.get_running_loop().create_future()
            await self._future
        else:
            self._event = anyio.Event()
            await self._event.wait()
