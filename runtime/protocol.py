"""Protocols as data: who takes part in an episode, who talks to whom, and when it ends.

A protocol names its roles (each an instance, or a committee of instances, of a registered
role kind), where the conversation starts, and routes: a message of some kind from one role
goes to another role, or ends the episode with an outcome. Counted routes bound loops; when
a counter would pass its limit the protocol itself emits `limit.<counter>`, which a route
must take. Everything is checked when the playbook loads (`check_protocol`), so a protocol
that can emit a message nobody takes, or loop forever, never runs.
"""

from __future__ import annotations

import copy
import functools
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from runtime.errors import RegistryError
from runtime.registry import Registry

PROTOCOL = "protocol"
"""The pseudo-role that sends `start` and `limit.<counter>` messages."""
START = "start"
LIMIT = "limit"
"""The kind a role accepts to take any `limit.<counter>` message."""
LIMIT_PREFIX = LIMIT + "."
Outcome = Literal["accepted", "rejected", "unfinished", "failed"]
_NAME = r"^[A-Za-z][A-Za-z0-9_]*$"


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class RoleSpec(BaseModel):
    """A participant: its role kind, and the kind's parameters (model, prompt, ...)."""

    model_config = ConfigDict(extra="allow")

    agent: str = Field(description="a registered role kind or an import path 'pkg.mod:Kind'")
    count: int = Field(
        default=1, ge=1, le=64, description="instances; a message to the role reaches each"
    )
    sees: list[str] | None = Field(
        default=None, description="the data this role is shown (default: its kind's choice)"
    )

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class StartSpec(_Spec):
    to: str = Field(description="the role that receives the protocol's `start` message")
    count: str | None = Field(
        default=None, pattern=_NAME, description="counter the start adds one to (see limits)"
    )


class RouteSpec(_Spec):
    """`from` role's messages of `kind` go `to` a role, or `end` the episode."""

    sender: str = Field(alias="from", description=f"a role, or {PROTOCOL!r} for its messages")
    kind: str = Field(description="message kind, e.g. 'said', 'tool_calls', 'limit.turns'")
    to: str | None = Field(default=None, description="the receiving role")
    end: Outcome | None = Field(default=None, description="end the episode with this outcome")
    when: str | None = Field(
        default=None, description="a predicate the message kind offers (e.g. 'writes')"
    )
    count: str | None = Field(
        default=None, pattern=_NAME, description="counter this route adds one to (see limits)"
    )
    reset: list[str] = Field(default_factory=list, description="counters set back to zero")


class ProtocolSpec(_Spec):
    """A phase's conversation: roles, its first message, routes and loop bounds."""

    roles: dict[str, RoleSpec] = Field(min_length=1)
    start: StartSpec
    routes: list[RouteSpec] = Field(min_length=1)
    limits: dict[str, int] = Field(
        default_factory=dict, description="counter -> most times its routes may be taken"
    )


# -- role kinds ----------------------------------------------------------------------------


class Role(ABC):
    """One participant of one episode: handles a message, answers with messages it emits.

    Slotted (as its subclasses may be): tens of thousands of episodes hold their roles at once.
    """

    __slots__ = ()

    @abstractmethod
    async def handle(self, kind: str, message: Any) -> Sequence[Emitted]:
        """The messages this role says in answer to `message` (of `kind`)."""

    async def close(self) -> None:
        """Release what the role holds when its episode ends."""


@dataclass(frozen=True, slots=True)
class Emitted:
    """A message a role says: its kind and its value."""

    kind: str
    message: Any


