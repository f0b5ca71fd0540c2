"""Committee aggregation rules, computed by hand."""

from __future__ import annotations

from agents.blueprints.committee import (
    Review,
    VoteParams,
    default_rules,
    disagreements,
    majority,
    mean_score,
    unanimous,
)


def _review(c: int, m: int, s: int, k: int) -> Review:
    return Review(correctness=c, completeness=m, satisfaction=s, creativity=k)


PANEL = [_review(1, 1, 1, 1), _review(1, 0, 1, 1), _review(1, 1, 0, 0)]


def test_majority_votes_each_criterion_then_sums() -> None:
    verdict = majority(PANEL, VoteParams(threshold=4))
    assert verdict.votes == {
        "correctness": 1,
        "completeness": 1,
        "satisfaction": 1,
        "creativity": 1,
    }
    assert verdict.accepted and verdict.score == 4


def test_majority_rejects_below_the_threshold() -> None:
    panel = [_review(1, 0, 1, 1), _review(1, 0, 1, 0), _review(1, 1, 1, 0)]
    verdict = majority(panel, VoteParams(threshold=4))
    assert verdict.votes["completeness"] == 0 and verdict.votes["creativity"] == 0
    assert not verdict.accepted and verdict.score == 2
    assert majority(panel, VoteParams(threshold=2)).accepted


def test_a_tie_is_not_a_majority() -> None:
    verdict = majority([_review(1, 1, 1, 1), _review(0, 1, 1, 1)], VoteParams(threshold=4))
    assert verdict.votes["correctness"] == 0
    assert not verdict.accepted


def test_unanimous_needs_every_score() -> None:
    assert not unanimous(PANEL, VoteParams()).accepted
    assert unanimous([_review(1, 1, 1, 1)] * 3, VoteParams()).accepted


def test_mean_score_compares_the_mean_total() -> None:
    # totals 4, 3, 2 -> mean 3.0
    assert mean_score(PANEL, VoteParams(threshold=3)).accepted
    assert not mean_score(PANEL, VoteParams(threshold=3.1)).accepted
    assert mean_score(PANEL, VoteParams(threshold=3)).score == 3.0


def test_no_reviews_never_accept() -> None:
    for rule in (majority, unanimous, mean_score):
        assert not rule([], VoteParams(threshold=0)).accepted


def test_rules_are_found_by_name() -> None:
    assert default_rules().get("majority") is majority
    assert default_rules().names() == ["majority", "mean_score", "unanimous"]


def test_disagreements_name_the_split_criteria() -> None:
    assert disagreements(PANEL) == {
        "completeness": [1, 0, 1],
        "satisfaction": [1, 1, 0],
        "creativity": [1, 1, 0],
    }
