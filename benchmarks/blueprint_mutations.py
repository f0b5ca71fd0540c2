"""Good and broken variants of the shipped patterns' blueprints, judged by the phase-1
validators: the mutation test and `validator_mutations.py` both run `outcomes`.

Each faulty variant names the check that must reject it (format, execution, or a policy
rule); good variants (as proposed, with a failed read before the right one, with a read
made twice) must pass. Variants of the classes policy must catch are kept only when they
pass format and execution, so the fault they carry is the one their class names.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from dataclasses import dataclass

from agents.blueprints.validation import validate
from benchmarks.airline_mutations import AIRLINE_MUTATIONS
from benchmarks.generic_mutations import GENERIC_MUTATIONS
from benchmarks.mutation_kit import FAULTS, GOOD, Context, Outcome, Proposal, Variant
from domains.environment import Environment

__all__ = ["FAULTS", "GOOD", "Outcome", "Row", "blueprints", "outcomes", "tally", "variants"]


def blueprints(env: Environment, seeds: Iterable[int]) -> list[tuple[str, Proposal]]:
    """Each pattern's tasks on `env` for each seed, as (pattern name, proposal), once each."""
    found: dict[str, tuple[str, Proposal]] = {}
    for pattern in env.domain.patterns:
        for seed in seeds:
            task = pattern.instantiate(env, random.Random(seed))
            if task is not None:
                proposal = task.model_dump()
                found.setdefault(json.dumps(proposal, sort_keys=True), (pattern.name, proposal))
    return list(found.values())


def variants(context: Context, pattern: str, proposal: Proposal) -> list[Variant]:
    """Every variant the domain's mutations make of one blueprint."""
    mutations = [*GENERIC_MUTATIONS]
    if context.domain.name == "airline":
        mutations += AIRLINE_MUTATIONS
    return [variant for mutate in mutations for variant in mutate(context, pattern, proposal)]


def judge(env: Environment, variant: Variant) -> Outcome:
    """The validators' verdict on one variant: the first failing check and its rules."""
    validation = validate(env.domain, env, variant.proposal)
    failed = next((result for result in validation.results if not result.passed), None)
    if failed is None:
        return Outcome(variant, None, (), ())
    return Outcome(
        variant, failed.check, tuple(failed.detail.get("rules", ())), tuple(failed.reasons)
    )


def outcomes(env: Environment, seeds: Iterable[int]) -> list[Outcome]:
    """Every variant of every pattern blueprint on `env`, judged."""
    context = Context(env)
    return [
        judge(env, variant)
        for pattern, proposal in blueprints(env, list(seeds))
        for variant in variants(context, pattern, proposal)
    ]


@dataclass
class Row:
    """Counts for one variant kind."""

    generated: int = 0
    rejected: int = 0
    as_expected: int = 0


def tally(results: Iterable[Outcome]) -> dict[str, Row]:
    """Counts per variant kind, faults first, in the order of FAULTS then GOOD."""
    rows = {kind: Row() for kind in (*FAULTS, *GOOD)}
    for outcome in results:
        row = rows[outcome.variant.kind]
        row.generated += 1
        row.rejected += outcome.rejected
        row.as_expected += outcome.as_expected
    return rows
