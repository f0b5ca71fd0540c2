"""What a protocol's roles are given: the phase's services and the episode's own things.

`PhaseServices` is built once per phase (gateway, roles' configs, templates, the domain, and
what every trial of a blueprint shares: its parsed blueprint, simulated scripts and user
prompt); `EpisodeScope` is one episode's: its inputs, its environment fork and transcript.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Generic, TypeVar

from agents.blueprints.blueprint import Blueprint
from agents.dialogue.assistant import ExecutedCall, tool_schemas
from agents.dialogue.transcript import Transcript
from agents.models.gateway import CallContext, ModelGateway
from agents.models.openai_wire import ToolList
from agents.resources import AgentRoster, DomainCatalog, DomainHandle, Templates
from agents.steps.base import BLUEPRINT
from domains.environment import Environment
from runtime.errors import ApigenError
from runtime.steps import Episode, PhaseContext

K = TypeVar("K")
V = TypeVar("V")


class PerObject(Generic[K, V]):
    """A value derived from an object that many episodes share, computed once per object.

    Trials of one source item share its payload (and so its Blueprint): validating it and
    building its scripts and user prompt once per object instead of once per trial saves
    CPU and keeps the live episodes small. Keyed by the object itself, which is held so its
    id cannot be reused; the most recent `size` objects are kept. Users only read the values.
    """

    def __init__(self, make: Callable[[K], V], size: int = 1024) -> None:
        self._make = make
        self._size = size
        self._entries: OrderedDict[int, tuple[K, V]] = OrderedDict()

    def of(self, key: K) -> V:
        entry = self._entries.get(id(key))
        if entry is not None and entry[0] is key:
            self._entries.move_to_end(id(key))
            return entry[1]
        value = self._make(key)
        self._entries[id(key)] = (key, value)
        if len(self._entries) > self._size:
            self._entries.popitem(last=False)
        return value


@dataclass
class PhaseServices:
    """Everything the roles of one phase share."""

    phase: PhaseContext
    gateway: ModelGateway
    roster: AgentRoster
    templates: Templates
    handle: DomainHandle
    writes: frozenset[str]
    tools: ToolList
    blueprints: PerObject[dict[str, Any], Blueprint] = field(
        default_factory=lambda: PerObject(Blueprint.model_validate)
    )
    shared: dict[str, PerObject[Any, Any]] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, phase: PhaseContext) -> PhaseServices:
        """The phase's services, built on first use and kept in its resources."""
        kept = phase.resources.get(_ServicesByPhase)
        if kept is None:
            kept = _ServicesByPhase()
            phase.resources.provide(_ServicesByPhase, kept)
        found = kept.get(phase.phase)
        if found is None:
            resources = phase.resources
            handle = resources.require(DomainCatalog).for_phase(phase.phase)
            found = cls(
                phase=phase,
                gateway=resources.require(ModelGateway),
                roster=resources.require(AgentRoster),
                templates=resources.require(Templates),
                handle=handle,
                writes=frozenset(handle.domain.write_tools()),
                tools=ToolList(tool_schemas(handle.domain)),
            )
            kept[phase.phase] = found
        return found

    def per_phase(self, name: str, make: Callable[[], V]) -> V:
        """A value the phase's episodes share (a context sampler, ...), built once, by name."""
        if name not in self.values:
            self.values[name] = make()
        value: V = self.values[name]
        return value

    def per_blueprint(self, name: str, make: Callable[[Blueprint], V]) -> PerObject[Blueprint, V]:
        """A cache of `make(blueprint)` the phase's episodes share, by name."""
        cache = self.shared.get(name)
        if cache is None:
            cache = self.shared[name] = PerObject(make)
        return cache


class _ServicesByPhase(dict[str, PhaseServices]):
    """Resources entry: each phase's services."""


@dataclass
class EpisodeScope:
    """One episode as its roles see it."""

    services: PhaseServices
    episode: Episode
    timeout_s: float
    models: dict[str, str] = field(default_factory=dict)
    """The model each speaking part uses (`human`, `assistant`), for the records."""
    feedback: list[str] = field(default_factory=list)
    """Phase 1: what the reflector has said so far, carried to the next attempt."""
    accepted_blueprint: Blueprint | None = None
    """Phase 1: the blueprint the episode records if it is accepted."""
    executed: list[ExecutedCall] = field(default_factory=list)
    """Phase 2: the calls the environment role ran on `env`, in order, with their results."""

    def on_accepted(self) -> None:
        """The episode was accepted: record what it produced."""
        if self.accepted_blueprint is not None:
            self.episode.record(BLUEPRINT, self.accepted_blueprint.model_dump(mode="json"))

    @cached_property
    def blueprint(self) -> Blueprint:
        """The blueprint the episode plays: its source item's last `blueprint` result."""
        found = [item.payload for item in self.episode.inputs if item.kind == BLUEPRINT]
        if not found:
            raise ApigenError(f"episode {self.episode.key} has no blueprint input")
        return self.services.blueprints.of(found[-1])

    @cached_property
    def env(self) -> Environment:
        """The episode's own fork of the phase's environment."""
        return self.services.handle.base.fork()

    @property
    def seed(self) -> int:
        """The episode attempt's seed (simulated scripts draw their faults from it)."""
        return (self.episode.seed + 7919 * self.episode.attempt) % (2**63)

    def role_model(self, role: str, chosen: str | None) -> str:
        """The model a role calls: its own `model`, else its `agents:` entry's."""
        return chosen or self.services.roster.role(role).model

    def role_prompt(self, role: str, chosen: str | None) -> str | None:
        """A role's prompt: its own `prompt`, else its `agents:` entry's (None: the shipped one)."""
        return chosen or self.services.roster.role(role).prompt

    def call(self, role: str) -> CallContext:
        """Who calls a model: for the gateway's records and the sample seed."""
        return CallContext(
            phase=self.services.phase.phase,
            item_key=self.episode.key,
            role=role,
            attempt=self.episode.attempt,
        )

    @cached_property
    def transcript(self) -> Transcript:
        """The conversation as its participants record it (the assistant role sets its
        system prompt and tools: the transcript is the assistant's view)."""
        # No field counted as set: the fields a conversation sets later (turns, end, error)
        # then keep the set within its small table (a five-field set takes 728 bytes)
        return Transcript.model_construct(
            _fields_set=set(), system="", tools=[], messages=[], best_of=[]
        )