class RoleKind(ABC):
    """A kind of participant: what it accepts and emits, its parameters, how to build one.

    `accepts` and `emits` map message kinds to their message types: routes are checked
    against them when a protocol loads. `predicates` names the `when:` conditions a
    message kind offers. `gather` combines the messages of a committee's instances.
    """

    name: ClassVar[str]
    accepts: ClassVar[Mapping[str, type[Any]]]
    emits: ClassVar[Mapping[str, type[Any]]]
    predicates: ClassVar[Mapping[str, frozenset[str]]] = {}
    params_model: ClassVar[type[BaseModel]]
    sees: ClassVar[tuple[str, ...]] = ()
    """What the kind is shown by default; a role's `sees` may narrow it."""
    can_see: ClassVar[frozenset[str]] = frozenset()
    """Everything a role of this kind may be shown."""
    needs: ClassVar[frozenset[str]] = frozenset()
    """Data the role works on that the phase must provide (e.g. `blueprint`: the episode's
    task, from the phase's input or an earlier step); checked when the playbook loads."""
    produces: ClassVar[frozenset[str]] = frozenset()
    """Data an accepted episode records because of this role (e.g. `blueprint`)."""

    @abstractmethod
    def build(self, role: str, params: BaseModel, context: Any, index: int = 0) -> Role:
        """Instance `index` of `role` for one episode (`context`: what the running phase
        provides, e.g. its model gateway and the episode's inputs; `index` tells a
        committee's members apart)."""

    def emitted(self, params: BaseModel) -> frozenset[str]:
        """The kinds a role with these parameters can emit (default: all of `emits`)."""
        return frozenset(self.emits)

    def gather(
        self, params: BaseModel, emitted: Sequence[Sequence[Emitted]], context: Any
    ) -> list[Emitted]:
        """The committee's answer from each instance's messages (default: all of them)."""
        return [message for messages in emitted for message in messages]

    def check_predicate(self, kind: str, predicate: str, message: Any) -> bool:
        """Whether `message` (of `kind`) satisfies `predicate`; see `predicates`."""
        raise NotImplementedError(f"{self.name}: no predicate {predicate!r} on {kind!r}")


class RoleKinds(Registry[RoleKind]):
    """Role kinds by name (extensions register theirs; a protocol may name an import path)."""

    def __init__(self) -> None:
        super().__init__("role kind")


def default_role_kinds() -> RoleKinds:
    """An empty registry of role kinds (extensions register theirs)."""
    return RoleKinds()


class ProtocolLibrary(Registry[Mapping[str, Any]]):
    """Named protocols a playbook can `use` and adjust (extensions register theirs)."""

    def __init__(self) -> None:
        super().__init__("protocol")


@dataclass(frozen=True)
class ProtocolCatalog:
    """What protocol steps are checked against when a playbook loads."""

    kinds: RoleKinds
    library: ProtocolLibrary


def resolve_protocol(raw: Mapping[str, Any], library: ProtocolLibrary) -> dict[str, Any]:
    """A protocol step's parameters with `use: NAME` replaced by the named protocol, adjusted
    by the step's own keys: each role's keys update that role's, `limits` update the limits,
    `start` and `routes` replace the library's."""
    if "use" not in raw:
        return dict(raw)
    name = raw["use"]
    if not isinstance(name, str):
        raise RegistryError(f"use: expected a protocol name, got {name!r}")
    base = copy.deepcopy(dict(library.get(name)))
    own = {key: value for key, value in raw.items() if key != "use"}
    for role, changes in dict(own.pop("roles", None) or {}).items():
        current = base.setdefault("roles", {}).get(role, {})
        base["roles"][role] = {**current, **changes} if isinstance(changes, dict) else changes
    base["limits"] = {**base.get("limits", {}), **dict(own.pop("limits", None) or {})}
    return {**base, **own}


# -- load-time checks ---------------------------------------------------------------------


@dataclass(frozen=True)
class ProtocolProblem:
    """A fault in a protocol: where it is (a path under the protocol) and what is wrong."""

    loc: tuple[str | int, ...]
    message: str


