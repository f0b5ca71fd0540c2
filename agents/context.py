"""Samples what a proposer sees for one attempt: subject, records, write chain, persona, examples.

All choices come from the episode's seeded generator; how much of each (chain length, number
of examples, record budget) is itself drawn per attempt so attempts explore different tasks.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agents.personas import DEFAULT_PERSONAS
from domains.base import ApiGraph, Domain, Task, TaskPattern
from domains.environment import Environment


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

    def _patterns_for(self, tool_name: str) -> list[TaskPattern]:
        return [p for p in self.domain.patterns if tool_name in p.write_tools]

    def sample(self, rng: random.Random) -> ProposalContext:
        """One context; the anchor task (from a pattern) picks a subject the chain fits."""
        length = rng.randint(1, self.params.max_chain)
        first = rng.choice(self._writes)
        chain = sample_write_chain(self.domain.api_graph, self._writes, rng, length, first)
        anchor = self._anchor(first, rng)
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
        )

    def _anchor(self, tool_name: str, rng: random.Random) -> Task | None:
        """A task for the chain's first write if the data allows, else any pattern's task."""
        preferred = self._patterns_for(tool_name)
        others = [p for p in self.domain.patterns if p not in preferred]
        rng.shuffle(preferred)
        rng.shuffle(others)
        tries = 1 if self._pool is None else self.params.pool_tries
        for pattern in [*preferred, *others]:
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
