"""The acceptance funnel: stages in the order attempts meet them, side-by-side checks as one.

Steps emit `funnel` events (`stage`, `passed`, and `group` for a check that runs beside
others on every attempt, e.g. the `verify` step's policy, state and outputs checks). Stages
of one group are the parts of one funnel stage: `verify [policy 81, state 87, outputs 90]`
says each check's count of the same attempts, where a sequence would read as a funnel that
goes back up. Stages without a group are sequential (a later one sees only the attempts
that passed the earlier ones).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StageCount:
    """One check: how many attempts reached it and how many passed."""

    name: str
    reached: int
    passed: int


@dataclass(frozen=True)
class FunnelStage:
    """A funnel stage: one check, or a group of checks run side by side (`parts`)."""

    name: str
    parts: tuple[StageCount, ...]
    grouped: bool = False

    @property
    def passed(self) -> int:
        """Attempts passing a plain stage (a group's parts each have their own count)."""
        return self.parts[0].passed


def funnel_stages(rows: Iterable[tuple[str, str, int, int]]) -> list[FunnelStage]:
    """`(stage, group, reached, passed)` rows in first-appearance order -> funnel stages.

    A group sits where its first check first appeared; an empty group is a plain stage.
    """
    stages: list[FunnelStage] = []
    where: dict[str, int] = {}
    for stage, group, reached, passed in rows:
        count = StageCount(stage, reached, passed)
        if not group:
            stages.append(FunnelStage(stage, (count,)))
        elif group in where:
            found = stages[where[group]]
            stages[where[group]] = FunnelStage(group, (*found.parts, count), grouped=True)
        else:
            where[group] = len(stages)
            stages.append(FunnelStage(group, (count,), grouped=True))
    return stages


def format_funnel(stages: list[FunnelStage], accepted: int) -> str:
    """`converse 90 -> verify [policy 81, state 87, outputs 90] -> accepted 77`."""
    parts = []
    for stage in stages:
        if stage.grouped:
            inner = ", ".join(f"{part.name} {part.passed}" for part in stage.parts)
            parts.append(f"{stage.name} [{inner}]")
        else:
            parts.append(f"{stage.name} {stage.passed}")
    parts.append(f"accepted {accepted}")
    return " -> ".join(parts)


def funnel_json(stages: list[FunnelStage]) -> list[dict[str, Any]]:
    """Plain stages as `{stage, reached, passed}`; a group as `{stage, parts: [...]}`."""
    out: list[dict[str, Any]] = []
    for stage in stages:
        counts = [
            {"stage": part.name, "reached": part.reached, "passed": part.passed}
            for part in stage.parts
        ]
        out.append({"stage": stage.name, "parts": counts} if stage.grouped else counts[0])
    return out