@dataclass(frozen=True)
class CheckedProtocol:
    """A protocol whose roles' kinds and parameters are resolved."""

    spec: ProtocolSpec
    kinds: dict[str, RoleKind]
    params: dict[str, BaseModel]

    @functools.cached_property
    def routes_from(self) -> dict[tuple[str, str], tuple[RouteSpec, ...]]:
        """The routes a (sender, message kind) may take, in the spec's order; made once for
        every episode of the phase."""
        found: dict[tuple[str, str], list[RouteSpec]] = {}
        for route in self.spec.routes:
            found.setdefault((route.sender, route.kind), []).append(route)
        return {address: tuple(routes) for address, routes in found.items()}

    @property
    def produces(self) -> frozenset[str]:
        """What an accepted episode of this protocol records."""
        return frozenset().union(*(kind.produces for kind in self.kinds.values()))

    def unmet_need(self, available: frozenset[str]) -> tuple[str, str] | None:
        """The first (role, data) a role needs that neither the phase nor the protocol's own
        roles provide; None when every need is met."""
        provided = available | self.produces
        for name, kind in self.kinds.items():
            for data in sorted(kind.needs - provided):
                return name, data
        return None


def check_protocol(
    spec: ProtocolSpec, kinds: RoleKinds, available: frozenset[str] = frozenset()
) -> CheckedProtocol | ProtocolProblem:
    """Resolve the roles and check the routes; the first problem found, or the result.

    `available` is the data the phase provides (its inputs, its domain): a role may be
    shown only what is available or what a role of the protocol produces.
    """
    resolved: dict[str, RoleKind] = {}
    params: dict[str, BaseModel] = {}
    for name, role in spec.roles.items():
        found = _resolve(kinds, role.agent)
        if isinstance(found, str):
            return ProtocolProblem(("roles", name, "agent"), found)
        try:
            params[name] = found.params_model.model_validate(role.params)
        except ValidationError as exc:
            first = exc.errors()[0]
            return ProtocolProblem(("roles", name, *first["loc"]), first["msg"])
        resolved[name] = found
        problem = _check_sees(name, role, found, available)
        if problem is not None:
            return problem
    emitted = {name: kind.emitted(params[name]) for name, kind in resolved.items()}
    problem = (
        _check_start(spec, resolved)
        or _check_routes(spec, resolved)
        or _check_taken(spec, emitted)
        or _check_loops(spec, resolved)
    )
    return problem if problem is not None else CheckedProtocol(spec, resolved, params)


def _resolve(kinds: RoleKinds, name: str) -> RoleKind | str:
    try:
        found: Any = kinds.get(name)
    except RegistryError as exc:
        return str(exc)
    if isinstance(found, type) and issubclass(found, RoleKind):
        found = found()
    if not isinstance(found, RoleKind):
        return f"{name!r} is not a role kind"
    return found


def _check_sees(
    name: str, role: RoleSpec, kind: RoleKind, available: frozenset[str]
) -> ProtocolProblem | None:
    for index, item in enumerate(role.sees or ()):
        if item not in kind.can_see:
            shown = ", ".join(sorted(kind.can_see)) or "nothing"
            message = f"a {kind.name} role cannot be shown {item!r} (it can see: {shown})"
            return ProtocolProblem(("roles", name, "sees", index), message)
        if available and item not in available:
            message = f"no input of this phase provides {item!r} (available: "
            message += f"{', '.join(sorted(available))})"
            return ProtocolProblem(("roles", name, "sees", index), message)
    return None


def _check_start(spec: ProtocolSpec, kinds: dict[str, RoleKind]) -> ProtocolProblem | None:
    if spec.start.to not in kinds:
        return ProtocolProblem(("start", "to"), _unknown_role(spec.start.to, kinds))
    if START not in kinds[spec.start.to].accepts:
        return ProtocolProblem(
            ("start", "to"), f"role {spec.start.to!r} ({kinds[spec.start.to].name}) cannot start"
        )
    if spec.start.count is not None and spec.start.count not in spec.limits:
        return ProtocolProblem(("start", "count"), f"counter {spec.start.count!r} has no limit")
    return None


EmittedKinds = dict[str, frozenset[str]]
"""Per role, the kinds it can emit with its parameters."""


def _declared(kinds: dict[str, RoleKind]) -> EmittedKinds:
    """Per role, every kind its kind declares (with any parameters)."""
    return {name: frozenset(kind.emits) for name, kind in kinds.items()}


def _emits(sender: str, spec: ProtocolSpec, emitted: EmittedKinds) -> frozenset[str]:
    if sender == PROTOCOL:
        return frozenset({START, *(LIMIT_PREFIX + counter for counter in spec.limits)})
    return emitted[sender]


