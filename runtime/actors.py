"""A small actor system on anyio: spawn, tell, ask, bounded mailboxes, failure replies.

One `ActorSystem` owns one task group; every actor is a task in it reading a bounded
memory-object stream, so a slow actor applies backpressure to its senders. A handler's
exception becomes a failure reply to the asker (and a log event), never a crash of the system.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, TypeVar

import anyio
import structlog
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from runtime.errors import (
    ActorError,
    AskTimeout,
    HandlerFailed,
    MailboxClosed,
    MailboxFull,
)

MsgT = TypeVar("MsgT")
ReplyT = TypeVar("ReplyT")

_log = structlog.get_logger("runtime.actors")


class Actor(Generic[MsgT, ReplyT]):
    """Base class: override `handle`; `on_start`/`on_stop` run inside the actor's task."""

    async def on_start(self) -> None:
        """Called once before the first message."""

    async def handle(self, message: MsgT) -> ReplyT:
        raise NotImplementedError

    async def on_stop(self) -> None:
        """Called once after the mailbox is closed and drained (not on cancellation)."""


class FunctionActor(Actor[MsgT, ReplyT]):
    """An actor whose behaviour is one async function: handy for stateless services."""

    def __init__(self, fn: Callable[[MsgT], Any]) -> None:
        self._fn = fn

    async def handle(self, message: MsgT) -> ReplyT:
        result: ReplyT = await self._fn(message)
        return result


class _Reply:
    """A one-shot slot the actor fills and the asker waits on."""

    __slots__ = ("error", "event", "value")

    def __init__(self) -> None:
        self.event = anyio.Event()
        self.value: Any = None
        self.error: HandlerFailed | None = None


class _Envelope:
    __slots__ = ("message", "reply")

    def __init__(self, message: Any, reply: _Reply | None) -> None:
        self.message = message
        self.reply = reply


class ActorRef(Generic[MsgT, ReplyT]):
    """The only handle to an actor: send it messages, ask it questions, stop it."""

    __slots__ = ("_default_timeout", "_send", "_stopped", "name")

    def __init__(
        self,
        name: str,
        send: MemoryObjectSendStream[_Envelope],
        stopped: anyio.Event,
        default_timeout: float,
    ) -> None:
        self.name = name
        self._send = send
        self._stopped = stopped
        self._default_timeout = default_timeout

    def __repr__(self) -> str:
        return f"ActorRef({self.name!r})"

    async def tell(self, message: MsgT) -> None:
        """Send without waiting for a reply; waits while the mailbox is full."""
        await self._enqueue(_Envelope(message, None))

    async def _enqueue(self, envelope: _Envelope) -> None:
        """Put an envelope in the mailbox: at once when there is room, else wait for room."""
        try:
            try:
                self._send.send_nowait(envelope)
            except anyio.WouldBlock:
                await self._send.send(envelope)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError) as exc:
            raise MailboxClosed(f"actor {self.name!r} has stopped") from exc

    def tell_nowait(self, message: MsgT) -> None:
        """Send now or raise `MailboxFull`: for callers that must never block."""
        try:
            self._send.send_nowait(_Envelope(message, None))
        except anyio.WouldBlock as exc:
            raise MailboxFull(f"actor {self.name!r} mailbox is full") from exc
        except (anyio.ClosedResourceError, anyio.BrokenResourceError) as exc:
            raise MailboxClosed(f"actor {self.name!r} has stopped") from exc

    async def ask(self, message: MsgT, timeout: float | None = None) -> ReplyT:
        """Send and wait for the reply; the whole exchange is bounded by `timeout`."""
        limit = self._default_timeout if timeout is None else timeout
        reply = _Reply()
        envelope = _Envelope(message, reply)
        with anyio.move_on_after(limit) as scope:
            await self._enqueue(envelope)
            await reply.event.wait()
        if scope.cancelled_caught:
            raise AskTimeout(f"actor {self.name!r} did not reply within {limit}s")
        if reply.error is not None:
            raise reply.error
        result: ReplyT = reply.value
        return result

    async def stop(self, timeout: float | None = None) -> None:
        """Close the mailbox, let the actor drain it, and wait until it has finished."""
        self._send.close()
        with anyio.move_on_after(self._default_timeout if timeout is None else timeout):
            await self._stopped.wait()
        if not self._stopped.is_set():
            raise AskTimeout(f"actor {self.name!r} did not stop in time")


