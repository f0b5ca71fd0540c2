"""Runs a playbook: phases in order, each as many concurrent episodes, each committed atomically.

The engine knows nothing of agents or domains: step kinds and run hooks (which provide
resources such as the model gateway) come from the extension registries. Where episodes
run is the executor's business (in process by default, or on Ray); the engine remains the
only writer of the store.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import anyio

from runtime.actors import ActorSystem
from runtime.engine_types import (
    NullProgress,
    ProgressSink,
    RunContext,
    RunHook,
    RunSummary,
)
from runtime.episodes import WorkItem, episode_seed, phase_context, work_items
from runtime.errors import RunStopped
from runtime.executors import Executor, LocalExecutor
from runtime.log import bound, get_logger
from runtime.playbook import PhaseConfig, Playbook
from runtime.services import ServicesContext
from runtime.steps import Resources, StepRegistry
from runtime.store import Store
from runtime.store_types import ItemCommit, RunRecord

__all__ = [
    "Engine",
    "NullProgress",
    "ProgressSink",
    "RunContext",
    "RunHook",
    "RunSummary",
    "WorkItem",
    "episode_seed",
]

_log = get_logger("runtime.engine")


class Engine:
    """Interprets one playbook against one store."""

    def __init__(
        self,
        playbook: Playbook,
        steps: StepRegistry,
        *,
        playbook_path: str = "",
        hooks: Sequence[RunHook] = (),
        progress: ProgressSink | None = None,
        executor: Executor | None = None,
    ) -> None:
        self.playbook = playbook
        self.steps = steps
        self.executor = executor
        self.playbook_path = playbook_path
        self.hooks = list(hooks)
        self.progress: ProgressSink = progress or NullProgress()

    async def run(self) -> RunSummary:
        """Run every phase, doing only the work items not yet committed in the store."""
        playbook = self.playbook
        started = time.perf_counter()
        run_id = playbook.run_id
        with bound(run_id=run_id):
            async with Store.open(playbook.store_path) as store:
                existing = await store.get_run(run_id)
                await store.ensure_run(
                    RunRecord(
                        run_id=run_id,
                        name=playbook.name,
                        playbook_path=self.playbook_path,
                        playbook_hash=playbook.content_hash(),
                        playbook_json=playbook.stored_json(),
                        seed=playbook.seed,
                        simulated=playbook.simulated,
                    )
                )
                _log.info("run.started", resumed=existing is not None, store=str(store.path))
                executed = 0
                try:
                    services = ServicesContext(
                        playbook, self.hooks, store, run_id, self.playbook_path
                    )
                    async with services as (system, resources):
                        for phase in playbook.phases:
                            executed += await self._run_phase(
                                phase, store, system, resources, run_id
                            )
                except BaseException as exc:
                    stopped = _stopped_by(exc)
                    with anyio.CancelScope(shield=True):
                        await store.set_run_status(run_id, "stopped" if stopped else "interrupted")
                    if stopped is not None and stopped is not exc:
                        raise stopped from None  # not wrapped in the actor system's group
                    raise
                await store.set_run_status(run_id, "completed")
                counts = await store.status_counts(run_id)
        duration = time.perf_counter() - started
        _log.info("run.finished", executed=executed, duration_s=round(duration, 3))
        return RunSummary(
            run_id=run_id,
            store_path=str(playbook.store_path),
            resumed=existing is not None,
            counts=counts,
            executed=executed,
            duration_s=duration,
        )

    async def _run_phase(
        self,
        phase: PhaseConfig,
        store: Store,
        system: ActorSystem,
        resources: Resources,
        run_id: str,
    ) -> int:
        ctx = phase_context(self.playbook, phase, run_id, store, system, resources)
        with bound(phase=phase.name):
            work = await work_items(phase, store, run_id)
            done = await store.committed_keys(run_id, phase.name)
            finished = sum(1 for key in work.item_keys() if key in done)
            pending = len(work) - finished
            self.progress.phase_started(phase.name, len(work), finished)
            _log.info("phase.started", total=len(work), pending=pending)

            async def commit(item: ItemCommit) -> None:
                await store.commit_item(item)
                _log.debug("episode.committed", episode_id=item.item_key, status=item.status)
                self.progress.item_finished(phase.name, item.status)

            if pending:
                todo = (item for item in work if item.key not in done)  # made as taken
                await self._executor_for(phase).run_phase(phase, ctx, todo, commit)
            counts = (await store.status_counts(run_id)).get(phase.name, {})
            self.progress.phase_finished(phase.name, counts)
            _log.info("phase.finished", **counts)
        return pending

    def _executor_for(self, phase: PhaseConfig) -> Executor:
        """The configured executor, or the local one for phases that read the run store."""
        if self.executor is None or any(
            self.steps.get(spec.kind).needs_run_store for spec in phase.steps
        ):
            return LocalExecutor(self.steps)
        return self.executor


def _stopped_by(exc: BaseException) -> RunStopped | None:
    """The RunStopped that ended the run, also when a task group or Ray wrapped it (alone).

    A plain copy: Ray's wrapper is a RunStopped subclass whose text is a whole traceback.
    """
    while not isinstance(exc, RunStopped):
        inner = getattr(exc, "exceptions", None)
        if inner is None or len(inner) != 1:
            return None
        exc = inner[0]
    return exc if type(exc) is RunStopped else RunStopped(exc.endpoint, exc.detail)
