"""Samples what a proposer sees for one episode: subject, records, the kind of task (its
ending and, for a task that acts, a chain of write tools), persona, examples.

All choices come from the episode's seeded generator; how much of each (chain length, number
of examples, record budget) is itself drawn so episodes explore different tasks.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agents.dialogue.personas import DEFAULT_PERSONAS
from domains.base import ApiGraph, Domain, Ending, Task, TaskPattern
from domains.environment import Environment

_GOLDEN = 0.6180339887498949
"""Steps of this size around the unit circle spread any share of points evenly."""


class ContextParams(BaseModel):
    """How the sampler draws a context (a `propose` step's `context:` parameters)."""

    model_config = ConfigDict(extra="forbid")

    max_chain: int = Field(default=2, ge=1, le=6, description="longest write chain")
    few_shot: int = Field(default=2, ge=0, le=8, description="most examples shown")
    max_list_items: int = Field(default=6, ge=1, description="records kept per list")
    personas: list[str] = Field(default_factory=lambda: list(DEFAULT_PERSONAS), min_length=1)
    subject_pool: int | None = Field(
        default=None,
        ge=1,
        description="draw subjects from a fixed pool of this many users, so several tasks "
        "share a user (what recombination needs); default: any user",
    )
    pool_tries: int = Field(default=60, ge=1, description="anchor draws per pattern for the pool")
    no_write_share: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="share of tasks whose right answer is not to act: a refusal, a transfer "
        "to a human or an answer only (split evenly among the kinds the domain's patterns "
        "offer)",
    )


@dataclass
class ProposalContext:
    """Everything the proposer prompt is rendered from."""

    subject_id: str
    records: dict[str, Any]
    chain: list[str]
    persona: str
    examples: list[Task]
    tools: list[dict[str, Any]]
    policy: str
    anchor: Task | None = None
    rules: list[str] = field(default_factory=list)
    ending: Ending = "act"
    style: str = "service"
    """The domain's `prompt_style`: `service` (retail, airline) or `generic` (adapted classes)."""
    missing: str = ""
    """When no anchor task could be built: the ingredient that was missing, by name."""

    def records_json(self) -> str:
        return json.dumps(self.records, indent=1)


def sample_write_chain(
    graph: ApiGraph, writes: Sequence[str], rng: random.Random, length: int, start: str
) -> list[str]:
    """A random walk write -> upstream read -> another write it feeds, `length` writes long."""
    chain = [start]
    current = start
    while len(chain) < length:
        upstream = graph.predecessors(current)
        rng.shuffle(upstream)
        nxt = None
        for read in upstream:
            options = [w for w in graph.successors(read) if w in writes and w not in chain]
            if options:
                nxt = rng.choice(options)
                break
        if nxt is None:
            break
        chain.append(nxt)
        current = nxt
    return chain


def trim(value: Any, max_items: int) -> Any:
    """Cap every list (and dict of records) at `max_items` entries so prompts stay bounded."""
    if isinstance(value, list):
        return [trim(item, max_items) for item in value[:max_items]]
    if isinstance(value, dict):
        items = list(value.items())
        if len(items) > max_items and all(isinstance(v, dict) for _, v in items):
            items = items[:max_items]
        return {key: trim(item, max_items) for key, item in items}
    return value


