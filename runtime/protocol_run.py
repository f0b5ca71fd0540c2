"""Running a protocol for one episode: spawn its roles as actors, route what they say.

The engine sends `start` to the starting role, then takes messages in the order they were
said: it finds the first route for (sender, kind) whose condition holds, counts it, and
either ends the episode or delivers the message to the receiving role (to every instance of
a committee at once, then gathers their answers). When a counted route would pass its limit,
`limit.<counter>` is routed instead. Every delivery is kept in the trace.
"""

from __future__ import annotations

from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio

from runtime.actors import Actor, ActorSystem, InlineActorRef
from runtime.errors import ActorError, ApigenError
from runtime.log import get_logger
from runtime.protocol import (
    LIMIT_PREFIX,
    PROTOCOL,
    START,
    CheckedProtocol,
    Emitted,
    Outcome,
    Role,
    RouteSpec,
)

_log = get_logger("runtime.protocol")

SUMMARY_CHARS = 160


class ProtocolFailed(ApigenError):
    """The protocol could not go on: a role said nothing, or a message had no route."""


@dataclass(frozen=True, slots=True)
class LimitReached:
    """`limit.<counter>`: the counted route was not taken; `message` is what it carried."""

    counter: str
    sender: str
    kind: str
    message: Any

    @property
    def reason(self) -> str:
        """Why the episode ends here: the blocked message's own reason, if it has one."""
        inner = getattr(self.message, "reason", None)
        return inner if isinstance(inner, str) and inner else f"{self.counter} exhausted"

    def summary(self) -> str:
        return f"{self.counter} exhausted at {self.sender} {self.kind}"


@dataclass(frozen=True, slots=True)
class TraceEntry:
    """One delivery: who said what to whom (or what ended the episode).

    It keeps the message (its texts are the conversation's own) and makes the short text
    when it is read: a summary made for every delivery was a new string per message held by
    every live episode.
    """

    sender: str
    receiver: str
    kind: str
    message: Any

    @property
    def text(self) -> str:
        """The message in short (see `summarize`)."""
        return summarize(self.message)


@dataclass
class ProtocolResult:
    """How the episode ended, why, and every message in order."""

    outcome: Outcome
    reason: str
    last: Any = None
    trace: list[TraceEntry] = field(default_factory=list)


class _RoleActor(Actor[Emitted, Sequence[Emitted]]):
    """A role behind an actor's mailbox."""

    __slots__ = ("role",)

    def __init__(self, role: Role) -> None:
        self.role = role

    def handle(self, message: Emitted) -> Coroutine[Any, Any, Sequence[Emitted]]:
        """The role's own coroutine, awaited by the asker (no coroutine of this actor's)."""
        return self.role.handle(message.kind, message.message)

    async def on_stop(self) -> None:
        await self.role.close()


def _spawn(
    system: ActorSystem | None, actor: _RoleActor, name: str
) -> InlineActorRef[Emitted, Sequence[Emitted]]:
    if system is None:
        return InlineActorRef(name, actor)
    return system.spawn_inline(actor, name=name)


def summarize(message: Any) -> str:
    """A short text for the trace: the message's own `summary()`, else its text."""
    if message is None:
        return ""
    describe = getattr(message, "summary", None)
    text = describe() if callable(describe) else str(message)
    # "...", not an ellipsis character: one non-ASCII character doubles the string's size
    return text if len(text) <= SUMMARY_CHARS else text[: SUMMARY_CHARS - 3] + "..."


