"""A small actor system on anyio: spawn, tell, ask, bounded mailboxes, failure replies.

One `ActorSystem` owns one task group; every actor is a task in it reading a bounded
memory-object stream, so a slow actor applies backpressure to its senders. A handler's
exception becomes a failure reply to the asker (and a log event), never a crash of the system.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, TypeVar

import anyio
import anyio.lowlevel
from anyio.abc import TaskGroup

from runtime.deadlines import DeadlineWatch
from runtime.errors import (
    ActorError,
    AskTimeout,
    HandlerFailed,
    MailboxClosed,
    MailboxFull,
)
from runtime.log import get_logger
from runtime.mailbox import Mailbox
from runtime.signal import Signal

MsgT = TypeVar("MsgT")
ReplyT = TypeVar("ReplyT")

_log = get_logger("runtime.actors")


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
    """A one-shot slot the actor (or the deadline watchdog) fills and the asker waits on."""

    __slots__ = ("actor", "deadline", "done", "error", "event", "limit", "value")

    def __init__(self, actor: str, limit: float) -> None:
        self.event = Signal()
        self.actor = actor
        self.limit = limit
        self.deadline = math.inf
        self.value: Any = None
        self.error: ActorError | None = None
        self.done = False

    def resolve(self, value: Any) -> None:
        if not self.done:
            self.done = True
            self.value = value
            self.event.set()

    def fail(self, error: ActorError) -> None:
        if not self.done:
            self.done = True
            self.error = error
            self.event.set()

    def expire(self) -> None:
        self.fail(AskTimeout(f"actor {self.actor!r} did not reply within {self.limit}s"))

    def close(self) -> None:
        self.fail(MailboxClosed(f"actor {self.actor!r} stopped with the system"))


class _Envelope:
    __slots__ = ("message", "reply")

    def __init__(self, message: Any, reply: _Reply | None) -> None:
        self.message = message
        self.reply = reply


class ActorRef(Generic[MsgT, ReplyT]):
    """The only handle to an actor: send it messages, ask it questions, stop it."""

    __slots__ = ("_deadlines", "_default_timeout", "_mailbox", "_stopped", "name")

    def __init__(
        self,
        name: str,
        mailbox: Mailbox[_Envelope],
        stopped: anyio.Event,
        default_timeout: float,
        deadlines: DeadlineWatch,
    ) -> None:
        self.name = name
        self._mailbox = mailbox
        self._stopped = stopped
        self._default_timeout = default_timeout
        self._deadlines = deadlines

    def __repr__(self) -> str:
        return f"ActorRef({self.name!r})"

    async def tell(self, message: MsgT) -> None:
        """Send without waiting for a reply; waits while the mailbox is full."""
        await self._enqueue(_Envelope(message, None))

    async def _enqueue(self, envelope: _Envelope) -> None:
        """Put an envelope in the mailbox: at once when there is room, else wait for room."""
        try:
            await self._mailbox.put(envelope)
        except anyio.ClosedResourceError as exc:
            raise MailboxClosed(f"actor {self.name!r} has stopped") from exc

    def tell_nowait(self, message: MsgT) -> None:
        """Send now or raise `MailboxFull`: for callers that must never block."""
        try:
            self._mailbox.put_nowait(_Envelope(message, None))
        except anyio.WouldBlock as exc:
            raise MailboxFull(f"actor {self.name!r} mailbox is full") from exc
        except anyio.ClosedResourceError as exc:
            raise MailboxClosed(f"actor {self.name!r} has stopped") from exc

    async def ask(self, message: MsgT, timeout: float | None = None) -> ReplyT:
        """Send and wait for the reply; the whole exchange is bounded by `timeout`."""
        limit = self._default_timeout if timeout is None else timeout
        reply = _Reply(self.name, limit)
        envelope = _Envelope(message, reply)
        try:
            self._mailbox.put_nowait(envelope)
        except anyio.WouldBlock:
            with anyio.move_on_after(limit) as scope:
                await self._enqueue(envelope)
            if scope.cancelled_caught:
                raise AskTimeout(f"actor {self.name!r} did not reply within {limit}s") from None
        except anyio.ClosedResourceError as exc:
            raise MailboxClosed(f"actor {self.name!r} has stopped") from exc
        self._deadlines.add(reply)
        try:
            await reply.event.wait()
        finally:
            reply.done = True
        if reply.error is not None:
            raise reply.error
        result: ReplyT = reply.value
        return result

    async def stop(self, timeout: float | None = None) -> None:
        """Close the mailbox, let the actor drain it, and wait until it has finished."""
        self._mailbox.close()
        with anyio.move_on_after(self._default_timeout if timeout is None else timeout):
            await self._stopped.wait()
        if not self._stopped.is_set():
            raise AskTimeout(f"actor {self.name!r} did not stop in time")


class InlineActorRef(Generic[MsgT, ReplyT]):
    """An actor served in its senders' tasks: one message at a time, in arrival order.

    Its mailbox is a FIFO of turns: a sender waits its turn, then runs the handler itself.
    It has no task of its own, and no queue until two senders overlap (a lock's waiter
    deque alone is 600 bytes), so spawning and stopping one costs microseconds and a couple
    of hundred bytes: what per-episode participants (tens of thousands live at once) need.
    A handler's exception reaches the asker as `HandlerFailed`, as with any actor.
    """

    __slots__ = ("_actor", "_busy", "_started", "_stopped", "_system", "_waiting", "name")

    def __init__(
        self, name: str, actor: Actor[MsgT, ReplyT], system: ActorSystem | None = None
    ) -> None:
        """`system` counts the actor among its live ones; without one it stands alone."""
        self.name = name
        self._actor = actor
        self._system = system
        self._busy = False
        self._waiting: deque[Signal] | None = None  # senders waiting their turn, in order
        self._started = False
        self._stopped = False

    def __repr__(self) -> str:
        return f"InlineActorRef({self.name!r})"

    async def ask(self, message: MsgT) -> ReplyT:
        """Handle `message` (after earlier ones) and return the reply; bounded by the
        caller's cancel scope (an episode's deadline)."""
        if self._stopped:
            raise MailboxClosed(f"actor {self.name!r} has stopped")
        await self._take_turn()
        try:
            if not self._started:
                self._started = True
                await self._actor.on_start()
            try:
                reply = await self._actor.handle(message)
            except Exception as exc:
                _log.warning(
                    "actor.handler_failed",
                    actor=self.name,
                    message=type(message).__name__,
                    error=f"{type(exc).__name__}: {exc}",
                )
                failure = HandlerFailed(self.name, type(exc).__name__, str(exc))
                raise failure from exc
        finally:
            self._end_turn()
        if _log.debug_enabled:
            _log.debug("actor.handled", actor=self.name, message=type(message).__name__)
        return reply

    async def stop(self) -> None:
        """Refuse further messages; run `on_stop` once the current message is handled."""
        if self._stopped:
            return
        self._stopped = True
        await self._take_turn()
        try:
            if self._started:
                await self._actor.on_stop()
        finally:
            self._end_turn()
        if self._system is not None:
            self._system._inline_stopped()

    async def _take_turn(self) -> None:
        """Return once this sender may run the handler: at once when nobody else is in it
        (no checkpoint, like a free `anyio.Lock(fast_acquire=True)`), else after every
        sender that came earlier. A sender cancelled while waiting gives its place up."""
        if not self._busy:
            self._busy = True
            return
        if self._waiting is None:
            self._waiting = deque()
        turn = Signal()
        self._waiting.append(turn)
        try:
            await turn.wait()
        except BaseException:
            if turn.is_set():  # handed the turn as it was cancelled: pass it on
                self._end_turn()
            else:
                self._waiting.remove(turn)
            raise

    def _end_turn(self) -> None:
        """Hand the turn to the longest-waiting sender, or free it."""
        if self._waiting:
            self._waiting.popleft().set()
        else:
            self._busy = False


class ActorSystem:
    """Owns the task group every actor runs in; use as `async with ActorSystem() as system`.

    Leaving the block closes every mailbox and waits for the actors to drain; `shutdown()`
    (or an exception in the block) cancels them instead. Asks still pending when their
    actor or the system stops fail with `MailboxClosed` rather than hang.
    """

    def __init__(self, *, mailbox_size: int = 64, ask_timeout_s: float = 30.0) -> None:
        if mailbox_size < 1:
            raise ValueError("mailbox_size must be at least 1")
        self._mailbox_size = mailbox_size
        self._ask_timeout_s = ask_timeout_s
        self._services: TaskGroup | None = None
        self._task_group: TaskGroup | None = None
        self._live: dict[int, Mailbox[_Envelope]] = {}
        self._inline = 0
        self._ids = itertools.count()
        self._deadlines = DeadlineWatch()

    @property
    def deadlines(self) -> DeadlineWatch:
        """The system's deadline watchdog (asks, and per-episode scopes) while it runs."""
        return self._deadlines

    async def __aenter__(self) -> ActorSystem:
        services = anyio.create_task_group()
        await services.__aenter__()
        services.start_soon(self._deadlines.run, name="deadlines")
        actors = anyio.create_task_group()
        try:
            await actors.__aenter__()
        except BaseException:
            services.cancel_scope.cancel()
            await services.__aexit__(None, None, None)
            raise
        self._services, self._task_group = services, actors
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        assert self._services is not None and self._task_group is not None
        services, actors = self._services, self._task_group
        if exc is None:
            for mailbox in list(self._live.values()):
                mailbox.close()
        else:
            actors.cancel_scope.cancel()
        try:
            suppress = await actors.__aexit__(exc_type, exc, tb)
        finally:
            self._task_group = None
            services.cancel_scope.cancel()
            await services.__aexit__(None, None, None)
            self._services = None
        return suppress

    @property
    def live_actors(self) -> int:
        """How many actors are running now (spawned and not yet finished)."""
        return len(self._live) + self._inline

    def spawn_inline(
        self, actor: Actor[MsgT, ReplyT], *, name: str | None = None
    ) -> InlineActorRef[MsgT, ReplyT]:
        """An actor served in its senders' tasks (see `InlineActorRef`)."""
        if self._task_group is None:
            raise ActorError("the actor system is not running (use `async with`)")
        actor_id = next(self._ids)
        self._inline += 1
        return InlineActorRef(name or f"{type(actor).__name__}-{actor_id}", actor, self)

    def _inline_stopped(self) -> None:
        self._inline -= 1

    def shutdown(self) -> None:
        """Cancel every actor now; their pending asks fail with `MailboxClosed`."""
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
        mailbox: Mailbox[_Envelope] = Mailbox(math.inf if size == 0 else size)
        stopped = anyio.Event()
        self._live[actor_id] = mailbox
        self._task_group.start_soon(
            self._run, actor, actor_name, actor_id, mailbox, stopped, name=actor_name
        )
        return ActorRef(actor_name, mailbox, stopped, self._ask_timeout_s, self._deadlines)

    async def _run(
        self,
        actor: Actor[Any, Any],
        name: str,
        actor_id: int,
        mailbox: Mailbox[_Envelope],
        stopped: anyio.Event,
    ) -> None:
        current: list[_Envelope] = []
        try:
            try:
                await actor.on_start()
            except Exception as exc:
                _log.error("actor.start_failed", actor=name, error=repr(exc))
                mailbox.close()
                _refuse_pending(mailbox, HandlerFailed(name, type(exc).__name__, str(exc)))
                return
            await _serve(actor, name, mailbox, current)
            await actor.on_stop()
        finally:
            mailbox.close()
            closed = MailboxClosed(f"actor {name!r} stopped before replying")
            for envelope in current:
                if envelope.reply is not None:
                    envelope.reply.fail(closed)
            _refuse_pending(mailbox, closed)
            self._live.pop(actor_id, None)
            stopped.set()


