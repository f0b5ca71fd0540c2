"""The step interface: a phase's protocol is an ordered list of steps run per episode.

A step kind is a class registered by name (or referenced by import path); its parameters are
a pydantic model, so a playbook's step entries are validated before anything runs.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from runtime.actors import ActorSystem
from runtime.registry import Registry
from runtime.store import Store
from runtime.store_types import (
    ItemEvent,
    ResultJSON,
    ResultPayload,
    canonical_json,
    shared_text,
)

if TYPE_CHECKING:
    from runtime.playbook import PhaseConfig, Playbook

T = TypeVar("T")


class StepParams(BaseModel):
    """Base of every step's parameters: unknown keys are errors, not silently ignored, and
    values are not coerced (`max_turns: true` is an error, not 1)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class StepOutcome(BaseModel):
    """Whether the episode may go on to the next step, and machine-readable reasons if not."""

    passed: bool
    reasons: list[str] = Field(default_factory=list)
    detail: dict[str, Any] = Field(default_factory=dict)
    errored: bool = Field(
        default=False, description="an error (the item is `failed`), not a judgement (`rejected`)"
    )

    @classmethod
    def ok(cls, **detail: Any) -> StepOutcome:
        return cls(passed=True, detail=detail)

    @classmethod
    def fail(cls, *reasons: str, **detail: Any) -> StepOutcome:
        return cls(passed=False, reasons=list(reasons), detail=detail)

    @classmethod
    def error(cls, *reasons: str, **detail: Any) -> StepOutcome:
        """The step could not do its work (a model endpoint failed): not a verdict on the item."""
        return cls(passed=False, reasons=list(reasons), detail=detail, errored=True)


class Resources:
    """Run-wide services (model gateway, domain environment, ...) looked up by type."""

    def __init__(self) -> None:
        self._items: dict[type[Any], Any] = {}

    def provide(self, kind: type[T], item: T) -> None:
        self._items[kind] = item

    def require(self, kind: type[T]) -> T:
        try:
            item: T = self._items[kind]
        except KeyError:
            raise LookupError(f"no {kind.__name__} is available in this run") from None
        return item

    def get(self, kind: type[T]) -> T | None:
        item: T | None = self._items.get(kind)
        return item


@dataclass
class PhaseContext:
    """What every step of a phase shares: the run's identity, store, actors and resources."""

    run_id: str
    phase: str
    seed: int
    store: Store
    system: ActorSystem
    resources: Resources
    ask_timeout_s: float
    playbook: Playbook
    config: PhaseConfig


@dataclass(slots=True)
class Episode:
    """One unit of work in a phase: its key, seed, inputs and what it has produced so far."""

    phase: PhaseContext
    key: str
    index: int
    trial: int
    seed: int
    inputs: list[ResultPayload] = field(default_factory=list)
    attempt: int = 1
    state: dict[str, Any] = field(default_factory=dict)
    results: list[ResultJSON] = field(default_factory=list)
    events: list[ItemEvent] = field(default_factory=list)
    outcome: dict[str, Any] = field(default_factory=dict)

    def rng(self, purpose: str = "") -> random.Random:
        """A generator seeded by this episode, its attempt and the purpose: reproducible."""
        return random.Random(f"{self.seed}:{self.attempt}:{purpose}")

    def record(
        self, kind: str, payload: dict[str, Any], shared: Mapping[str, Any] | None = None
    ) -> None:
        """Add a result that commits together with this episode.

        Encoded now: a finished episode's commit may wait a while for the store's writer,
        and the text is a fraction of the objects (a trajectory's are its whole transcript).
        `shared` values go into the payload too, but are values that many results of the
        phase repeat (its tool schemas): each is encoded on its own, and one copy of each
        distinct text is kept, which every such commit and the store refer to.
        """
        if shared and not shared.keys().isdisjoint(payload):
            both = sorted(shared.keys() & payload.keys())
            raise ValueError(f"result {kind!r}: {both} given both in the payload and as shared")
        self.results.append(
            ResultJSON(
                kind=kind,
                payload_json=canonical_json(payload),
                shared={
                    name: shared_text(canonical_json(value)).text
                    for name, value in (shared or {}).items()
                },
            )
        )

    def event(self, name: str, **payload: Any) -> None:
        self.events.append(ItemEvent(event=name, payload=payload))


class Step(ABC):
    """A step kind. Built once per phase from its params; `run` is called per attempt."""

    params_model: ClassVar[type[StepParams]] = StepParams
    needs_run_store: ClassVar[bool] = False
    """True for steps that read other items from the run's store (they run where it is)."""
    needs_domain: ClassVar[bool] = False
    """True for steps that act on the phase's domain: a phase without one is refused at load."""
    needs: ClassVar[frozenset[str]] = frozenset()
    """Data the step works on that its phase's input or an earlier step must provide
    (e.g. `blueprint`); a playbook where nothing provides it is refused at load."""
    produces: ClassVar[frozenset[str]] = frozenset()
    """Data the step records for an accepted episode (e.g. `blueprint`)."""

    def __init__(self, name: str, params: StepParams, phase: PhaseContext) -> None:
        self.name = name
        self.params = params
        self.phase = phase

    async def setup(self) -> None:
        """Prepare shared state (spawn service actors, load templates) before episodes run."""

    @abstractmethod
    async def run(self, episode: Episode) -> StepOutcome:
        """Do this step for one episode attempt."""

    async def on_accepted(self, episode: Episode) -> None:
        """The attempt passed every step: record what this step produced for it (if any)."""


StepRegistry = Registry[type[Step]]


def default_step_registry() -> StepRegistry:
    """A fresh registry holding the runtime's built-in step kinds."""
    from runtime.echo import register_echo_steps
    from runtime.protocol_step import ProtocolStep

    registry: StepRegistry = Registry("step kind")
    register_echo_steps(registry)
    registry.register("protocol", ProtocolStep)
    return registry