class ProtocolRun:
    """One episode's run of a checked protocol: its actors, counters and trace."""

    def __init__(
        self,
        protocol: CheckedProtocol,
        system: ActorSystem | None,
        context: Any,
        *,
        attached: Mapping[str, Role] | None = None,
        episode: str = "",
    ) -> None:
        """`attached` plays roles with the caller's own objects (embedding applications,
        a person at a console) instead of building them from their kinds; `system` counts
        the roles among its live actors (None: they stand alone)."""
        self.protocol = protocol
        self.context = context
        self.episode = episode
        self.counters = dict.fromkeys(protocol.spec.limits, 0)
        # sender, receiver, kind and message of each delivery in a row: four references
        # per message, not an entry object besides, in every live episode
        self._deliveries: list[Any] = []
        given = attached or {}
        self.actors: dict[str, tuple[InlineActorRef[Emitted, Sequence[Emitted]], ...]] = {}
        for name, spec in protocol.spec.roles.items():
            kind, params = protocol.kinds[name], protocol.params[name]
            roles = (
                [given[name]]
                if name in given
                else [kind.build(name, params, context, i) for i in range(spec.count)]
            )
            # named by role (a committee's members by index), not by episode as well: the
            # name would be a string per role per live episode, and logs bind the episode id
            self.actors[name] = tuple(
                _spawn(system, _RoleActor(role), f"{name}{i}" if i else name)
                for i, role in enumerate(roles)
            )

    async def run(self, start: Any) -> ProtocolResult:
        """Route from `start` until a route ends the episode; stop every role either way.

        The routing loop is here, not in a coroutine of its own: every live episode waits
        under it, and each coroutine in that chain costs a few hundred bytes.
        """
        first = Emitted(START, start)
        starter = self.protocol.spec.start.to
        try:
            if self.protocol.spec.start.count is not None:
                self.counters[self.protocol.spec.start.count] += 1
            self._note(PROTOCOL, starter, first)
            # a list, not a deque (600 bytes per live episode): it rarely holds more than two
            pending = [(starter, answer) for answer in await self._deliver(starter, first)]
            while pending:
                sender, said = pending.pop(0)
                route = self._counted(sender, said, pending)
                if route is None:
                    continue
                if route.end is not None:
                    self._note(sender, f"end:{route.end}", said)
                    reason = _reason(sender, said)
                    return ProtocolResult(route.end, reason, said.message, self.trace)
                assert route.to is not None
                self._note(sender, route.to, said)
                answers = await self._deliver(route.to, said)
                pending.extend((route.to, answer) for answer in answers)
            raise ProtocolFailed(
                f"the protocol stalled: no role has anything to say ({self.episode})"
            )
        finally:
            with anyio.CancelScope(shield=True):
                for refs in self.actors.values():
                    for ref in refs:
                        await ref.stop()

    def _counted(
        self, sender: str, said: Emitted, pending: list[tuple[str, Emitted]]
    ) -> RouteSpec | None:
        """The route `said` takes, counted; None when its counter is spent, in which case
        `limit.<counter>` is put first in `pending` instead."""
        route = self._route(sender, said)
        if route.count is not None:
            if self.counters[route.count] >= self.protocol.spec.limits[route.count]:
                reached = LimitReached(route.count, sender, said.kind, said.message)
                pending.insert(0, (PROTOCOL, Emitted(LIMIT_PREFIX + route.count, reached)))
                return None
            self.counters[route.count] += 1
        for counter in route.reset:
            self.counters[counter] = 0
        return route

    def _route(self, sender: str, said: Emitted) -> RouteSpec:
        """The first route for (sender, kind) whose condition holds."""
        for route in self.protocol.routes_from.get((sender, said.kind), ()):
            if route.when is None or self.protocol.kinds[sender].check_predicate(
                said.kind, route.when, said.message
            ):
                return route
        raise ProtocolFailed(f"no route takes {said.kind!r} from {sender!r}")

    async def _deliver(self, receiver: str, said: Emitted) -> list[Emitted]:
        """The receiver's answer, gathered by its kind from each instance's (a committee's
        members answer at once)."""
        refs = self.actors[receiver]
        delivered = (
            said if not said.kind.startswith(LIMIT_PREFIX) else Emitted("limit", said.message)
        )
        kind, params = self.protocol.kinds[receiver], self.protocol.params[receiver]
        if len(refs) == 1:  # asked here, not through `_ask`: one coroutine fewer per episode
            try:
                answer = await refs[0].ask(delivered)
            except ActorError as exc:
                raise ProtocolFailed(str(exc)) from exc
            return kind.gather(params, [answer], self.context)
        return kind.gather(params, await self._ask_all(refs, delivered), self.context)

    async def _ask_all(
        self, refs: Sequence[InlineActorRef[Emitted, Sequence[Emitted]]], said: Emitted
    ) -> list[Sequence[Emitted]]:
        """Each member's answer, asked at once. Its own method: the closure's variables
        would be cells made on every delivery, by committees or not."""
        answers: list[Sequence[Emitted]] = [()] * len(refs)

        async def one(index: int) -> None:
            answers[index] = await self._ask(refs[index], said)

        async with anyio.create_task_group() as group:
            for index in range(len(refs)):
                group.start_soon(one, index)
        return answers

    @staticmethod
    async def _ask(
        ref: InlineActorRef[Emitted, Sequence[Emitted]], said: Emitted
    ) -> Sequence[Emitted]:
        try:
            return await ref.ask(said)
        except ActorError as exc:
            raise ProtocolFailed(str(exc)) from exc

    @property
    def trace(self) -> list[TraceEntry]:
        """Every delivery so far, in order."""
        rows = self._deliveries
        return [TraceEntry(*rows[i : i + 4]) for i in range(0, len(rows), 4)]

    def _note(self, sender: str, receiver: str, said: Emitted) -> None:
        self._deliveries += (sender, receiver, said.kind, said.message)
        if not _log.debug_enabled:
            return
        _log.debug(
            "protocol.message",
            episode_id=self.episode,
            sender=sender,
            receiver=receiver,
            kind=said.kind,
            text=summarize(said.message),
        )


def _reason(sender: str, said: Emitted) -> str:
    """Why the episode ended: the message's own `reason`, else who said what."""
    reason = getattr(said.message, "reason", None)
    if isinstance(reason, str) and reason:
        return reason
    return f"{sender}: {said.kind}"