class ActorSystem:
    """Owns the task group every actor runs in; use as `async with ActorSystem() as system`.

    Leaving the block closes every mailbox and waits for the actors to drain; `shutdown()`
    (or an exception in the block) cancels them instead.
    """

    def __init__(self, *, mailbox_size: int = 64, ask_timeout_s: float = 30.0) -> None:
        if mailbox_size < 1:
            raise ValueError("mailbox_size must be at least 1")
        self._mailbox_size = mailbox_size
        self._ask_timeout_s = ask_timeout_s
        self._task_group: TaskGroup | None = None
        self._live: dict[int, MemoryObjectSendStream[_Envelope]] = {}
        self._ids = itertools.count()

    async def __aenter__(self) -> ActorSystem:
        self._task_group = anyio.create_task_group()
        await self._task_group.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        assert self._task_group is not None
        if exc is None:
            for send in list(self._live.values()):
                send.close()
        else:
            self._task_group.cancel_scope.cancel()
        try:
            return await self._task_group.__aexit__(exc_type, exc, tb)
        finally:
            self._task_group = None

    @property
    def live_actors(self) -> int:
        """How many actors are running now (spawned and not yet finished)."""
        return len(self._live)

    def shutdown(self) -> None:
        """Cancel every actor now (pending asks then time out or are cancelled)."""
        if self._task_group is not None:
            self._task_group.cancel_scope.cancel()

    def spawn(
        self,
        actor: Actor[MsgT, ReplyT],
        *,
        name: str | None = None,
        mailbox_size: int | None = None,
    ) -> ActorRef[MsgT, ReplyT]:
        """Start `actor` in the system's task group and return its reference."""
        if self._task_group is None:
            raise ActorError("the actor system is not running (use `async with`)")
        actor_id = next(self._ids)
        actor_name = name or f"{type(actor).__name__}-{actor_id}"
        size = self._mailbox_size if mailbox_size is None else mailbox_size
        send, receive = anyio.create_memory_object_stream[_Envelope](
            math.inf if size == 0 else size
        )
        stopped = anyio.Event()
        self._live[actor_id] = send
        self._task_group.start_soon(
            self._run, actor, actor_name, actor_id, receive, stopped, name=actor_name
        )
        return ActorRef(actor_name, send, stopped, self._ask_timeout_s)

    async def _run(
        self,
        actor: Actor[Any, Any],
        name: str,
        actor_id: int,
        receive: MemoryObjectReceiveStream[_Envelope],
        stopped: anyio.Event,
    ) -> None:
        try:
            async with receive:
                try:
                    await actor.on_start()
                except Exception as exc:
                    _log.error("actor.start_failed", actor=name, error=repr(exc))
                    _refuse_pending(receive, HandlerFailed(name, type(exc).__name__, str(exc)))
                    return
                async for envelope in receive:
                    await _deliver(actor, name, envelope)
                await actor.on_stop()
        finally:
            self._live.pop(actor_id, None)
            stopped.set()


async def _deliver(actor: Actor[Any, Any], name: str, envelope: _Envelope) -> None:
    """Run the handler for one message and route its result or failure."""
    reply = envelope.reply
    try:
        value = await actor.handle(envelope.message)
    except Exception as exc:
        _log.warning(
            "actor.handler_failed",
            actor=name,
            message=type(envelope.message).__name__,
            error=f"{type(exc).__name__}: {exc}",
        )
        if reply is not None:
            failure = HandlerFailed(name, type(exc).__name__, str(exc))
            failure.__cause__ = exc
            reply.error = failure
            reply.event.set()
        return
    _log.debug("actor.handled", actor=name, message=type(envelope.message).__name__)
    if reply is not None:
        reply.value = value
        reply.event.set()


def _refuse_pending(receive: MemoryObjectReceiveStream[_Envelope], failure: HandlerFailed) -> None:
    """Answer every ask already queued to an actor that could not start."""
    while True:
        try:
            envelope = receive.receive_nowait()
        except (anyio.WouldBlock, anyio.EndOfStream):
            return
        if envelope.reply is not None:
            envelope.reply.error = failure
            envelope.reply.event.set()
