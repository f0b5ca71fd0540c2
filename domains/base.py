"""The domain interface: tools, data, policy (text + mechanical rules), API graph, task patterns.

`agents/` depends on this module only, never on a concrete domain.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from domains.environment import Environment, ToolResult
from domains.state import State, Tables
from domains.tools import Tool
from runtime.errors import DomainError


class Action(BaseModel):
    """One ground-truth tool call in the tau-bench task shape."""

    model_config = ConfigDict(extra="forbid")

    name: str
    kwargs: dict[str, Any] = Field(default_factory=dict)


Ending = Literal["act", "answer", "refuse", "transfer"]
"""How a task's conversation must end: `act` (the writes are made), `answer` (information
only: the outputs are said), `refuse` (the policy forbids the request: nothing is written),
`transfer` (the user is handed to a human agent)."""

ENDINGS: tuple[Ending, ...] = ("act", "answer", "refuse", "transfer")
GENERIC_NAME_WORDS = frozenset(
    {"update", "modify", "set", "add", "get", "pending", "delivered", "user", "the", "and"}
)
TRANSFER_TOOLS: tuple[str, ...] = ("transfer_to_human_agents",)


def name_words(tool_name: str) -> tuple[str, ...]:
    """The telling words of a tool's name, as stems: `update_reservation_flights` ->
    ("reservation", "flight")."""
    return tuple(
        word.rstrip("s")
        for word in tool_name.lower().split("_")
        if word not in GENERIC_NAME_WORDS and len(word) > 2
    )


class Task(BaseModel):
    """A task: who asks, what they want, the calls that do it and what must be said.

    `ending` is optional (tau-bench task files have none): `resolved_ending` derives it.
    """

    model_config = ConfigDict(extra="ignore")

    user_id: str
    instruction: str
    actions: list[Action]
    outputs: list[str] = Field(default_factory=list)
    ending: Ending | None = Field(
        default=None,
        description="act | answer | refuse | transfer; derived from the actions when absent",
    )

    def resolved_ending(
        self, write_tools: Collection[str], transfer_tools: Collection[str] = TRANSFER_TOOLS
    ) -> Ending:
        """The stated ending, else: a write -> act; a transfer call -> transfer; outputs ->
        answer; nothing -> refuse (a task with no write, no transfer and nothing to say)."""
        if self.ending is not None:
            return self.ending
        names = [action.name for action in self.actions]
        if any(name in write_tools for name in names):
            return "act"
        if any(name in transfer_tools for name in names):
            return "transfer"
        return "answer" if self.outputs else "refuse"

    def ending_conflicts(
        self, write_tools: Collection[str], transfer_tools: Collection[str] = TRANSFER_TOOLS
    ) -> list[str]:
        """Why the (resolved) ending contradicts the actions or outputs; empty when it fits.

        act needs a write; answer, refuse and transfer need none; answer needs outputs;
        transfer needs a transfer call, which answer and refuse must not make.
        """
        ending = self.resolved_ending(write_tools, transfer_tools)
        writes = [(i, a.name) for i, a in enumerate(self.actions) if a.name in write_tools]
        transfers = [i for i, a in enumerate(self.actions) if a.name in transfer_tools]
        conflicts: list[str] = []
        if ending == "act" and not writes:
            conflicts.append("ending 'act' but no action writes")
        if ending != "act" and writes:
            index, name = writes[0]
            conflicts.append(f"ending {ending!r} but action {index} ({name}) writes")
        if ending == "answer" and not self.outputs:
            conflicts.append("ending 'answer' but no outputs (the facts the agent must say)")
        if ending == "transfer" and not transfers:
            conflicts.append("ending 'transfer' but no action transfers to a human agent")
        if ending in ("answer", "refuse") and transfers:
            conflicts.append(
                f"ending {ending!r} but action {transfers[0]} transfers to a human agent "
                "(that ending is 'transfer')"
            )
        return conflicts


@dataclass(frozen=True)
class Violation:
    """A policy rule broken by an action sequence; `step` indexes the offending action."""

    rule: str
    message: str
    step: int | None = None

    def __str__(self) -> str:
        where = f" (action {self.step})" if self.step is not None else ""
        return f"{self.rule}{where}: {self.message}"


class PolicyRule(ABC):
    """A mechanical policy check over an executed action sequence."""

    name: ClassVar[str]
    description: ClassVar[str]

    @abstractmethod
    def check(
        self, trace: Sequence[ToolResult], before: Environment, subject: str | None = None
    ) -> list[Violation]:
        """Violations in `trace` (calls in order, with results), given the state before it.

        `subject` is the user the task is about (a blueprint's `user_id`), when known.
        """


@dataclass(frozen=True)
class ApiGraph:
    """Which tool's outputs feed which tool's inputs: chains sampled from it stay coherent."""

    edges: tuple[tuple[str, str], ...]

    @cached_property
    def _successors(self) -> dict[str, list[str]]:
        table: dict[str, list[str]] = {}
        for source, target in self.edges:
            table.setdefault(source, []).append(target)
        return table

    @cached_property
    def _predecessors(self) -> dict[str, list[str]]:
        table: dict[str, list[str]] = {}
        for source, target in self.edges:
            table.setdefault(target, []).append(source)
        return table

    def successors(self, tool_name: str) -> list[str]:
        return list(self._successors.get(tool_name, []))

    def predecessors(self, tool_name: str) -> list[str]:
        return list(self._predecessors.get(tool_name, []))

    @property
    def nodes(self) -> list[str]:
        seen: dict[str, None] = {}
        for source, target in self.edges:
            seen.setdefault(source)
            seen.setdefault(target)
        return list(seen)


class TaskPattern(ABC):
    """A parameterised task: instantiates a concrete, executable task from sampled data."""

    name: ClassVar[str]
    description: ClassVar[str]
    write_tools: ClassVar[tuple[str, ...]]
    ending: ClassVar[Ending] = "act"
    """How the pattern's tasks end (their `Task.ending`): samplers pick patterns by it."""

    @abstractmethod
    def instantiate(self, env: Environment, rng: random.Random) -> Task | None:
        """A task valid on `env`, or None when the data holds no suitable subject."""


class DataSource(BaseModel):
    """Where a domain's data comes from: a directory of JSON files, or the seeded generator."""

    model_config = ConfigDict(extra="forbid")

    path: str | None = Field(default=None, description="directory of JSON table files")
    seed: int = Field(default=0, description="seed of the synthetic generator")
    scale: float = Field(default=1.0, gt=0, le=10, description="generator size vs spec scale")


class DomainOptions(BaseModel):
    """Options every domain accepts under `domain.options` in a playbook."""

    model_config = ConfigDict(extra="forbid")

    data: DataSource = Field(default_factory=DataSource)


@dataclass
class SubjectContext:
    """What a proposer sees about one subject: their record and related records."""

    subject_id: str
    records: dict[str, Any] = field(default_factory=dict)


class Domain(ABC):
    """A domain: subclass it, or wrap a plain class with `domains.adapter.ClassDomain`."""

    name: ClassVar[str]
    subject_field: ClassVar[str] = "user_id"
    options_model: ClassVar[type[DomainOptions]] = DomainOptions
    sequential_tool_calls: ClassVar[bool] = False
    """The policy allows one tool call per assistant message (both shipped domains say so)."""
    prompt_style: ClassVar[Literal["service", "generic"]] = "service"
    """How prompts speak of the domain: `service` (customer service with identities, orders,
    transfers: retail, airline) or `generic` (any adapted class: tools and public state)."""

    @property
    @abstractmethod
    def tools(self) -> Mapping[str, Tool[Any]]:
        """Tools by name, in the order agents should see them."""

    @property
    @abstractmethod
    def policy(self) -> str:
        """The markdown policy shown to agents."""

    @property
    def rules(self) -> Sequence[PolicyRule]:
        return ()

    @property
    def api_graph(self) -> ApiGraph:
        return ApiGraph(())

    @property
    def patterns(self) -> Sequence[TaskPattern]:
        return ()

    @abstractmethod
    def load_tables(self, options: DomainOptions) -> Tables:
        """The initial tables: loaded from `options.data.path` or generated."""

    @abstractmethod
    def subjects(self, env: Environment) -> list[str]:
        """Ids of the subjects (users) a task can be about."""

    @abstractmethod
    def subject_context(self, env: Environment, subject_id: str) -> SubjectContext:
        """The subject's record and the records a task about them may touch."""

    def parse_options(self, options: Mapping[str, Any]) -> DomainOptions:
        try:
            return self.options_model.model_validate(dict(options))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            raise DomainError(f"domain {self.name!r} options: {problems}") from exc

    def environment(self, options: Mapping[str, Any] | None = None) -> Environment:
        """A fresh base environment; episodes fork it."""
        parsed = self.parse_options(options or {})
        return Environment(self, State.from_tables(self.load_tables(parsed)))

    def tool_schemas(self) -> list[dict[str, Any]]:
        return [found.schema() for found in self.tools.values()]

    def write_tools(self) -> list[str]:
        return [name for name, found in self.tools.items() if found.writes]

    def write_words(self, tool_name: str) -> tuple[str, ...]:
        """Word stems an agent uses when it lists this write for the user to confirm
        ("cancel", "bag", ...); by default the words of the tool's name."""
        return name_words(tool_name)

    def check_policy(
        self, trace: Sequence[ToolResult], before: Environment, subject: str | None = None
    ) -> list[Violation]:
        """Every rule's violations, in rule order (`subject`: the user the task is about)."""
        violations: list[Violation] = []
        for rule in self.rules:
            violations.extend(rule.check(trace, before, subject))
        return violations