_FAIR_SHARE = 64
"""Messages an actor handles back to back before yielding to other tasks."""


async def _serve(
    actor: Actor[Any, Any], name: str, mailbox: Mailbox[_Envelope], current: list[_Envelope]
) -> None:
    """Handle messages until the mailbox is closed and drained.

    A busy actor takes queued messages without sleeping, so it yields every `_FAIR_SHARE`
    messages to keep others from starving.
    """
    handled = 0
    while True:
        if len(mailbox):
            handled += 1
            if handled % _FAIR_SHARE == 0:
                await anyio.lowlevel.checkpoint()
        try:
            envelope = await mailbox.get()
        except anyio.EndOfStream:
            return
        current.append(envelope)
        await _deliver(actor, name, envelope)
        current.clear()


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
            reply.fail(failure)
        return
    _log.debug("actor.handled", actor=name, message=type(envelope.message).__name__)
    if reply is not None:
        reply.resolve(value)


def _refuse_pending(mailbox: Mailbox[_Envelope], failure: ActorError) -> None:
    """Answer every ask still queued to an actor that will not handle it."""
    while True:
        try:
            envelope = mailbox.get_nowait()
        except (anyio.WouldBlock, anyio.EndOfStream):
            return
        if envelope.reply is not None:
            envelope.reply.fail(failure)
