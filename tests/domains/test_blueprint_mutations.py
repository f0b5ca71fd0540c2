"""Mutation test of the phase-1 validators on every shipped pattern's blueprints.

Each faulty variant is rejected by the check its class names (format, execution, or the
named policy rule); every good variant (as proposed, a failed read before the right one,
a read made twice, a cabin upgrade that allows more) passes. The generator is shared with
`benchmarks/validator_mutations.py`, which prints the same counts per class.
"""

from __future__ import annotations

from functools import cache

import pytest

from benchmarks.blueprint_mutations import FAULTS, GOOD, Outcome, outcomes
from benchmarks.mutation_kit import kinds_of
from domains.airline import AirlineDomain
from domains.base import Domain
from domains.retail import RetailDomain

SEEDS = range(3)
DOMAINS: dict[str, Domain] = {"retail": RetailDomain(), "airline": AirlineDomain()}
CAUGHT_HERE = [k for k in FAULTS if k != "loose_types"]
"""Loose argument types are rejected by strict tool argument models (another change)."""


@cache
def _outcomes(domain: str) -> tuple[Outcome, ...]:
    return tuple(outcomes(DOMAINS[domain].environment(), SEEDS))


def _cases(kinds: list[str] | tuple[str, ...]) -> list[tuple[str, str]]:
    return [(domain, kind) for domain in DOMAINS for kind in kinds if kind in kinds_of(domain)]


def _misses(domain: str, kind: str) -> list[tuple[str, str | None, tuple[str, ...]]]:
    found = [o for o in _outcomes(domain) if o.variant.kind == kind]
    assert found, f"no {kind} variant of any {domain} blueprint"
    return [(o.variant.pattern, o.failed, o.reasons) for o in found if not o.as_expected]


@pytest.mark.parametrize(("domain", "kind"), _cases(GOOD))
def test_good_blueprints_pass_every_check(domain: str, kind: str) -> None:
    assert _misses(domain, kind) == []


@pytest.mark.parametrize(("domain", "kind"), _cases(CAUGHT_HERE))
def test_faulty_blueprints_are_rejected_by_the_check_their_fault_names(
    domain: str, kind: str
) -> None:
    assert _misses(domain, kind) == []


@pytest.mark.parametrize("domain", list(DOMAINS))
def test_loose_argument_types_are_rejected_by_the_format_check(domain: str) -> None:
    assert _misses(domain, "loose_types") == []


def test_every_pattern_yields_blueprints_and_wrong_subjects() -> None:
    for name, domain in DOMAINS.items():
        patterns = {o.variant.pattern for o in _outcomes(name) if o.variant.kind == "original"}
        assert patterns == {pattern.name for pattern in domain.patterns}
        with_lookup = {
            o.variant.pattern for o in _outcomes(name) if o.variant.kind == "wrong_subject"
        }
        assert patterns - with_lookup <= {"cheapest_day_direct"}
