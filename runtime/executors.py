"""Executors: where a phase's episodes run. The engine stays the only store writer.

`LocalExecutor` runs episodes as tasks in this process; `runtime.ray_executor` runs them
on Ray workers. Either way each finished episode comes back as an `ItemCommit` and is
handed to `commit`, which writes it exactly once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from runtime.episodes import EpisodeRunner, WorkItem, build_steps, run_items
from runtime.playbook import PhaseConfig
from runtime.steps import PhaseContext, StepRegistry
from runtime.store_types import ItemCommit

Commit = Callable[[ItemCommit], Awaitable[None]]


class Executor(Protocol):
    """Runs a phase's pending work items and commits each result through `commit`."""

    async def run_phase(
        self,
        phase: PhaseConfig,
        ctx: PhaseContext,
        items: Iterable[WorkItem],
        commit: Commit,
    ) -> None: ...


@dataclass(frozen=True)
class EpisodeCap:
    """At most this many episodes at once, whatever the playbook says (a run resource: a
    person playing a role plays one episode at a time). Not part of the run's identity."""

    episodes: int


class LocalExecutor:
    """Episodes as tasks in one task group, at most `concurrency` in flight."""

    def __init__(self, steps: StepRegistry) -> None:
        self.steps = steps

    async def run_phase(
        self,
        phase: PhaseConfig,
        ctx: PhaseContext,
        items: Iterable[WorkItem],
        commit: Commit,
    ) -> None:
        steps, on_fail = await build_steps(self.steps, phase, ctx)
        runner = EpisodeRunner(ctx.playbook, phase, ctx, steps, on_fail)
        limit = phase.concurrency or ctx.playbook.concurrency
        cap = ctx.resources.get(EpisodeCap)
        await run_items(runner, items, min(limit, cap.episodes) if cap else limit, commit)
