"""pass^k arithmetic and the keep rules, against hand-computed values."""

from __future__ import annotations

import pytest

from agents.passk import (
    TrialOutcome,
    pass_hat_k,
    passk_report,
    select_kept,
    source_key,
)


def _trials(
    source: str, successes: list[bool], turns: list[int] | None = None
) -> list[TrialOutcome]:
    turns = turns or [0] * len(successes)
    return [
        TrialOutcome(source, i, f"{source}.t{i}", ok, turns[i]) for i, ok in enumerate(successes)
    ]


def test_pass_hat_k_for_two_of_four() -> None:
    assert [pass_hat_k(4, 2, k) for k in (1, 2, 3, 4)] == [0.5, pytest.approx(1 / 6), 0.0, 0.0]


def test_pass_hat_k_edges() -> None:
    assert pass_hat_k(3, 3, 3) == 1.0
    assert pass_hat_k(3, 0, 1) == 0.0
    assert pass_hat_k(5, 4, 2) == pytest.approx(6 / 10)


def test_pass_hat_k_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError):
        pass_hat_k(2, 3, 1)
    with pytest.raises(ValueError):
        pass_hat_k(2, 1, 3)


def test_the_run_mean_averages_blueprints() -> None:
    trials = [
        *_trials("a", [True, False, True, False]),
        *_trials("b", [True, True, True, True]),
    ]
    report = passk_report(trials)
    assert report.blueprints == 2
    assert report.per_blueprint["a"] == {1: 0.5, 2: pytest.approx(1 / 6), 3: 0.0, 4: 0.0}
    assert report.mean == {1: 0.75, 2: pytest.approx(7 / 12), 3: 0.5, 4: 0.5}
    assert report.success_variance == pytest.approx(0.125)


def test_k_stops_at_the_fewest_trials_of_any_blueprint() -> None:
    report = passk_report([*_trials("a", [True, True, True]), *_trials("b", [True, False])])
    assert sorted(report.mean) == [1, 2]


def test_no_trials_give_an_empty_report() -> None:
    assert passk_report([]).blueprints == 0


def test_source_keys_drop_the_trial_suffix() -> None:
    assert source_key("000003.t12") == "000003"
    assert source_key("000003") == "000003"


def test_keep_rules_pick_accepted_trials() -> None:
    trials = [
        *_trials("a", [False, True, True], turns=[1, 5, 3]),
        *_trials("b", [False, False, False]),
        *_trials("c", [True, True, False], turns=[4, 4, 1]),
    ]
    assert select_kept(trials, "all") == ["a.t1", "a.t2", "c.t0", "c.t1"]
    assert select_kept(trials, "first") == ["a.t1", "c.t0"]
    assert select_kept(trials, "best") == ["a.t2", "c.t0"]
