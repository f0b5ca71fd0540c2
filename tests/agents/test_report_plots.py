"""The report's plots say what they show: counts on bars, side-by-side checks in one row,
integer bins for integer data, pass^k curves that stay visible, no empty cost panel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agents.exports.report import (
    ReportData,
    draw_plots,
    funnel_figure,
    integer_histogram,
    passk_figure,
    tokens_figure,
)
from runtime.funnel import funnel_stages

pytest.importorskip("matplotlib")


def _data(**fields: Any) -> ReportData:
    base: dict[str, Any] = {
        "title": "t",
        "metadata": {},
        "counts": {},
        "funnels": {},
        "failures": {},
    }
    return ReportData(**{**base, **fields})


def test_funnel_bars_carry_counts_and_parallel_checks_share_their_stage_row() -> None:
    rows = [
        ("converse", "", 90, 90),
        ("policy", "verify", 90, 81),
        ("state", "verify", 90, 87),
        ("outputs", "verify", 90, 90),
    ]
    data = _data(funnels={"talk": funnel_stages(rows)}, counts={"talk": {"accepted": 77}})
    (ax,) = funnel_figure(data).axes
    assert [text.get_text() for text in ax.texts] == [
        "90",
        "policy 81",
        "state 87",
        "outputs 90",
        "77",
    ]
    labels = [label.get_text() for label in ax.get_yticklabels()]
    assert labels == ["converse", "verify", "accepted (items)"]
    converse, verify, accepted = ax.get_yticks()
    centres = [bar.get_y() + bar.get_height() / 2 for bar in ax.patches]
    assert converse < min(centres[1:4]) and max(centres[1:4]) < accepted
    assert centres[1] < verify < centres[3]


def test_integer_histograms_have_one_bar_per_integer_and_integer_ticks() -> None:
    from matplotlib.figure import Figure

    ax = Figure().add_subplot()
    integer_histogram(ax, [1, 1, 2, 4], "#000000", "turns", "user turns")
    centres = [bar.get_x() + bar.get_width() / 2 for bar in ax.patches]
    assert centres == pytest.approx([1, 2, 3, 4])
    assert [bar.get_height() for bar in ax.patches] == [2, 1, 0, 1]
    assert all(tick == int(tick) for tick in ax.get_xticks())
    assert all(tick == int(tick) for tick in ax.get_yticks())


def test_equal_pass_k_curves_stay_distinguishable() -> None:
    same = {1: 0.9, 2: 0.8, 3: 0.7}
    (ax,) = passk_figure({"retail": same, "airline": dict(same)}).axes
    first, second = ax.get_lines()
    assert first.get_marker() != second.get_marker()
    assert first.get_linestyle() != second.get_linestyle()
    assert list(first.get_xdata()) != list(second.get_xdata())
    assert list(ax.get_xticks()) == [1, 2, 3]


@pytest.mark.parametrize(
    ("priced", "titles"),
    [
        (False, ["Tokens per phase (no price configured)"]),
        (True, ["Tokens per phase", "Cost per phase (USD)"]),
    ],
)
def test_cost_is_drawn_only_when_a_price_is_configured(
    tmp_path: Path, priced: bool, titles: list[str]
) -> None:
    data = _data(tokens={"p": (100, 50, 0.25 if priced else 0.0)}, priced=priced)
    assert [ax.get_title() for ax in tokens_figure(data).axes] == titles
    caption = "Tokens and cost per phase" if priced else "Tokens per phase"
    assert draw_plots(data, tmp_path) == [("tokens.png", caption)]
