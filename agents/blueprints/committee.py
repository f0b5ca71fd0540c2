"""Reviewer committee verdicts and the rules that aggregate them (pure functions).

Each reviewer scores four criteria 0/1; a rule turns the committee's scores into accept or
reject. Rules are a registry so a playbook can name its own (`mypkg.rules:strict`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from runtime.registry import Registry

CRITERIA = ("correctness", "completeness", "satisfaction", "creativity")


class Review(BaseModel):
    """One reviewer's verdict on a blueprint."""

    model_config = ConfigDict(extra="ignore")

    correctness: int = Field(ge=0, le=1, description="the actions do what the instruction asks")
    completeness: int = Field(ge=0, le=1, description="the instruction has every needed detail")
    satisfaction: int = Field(ge=0, le=1, description="the outputs answer every request")
    creativity: int = Field(ge=0, le=1, description="a plausible, non-trivial scenario")
    rationale: str = ""
    correction: str = ""

    @property
    def total(self) -> int:
        return sum(getattr(self, criterion) for criterion in CRITERIA)


@dataclass(frozen=True)
class Verdict:
    """The committee's decision, with the voted score per criterion."""

    accepted: bool
    votes: dict[str, int]
    score: float
    rule: str


class VoteParams(BaseModel):
    """Parameters every aggregation rule receives."""

    model_config = ConfigDict(extra="forbid")

    threshold: float = Field(default=4, ge=0, description="voted total (majority) or mean")


AggregationRule = Callable[[Sequence[Review], VoteParams], Verdict]


def _majority_votes(reviews: Sequence[Review]) -> dict[str, int]:
    return {
        criterion: int(sum(getattr(review, criterion) for review in reviews) * 2 > len(reviews))
        for criterion in CRITERIA
    }


def majority(reviews: Sequence[Review], params: VoteParams) -> Verdict:
    """Majority vote per criterion, then accept when the voted total reaches the threshold."""
    votes = _majority_votes(reviews)
    total = sum(votes.values())
    return Verdict(bool(reviews) and total >= params.threshold, votes, total, "majority")


def unanimous(reviews: Sequence[Review], params: VoteParams) -> Verdict:
    """Accept only when every reviewer gives every criterion a 1."""
    votes = {c: int(all(getattr(r, c) for r in reviews)) for c in CRITERIA}
    accepted = bool(reviews) and all(votes.values())
    return Verdict(accepted, votes, sum(votes.values()), "unanimous")


def mean_score(reviews: Sequence[Review], params: VoteParams) -> Verdict:
    """Accept when the reviewers' mean total reaches the threshold."""
    mean = sum(review.total for review in reviews) / len(reviews) if reviews else 0.0
    return Verdict(
        bool(reviews) and mean >= params.threshold, _majority_votes(reviews), mean, "mean_score"
    )


def default_rules() -> Registry[AggregationRule]:
    rules: Registry[AggregationRule] = Registry("aggregation rule")
    rules.register("majority", majority)
    rules.register("unanimous", unanimous)
    rules.register("mean_score", mean_score)
    return rules


def disagreements(reviews: Sequence[Review]) -> dict[str, list[int]]:
    """Criteria on which the reviewers split, with each reviewer's score."""
    split: dict[str, list[int]] = {}
    for criterion in CRITERIA:
        scores = [getattr(review, criterion) for review in reviews]
        if len(set(scores)) > 1:
            split[criterion] = scores
    return split
