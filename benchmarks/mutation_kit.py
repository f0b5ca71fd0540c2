"""The vocabulary of the validator mutation benchmark: variant kinds, a domain's profile,
variants and their outcomes, and small helpers to edit proposals."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from agents.blueprints.validation import check_execution, check_format, execute
from domains.base import Domain
from domains.environment import Environment

Proposal = dict[str, Any]
Act = dict[str, Any]

FAULTS: Final = (
    "wrong_subject",
    "stale_cabin",
    "unpaid_bags",
    "broken_itinerary",
    "write_on_cancelled",
    "loose_types",
    "wrong_id",
    "nonexistent_id",
    "missing_lookup",
    "unknown_tool",
    "missing_argument",
    "duplicate_write",
)
GOOD: Final = (
    "original",
    "failed_read",
    "repeated_read",
    "upgrade_then_free_bags",
    "upgrade_then_change",
)
AIRLINE_ONLY: Final = frozenset(
    {
        "stale_cabin",
        "unpaid_bags",
        "broken_itinerary",
        "write_on_cancelled",
        "upgrade_then_free_bags",
        "upgrade_then_change",
    }
)


def kinds_of(domain: str) -> tuple[str, ...]:
    """The variant kinds a domain's blueprints yield: faults, then good ones."""
    return tuple(k for k in (*FAULTS, *GOOD) if domain == "airline" or k not in AIRLINE_ONLY)


@dataclass(frozen=True)
class Profile:
    """What the generic mutations need to know of a domain."""

    lookups: frozenset[str]
    """Identity lookup tools."""
    record_key: str
    record_table: str
    record_read: str
    missing_id: str
    """A record id no table holds."""
    failed_lookup: Act
    """An identity lookup that finds nobody."""
    subject_rule: str
    served_rule: str
    """The rule against writing another user's records."""
    lookup_rule: str
    """The rule against writing before the identity lookup."""


PROFILES: Final = {
    "retail": Profile(
        lookups=frozenset({"find_user_id_by_email", "find_user_id_by_name_zip"}),
        record_key="order_id",
        record_table="orders",
        record_read="get_order_details",
        missing_id="#W0000000",
        failed_lookup={"name": "find_user_id_by_email", "kwargs": {"email": "no@example.invalid"}},
        subject_rule="R7",
        served_rule="R2",
        lookup_rule="R1",
    ),
    "airline": Profile(
        lookups=frozenset({"get_user_details"}),
        record_key="reservation_id",
        record_table="reservations",
        record_read="get_reservation_details",
        missing_id="ZZZ999",
        failed_lookup={"name": "get_user_details", "kwargs": {"user_id": "nobody_0000"}},
        subject_rule="A8",
        served_rule="A1",
        lookup_rule="A1",
    ),
}


@dataclass(frozen=True)
class Variant:
    """A proposal and the check that must reject it (`check` None: it must pass)."""

    kind: str
    pattern: str
    proposal: Proposal
    check: str | None = None
    rule: str | None = None
    """For `check == "policy"`: a rule that must be among the violations."""


@dataclass(frozen=True)
class Outcome:
    """What the validators made of one variant."""

    variant: Variant
    failed: str | None
    rules: tuple[str, ...]
    reasons: tuple[str, ...]

    @property
    def rejected(self) -> bool:
        return self.failed is not None

    @property
    def as_expected(self) -> bool:
        """Good: passed. Faulty: rejected by the expected check (and rule)."""
        expected = self.variant
        if expected.check is None:
            return not self.rejected
        if self.failed != expected.check:
            return False
        return expected.rule is None or expected.rule in self.rules


@dataclass
class Context:
    """The base environment and its domain's profile, shared by every mutation."""

    env: Environment
    profile: Profile = field(init=False)

    def __post_init__(self) -> None:
        self.profile = PROFILES[self.env.domain.name]
        assert not self.env.state.has(self.profile.record_table, self.profile.missing_id)

    @property
    def domain(self) -> Domain:
        return self.env.domain

    def writes(self, proposal: Proposal) -> list[int]:
        """Indexes of the write actions."""
        names = self.domain.write_tools()
        return [i for i, a in enumerate(proposal["actions"]) if a["name"] in names]

    def reaches_policy(self, proposal: Proposal) -> bool:
        """Passes format and execution: only a policy rule can still reject it."""
        _, blueprint = check_format(self.domain, proposal)
        return blueprint is not None and check_execution(execute(self.env, blueprint)).passed


Mutation = Callable[[Context, str, Proposal], Iterable[Variant]]


def edited(proposal: Proposal, edit: Callable[[Proposal], object]) -> Proposal:
    """A deep copy of the proposal after `edit` changed it."""
    copied = copy.deepcopy(proposal)
    edit(copied)
    return copied


def with_actions(proposal: Proposal, actions: Sequence[Act]) -> Proposal:
    """The proposal with another action list (copied)."""
    return edited(proposal, lambda p: p.update(actions=copy.deepcopy(list(actions))))


def set_argument(proposal: Proposal, index: int, key: str, value: Any) -> Proposal:
    """The proposal with one argument of action `index` set."""
    return edited(proposal, lambda p: p["actions"][index]["kwargs"].update({key: value}))


def call(name: str, **kwargs: Any) -> Act:
    """An action."""
    return {"name": name, "kwargs": kwargs}


def inserted(actions: Sequence[Act], index: int, new: Act) -> list[Act]:
    """The actions with a copy of `new` at `index`."""
    return [*actions[:index], copy.deepcopy(new), *actions[index:]]


def replace_everywhere(proposal: Proposal, key: str, old: Any, new: Any) -> Proposal:
    """Every action argument `key` equal to `old` set to `new`."""

    def edit(copied: Proposal) -> None:
        for act in copied["actions"]:
            if act["kwargs"].get(key) == old:
                act["kwargs"][key] = new

    return edited(proposal, edit)