def _check_routes(spec: ProtocolSpec, kinds: dict[str, RoleKind]) -> ProtocolProblem | None:
    """Each route names known roles, a kind its sender's kind declares (a route for a kind
    these parameters never emit just stays idle) and its receiver accepts, exactly one of
    `to` and `end`, predicates the kind offers and counters with limits."""
    for index, route in enumerate(spec.routes):
        here: tuple[str | int, ...] = ("routes", index)
        if route.sender != PROTOCOL and route.sender not in kinds:
            return ProtocolProblem((*here, "from"), _unknown_role(route.sender, kinds))
        can = _emits(route.sender, spec, _declared(kinds))
        if route.kind not in can:
            message = f"{route.sender!r} never emits {route.kind!r} (it emits: "
            message += f"{', '.join(sorted(can))})"
            return ProtocolProblem((*here, "kind"), message)
        if (route.to is None) == (route.end is None):
            return ProtocolProblem(here, "a route needs exactly one of `to` and `end`")
        if route.to is not None:
            if route.to not in kinds:
                return ProtocolProblem((*here, "to"), _unknown_role(route.to, kinds))
            accepts = kinds[route.to].accepts
            taken_as = LIMIT if route.kind.startswith(LIMIT_PREFIX) else route.kind
            if taken_as not in accepts:
                taken = ", ".join(sorted(accepts))
                message = f"role {route.to!r} does not accept {route.kind!r} (it takes: {taken})"
                return ProtocolProblem((*here, "to"), message)
        if route.when is not None:
            offered = (
                kinds[route.sender].predicates.get(route.kind, frozenset())
                if route.sender in kinds
                else frozenset()
            )
            if route.when not in offered:
                message = f"{route.kind!r} offers no condition {route.when!r}"
                return ProtocolProblem((*here, "when"), message)
        for counter in [route.count, *route.reset]:
            if counter is not None and counter not in spec.limits:
                return ProtocolProblem((*here, "count"), f"counter {counter!r} has no limit")
    return None


def _check_taken(spec: ProtocolSpec, emitted: EmittedKinds) -> ProtocolProblem | None:
    """Every message a role (or the protocol) can emit has a route that takes it."""
    for sender in [PROTOCOL, *emitted]:
        for kind in sorted(_emits(sender, spec, emitted)):
            if sender == PROTOCOL and kind == START:
                continue
            routes = [r for r in spec.routes if r.sender == sender and r.kind == kind]
            if routes and any(r.when is None for r in routes):
                continue
            what = "only conditional routes take it" if routes else "no route takes it"
            message = f"{sender!r} can emit {kind!r}, but {what} (add a route without `when`)"
            if sender == PROTOCOL:
                return ProtocolProblem(("limits", kind.removeprefix(LIMIT_PREFIX)), message)
            return ProtocolProblem(("roles", sender), message)
    return None


def _check_loops(spec: ProtocolSpec, kinds: dict[str, RoleKind]) -> ProtocolProblem | None:
    """Every cycle of routes passes a counted route, so every loop is bounded."""
    edges: dict[str, list[tuple[int, str]]] = {}
    for index, route in enumerate(spec.routes):
        if route.to is not None and route.count is None:
            edges.setdefault(route.sender, []).append((index, route.to))
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(role: str, path: list[int]) -> list[int] | None:
        state[role] = 1
        for index, target in edges.get(role, []):
            if state.get(target) == 1:
                return [*path, index]
            if state.get(target) is None:
                found = visit(target, [*path, index])
                if found is not None:
                    return found
        state[role] = 2
        return None

    for role in [PROTOCOL, *kinds]:
        if state.get(role) is None:
            cycle = visit(role, [])
            if cycle is not None:
                message = "this route closes a loop with no counted route in it (add `count:` "
                message += "with a limit to one of the loop's routes)"
                return ProtocolProblem(("routes", cycle[-1]), message)
    return None


def _unknown_role(name: str, kinds: dict[str, RoleKind]) -> str:
    return f"unknown role {name!r} (roles: {', '.join(sorted(kinds))})"