class ContextSampler:
    """Draws proposal contexts from one domain's base environment."""

    def __init__(self, domain: Domain, base: Environment, params: ContextParams) -> None:
        self.domain = domain
        self.base = base
        self.params = params
        self._writes = domain.write_tools()
        self._pool: set[str] | None = None
        if params.subject_pool is not None:
            subjects = sorted(domain.subjects(base))
            random.Random(0).shuffle(subjects)
            self._pool = set(subjects[: params.subject_pool])

    def sample(self, rng: random.Random, index: int | None = None) -> ProposalContext:
        """One context; the anchor task (from a pattern) picks a subject the task fits.

        With the episode's `index`, the kinds of task are spread evenly instead of left to
        chance: episodes are no-write ones in the configured share, spaced out along the
        indices, and take the no-write endings in turn; acting episodes start their chains
        from the write tools in turn, so a phase's tasks cover every write tool.
        """
        ending, turn = self._plan(index) if index is not None else self._draw(rng)
        chain: list[str] = []
        patterns = [p for p in self.domain.patterns if p.ending == ending]
        groups = [patterns]
        if ending == "act" and self._writes:
            length = rng.randint(1, self.params.max_chain)
            first = self._writes[turn % len(self._writes)]
            chain = sample_write_chain(self.domain.api_graph, self._writes, rng, length, first)
            preferred = [p for p in patterns if first in p.write_tools]
            groups = [preferred, [p for p in patterns if p not in preferred]]
        anchor = self._anchor(groups, rng)
        missing = (
            "" if anchor is not None else self._missing(ending, [p for g in groups for p in g])
        )
        candidates = sorted(self._pool) if self._pool else self.domain.subjects(self.base)
        subject = anchor.user_id if anchor else rng.choice(candidates)
        records = self.domain.subject_context(self.base, subject).records
        examples = self._examples(rng, exclude=subject)
        tools = [self.domain.tools[name].schema()["function"] for name in self.domain.tools]
        return ProposalContext(
            subject_id=subject,
            records=trim(records, self.params.max_list_items),
            chain=chain,
            persona=rng.choice(self.params.personas),
            examples=examples,
            tools=tools,
            policy=self.domain.policy,
            anchor=anchor,
            rules=[rule.description for rule in self.domain.rules],
            ending=ending,
            style=self.domain.prompt_style,
            missing=missing,
        )

    def _missing(self, ending: Ending, patterns: Sequence[TaskPattern]) -> str:
        """Why no anchor task exists: no pattern of this ending, or what the patterns lacked."""
        if not self.domain.patterns:
            return f"domain {self.domain.name!r} has no task patterns"
        if not patterns:
            return f"domain {self.domain.name!r} has no task pattern for ending {ending!r}"
        reasons = [str(getattr(p, "failure", "")) for p in patterns if getattr(p, "failure", "")]
        detail = f": {reasons[0]}" if reasons else ""
        return f"no {ending!r} task pattern fits the data{detail}"

    def _other_endings(self) -> list[Ending]:
        return sorted({p.ending for p in self.domain.patterns} - {"act"})

    def _draw(self, rng: random.Random) -> tuple[Ending, int]:
        """A random ending (no-write with the configured share) and a random turn."""
        others = self._other_endings()
        if others and rng.random() < self.params.no_write_share:
            return rng.choice(others), 0
        return "act", rng.randrange(max(1, len(self._writes)))

    def _plan(self, index: int) -> tuple[Ending, int]:
        """Episode `index`'s ending, and how many earlier episodes had an ending of its kind
        (act, or no-write): a golden-ratio sequence spaces the no-write ones evenly."""
        others = self._other_endings()
        share = self.params.no_write_share if others else 0.0
        no_write = [(j + 1) * _GOLDEN % 1.0 < share for j in range(index + 1)]
        turn = sum(1 for earlier in no_write[:index] if earlier == no_write[index])
        if no_write[index]:
            return others[turn % len(others)], turn
        return "act", turn

    def _anchor(self, groups: list[list[TaskPattern]], rng: random.Random) -> Task | None:
        """A task the data allows from the patterns, group by group, each group shuffled."""
        ordered = [pattern for group in groups for pattern in rng.sample(group, len(group))]
        tries = 1 if self._pool is None else self.params.pool_tries
        for pattern in ordered:
            for _ in range(tries):
                task = pattern.instantiate(self.base, rng)
                if task is None:
                    break
                if self._pool is None or task.user_id in self._pool:
                    return task
        return None

    def _examples(self, rng: random.Random, exclude: str) -> list[Task]:
        count = rng.randint(0, self.params.few_shot) if self.params.few_shot else 0
        patterns = list(self.domain.patterns)
        rng.shuffle(patterns)
        examples: list[Task] = []
        for pattern in patterns:
            if len(examples) >= count:
                break
            task = pattern.instantiate(self.base, rng)
            if task is not None and task.user_id != exclude:
                examples.append(task)
        return examples
