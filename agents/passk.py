"""Trials of a blueprint: pass^k and which accepted trials to keep (pure, plus store readers).

A trajectory phase with `trials: k` runs k concurrent work items per blueprint, keyed
`<source>.t<i>`. Since trials finish in any order, nothing is decided while they run: every
trial's verdict is committed, and `keep` (first | all | best) is applied afterwards, here,
over the stored items (`kept_from_store`), by exports and reports alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from math import comb
from typing import Literal

from pydantic import BaseModel, Field

from runtime.playbook import Playbook
from runtime.store import Store
from runtime.store_types import ItemRecord

Keep = Literal["first", "all", "best"]

_TRIAL_SUFFIX = re.compile(r"\.t\d+$")


@dataclass(frozen=True)
class TrialOutcome:
    """One trial of one blueprint: whether it was accepted, and how long it took."""

    source: str
    trial: int
    key: str
    success: bool
    turns: int = 0
    tool_calls: int = 0


def source_key(item_key: str) -> str:
    """The blueprint's item key from a trial's key (`000003.t2` -> `000003`)."""
    return _TRIAL_SUFFIX.sub("", item_key)


def pass_hat_k(n: int, c: int, k: int) -> float:
    """The chance that k trials drawn from n (c of them successful) all succeed: C(c,k)/C(n,k)."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass^k needs 0 <= c <= n and 1 <= k <= n (n={n}, c={c}, k={k})")
    return comb(c, k) / comb(n, k)


def group_trials(trials: Iterable[TrialOutcome]) -> dict[str, list[TrialOutcome]]:
    """Trials by blueprint, each list in trial order."""
    groups: dict[str, list[TrialOutcome]] = {}
    for trial in trials:
        groups.setdefault(trial.source, []).append(trial)
    return {source: sorted(group, key=lambda t: t.trial) for source, group in groups.items()}


class PassKReport(BaseModel):
    """pass^k per blueprint and its mean over blueprints, for k = 1 .. the fewest trials."""

    blueprints: int
    per_blueprint: dict[str, dict[int, float]] = Field(default_factory=dict)
    mean: dict[int, float] = Field(default_factory=dict)
    success_variance: float = Field(
        default=0.0, description="mean over blueprints of p(1-p), p = success rate: 0 = stable"
    )


def passk_report(trials: Iterable[TrialOutcome]) -> PassKReport:
    """pass^k for every blueprint with trials, and the run's mean per k."""
    groups = group_trials(trials)
    if not groups:
        return PassKReport(blueprints=0)
    max_k = min(len(group) for group in groups.values())
    per_blueprint: dict[str, dict[int, float]] = {}
    variance = 0.0
    for source, group in groups.items():
        n, c = len(group), sum(t.success for t in group)
        per_blueprint[source] = {k: pass_hat_k(n, c, k) for k in range(1, max_k + 1)}
        variance += (c / n) * (1 - c / n)
    mean = {
        k: sum(values[k] for values in per_blueprint.values()) / len(groups)
        for k in range(1, max_k + 1)
    }
    return PassKReport(
        blueprints=len(groups),
        per_blueprint=per_blueprint,
        mean=mean,
        success_variance=variance / len(groups),
    )


def select_kept(trials: Iterable[TrialOutcome], keep: Keep) -> list[str]:
    """Keys of the accepted trials to keep: every one, the lowest-index one, or the shortest
    one (fewest turns, then tool calls, then lowest index) per blueprint."""
    kept: list[str] = []
    for group in group_trials(trials).values():
        accepted = [t for t in group if t.success]
        if not accepted:
            continue
        if keep == "all":
            kept.extend(t.key for t in accepted)
        elif keep == "first":
            kept.append(accepted[0].key)
        else:
            kept.append(min(accepted, key=lambda t: (t.turns, t.tool_calls, t.trial)).key)
    return kept


def trial_outcome(item: ItemRecord) -> TrialOutcome:
    """A stored trajectory item as a trial (the `converse` step puts turns in the outcome)."""
    return TrialOutcome(
        source=source_key(item.item_key),
        trial=item.trial,
        key=item.item_key,
        success=item.status == "accepted",
        turns=int(item.outcome.get("turns", 0)),
        tool_calls=int(item.outcome.get("tool_calls", 0)),
    )


async def trial_outcomes(store: Store, run_id: str, phase: str) -> list[TrialOutcome]:
    return [trial_outcome(item) for item in await store.items(run_id, phase=phase)]


async def passk_from_store(store: Store, run_id: str, phase: str) -> PassKReport:
    """pass^k of a stored trajectory phase, grouping its items by source blueprint."""
    return passk_report(await trial_outcomes(store, run_id, phase))


async def kept_from_store(store: Store, run_id: str, phase: str, keep: Keep) -> list[str]:
    """Item keys of the trials an export should include under the `keep` rule."""
    return select_kept(await trial_outcomes(store, run_id, phase), keep)


async def passk_summary(store: Store, run_id: str, playbook: Playbook) -> list[str]:
    """`phase pass^k: k=1 0.83, ...` for every phase with verified trials (run summaries)."""
    lines = []
    for phase in playbook.phases:
        if await store.results(run_id, phase.name, kind="verdict"):
            report = await passk_from_store(store, run_id, phase.name)
            if report.mean:
                values = ", ".join(f"k={k} {value:.3f}" for k, value in report.mean.items())
                lines.append(f"{phase.name} pass^k over {report.blueprints} tasks: {values}")
    return lines
