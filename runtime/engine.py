"""Runs a playbook: phases in order, each as many concurrent episodes, each committed atomically.

The engine knows nothing of agents or domains: step kinds and run hooks (which provide
resources such as the model gateway) come from the extension registries.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass, field
from typing import Protocol

import anyio
import structlog

from runtime.actors import ActorSystem
from runtime.log import bound
from runtime.playbook import PhaseConfig, Playbook, StepSpec
from runtime.steps import Episode, PhaseContext, Resources, Step, StepOutcome, StepRegistry
from runtime.store import Store
from runtime.store_types import ItemCommit, ItemStatus, ResultPayload, RunRecord

_log = structlog.get_logger("runtime.engine")


@dataclass
class RunContext:
    """What a run hook sees when the run starts."""

    playbook: Playbook
    run_id: str
    store: Store
    system: ActorSystem
    resources: Resources
    playbook_path: str = ""


RunHook = Callable[[RunContext], AbstractAsyncContextManager[None]]


class ProgressSink(Protocol):
    """Receives progress as episodes finish (a progress bar, log lines, a test probe)."""

    def phase_started(self, phase: str, total: int, already_done: int) -> None: ...

    def item_finished(self, phase: str, status: str) -> None: ...

    def phase_finished(self, phase: str, counts: dict[str, int]) -> None: ...


class NullProgress:
    """Progress that goes nowhere."""

    def phase_started(self, phase: str, total: int, already_done: int) -> None:
        pass

    def item_finished(self, phase: str, status: str) -> None:
        pass

    def phase_finished(self, phase: str, counts: dict[str, int]) -> None:
        pass


@dataclass(frozen=True)
class WorkItem:
    """A deterministic unit of work: the key is the same in every run of the playbook."""

    key: str
    index: int
    trial: int
    inputs: list[ResultPayload] = field(default_factory=list)


@dataclass
class RunSummary:
    run_id: str
    store_path: str
    resumed: bool
    counts: dict[str, dict[str, int]]
    executed: int
    duration_s: float


def episode_seed(run_seed: int, phase: str, key: str) -> int:
    """A stable 63-bit seed per (run seed, phase, key): resumes replay the same randomness."""
    digest = hashlib.sha256(f"{run_seed}:{phase}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


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
    ) -> None:
        self.playbook = playbook
        self.steps = steps
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
                        playbook_json=playbook.model_dump_json(),
                        seed=playbook.seed,
                        simulated=playbook.simulated,
                    )
                )
                _log.info("run.started", resumed=existing is not None, store=str(store.path))
                executed = 0
                try:
                    services = _ServicesContext(
                        playbook, self.hooks, store, run_id, self.playbook_path
                    )
                    async with services as (system, resources):
                        for phase in playbook.phases:
                            executed += await self._run_phase(
                                phase, store, system, resources, run_id
                            )
                except BaseException:
                    with anyio.CancelScope(shield=True):
                        await store.set_run_status(run_id, "interrupted")
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
        ctx = PhaseContext(
            run_id=run_id,
            phase=phase.name,
            seed=self.playbook.seed,
            store=store,
            system=system,
            resources=resources,
            ask_timeout_s=self.playbook.timeouts.ask_s,
            playbook=self.playbook,
            config=phase,
        )
        with bound(phase=phase.name):
            steps = [self._build_step(spec, ctx) for spec in phase.steps]
            on_fail = self._build_step(phase.on_fail, ctx) if phase.on_fail else None
            for step in [*steps, *([on_fail] if on_fail else [])]:
                await step.setup()
            work = await self._work_items(phase, store, run_id)
            done = await store.committed_keys(run_id, phase.name)
            pending = [item for item in work if item.key not in done]
            self.progress.phase_started(phase.name, len(work), len(work) - len(pending))
            _log.info("phase.started", total=len(work), pending=len(pending))
            runner = _EpisodeRunner(self.playbook, phase, ctx, steps, on_fail, self.progress)
            limiter = anyio.Semaphore(phase.concurrency or self.playbook.concurrency)
            async with anyio.create_task_group() as tg:
                for item in pending:
                    await limiter.acquire()
                    tg.start_soon(runner.run, item, limiter, name=f"episode-{item.key}")
            counts = (await store.status_counts(run_id)).get(phase.name, {})
            self.progress.phase_finished(phase.name, counts)
            _log.info("phase.finished", **counts)
        return len(pending)

    def _build_step(self, spec: StepSpec, ctx: PhaseContext) -> Step:
        kind = self.steps.get(spec.kind)
        params = kind.params_model.model_validate(spec.raw_params)
        return kind(spec.step_name, params, ctx)

    async def _work_items(self, phase: PhaseConfig, store: Store, run_id: str) -> list[WorkItem]:
        if phase.input is None:
            assert phase.episodes is not None
            return [
                WorkItem(
                    key=_item_key(f"{index:06d}", trial, phase.trials), index=index, trial=trial
                )
                for index in range(phase.episodes)
                for trial in range(phase.trials)
            ]
        sources = await store.items(run_id, phase=phase.input.phase, status=phase.input.status)
        by_key: dict[str, list[ResultPayload]] = {}
        for record in await store.results(run_id, phase.input.phase):
            by_key.setdefault(record.item_key, []).append(
                ResultPayload(kind=record.kind, payload=record.payload)
            )
        return [
            WorkItem(
                key=_item_key(source.item_key, trial, phase.trials),
                index=index,
                trial=trial,
                inputs=by_key.get(source.item_key, []),
            )
            for index, source in enumerate(sources)
            for trial in range(phase.trials)
        ]


def _item_key(base: str, trial: int, trials: int) -> str:
    return f"{base}.t{trial}" if trials > 1 else base


class _EpisodeRunner:
    """Runs one work item through the phase protocol (with attempts) and commits it."""

    def __init__(
        self,
        playbook: Playbook,
        phase: PhaseConfig,
        ctx: PhaseContext,
        steps: list[Step],
        on_fail: Step | None,
        progress: ProgressSink,
    ) -> None:
        self.playbook = playbook
        self.phase = phase
        self.ctx = ctx
        self.steps = steps
        self.on_fail = on_fail
        self.progress = progress

    async def run(self, item: WorkItem, limiter: anyio.Semaphore) -> None:
        try:
            with bound(episode_id=item.key):
                await self._run_and_commit(item)
        finally:
            limiter.release()

    async def _run_and_commit(self, item: WorkItem) -> None:
        started = time.perf_counter()
        episode = Episode(
            phase=self.ctx,
            key=item.key,
            index=item.index,
            trial=item.trial,
            seed=episode_seed(self.ctx.seed, self.phase.name, item.key),
            inputs=item.inputs,
        )
        status: ItemStatus
        try:
            with anyio.fail_after(self.playbook.timeouts.episode_s):
                status, reason = await self._attempts(episode)
        except TimeoutError:
            status, reason = "failed", "timeout"
            _log.warning("episode.timeout", timeout_s=self.playbook.timeouts.episode_s)
        commit = ItemCommit(
            run_id=self.ctx.run_id,
            phase=self.phase.name,
            item_key=item.key,
            index=item.index,
            trial=item.trial,
            status=status,
            reason=reason,
            outcome=episode.outcome,
            attempts=episode.attempt,
            duration_s=time.perf_counter() - started,
            results=episode.results,
            events=episode.events,
        )
        await self.ctx.store.commit_item(commit)
        _log.debug("episode.committed", status=status, reason=reason)
        self.progress.item_finished(self.phase.name, status)

    async def _attempts(self, episode: Episode) -> tuple[ItemStatus, str]:
        """Run the steps; on a failed attempt run `on_fail` and try again, up to the limit."""
        while True:
            outcome, step_name, errored = await self._one_attempt(episode)
            if outcome.passed:
                return "accepted", ""
            reason = f"{step_name}: {outcome.reasons[0]}" if outcome.reasons else step_name
            if episode.attempt >= self.phase.max_attempts:
                return ("failed" if errored else "rejected"), reason
            if self.on_fail is not None:
                episode.state["last_failure"] = {"step": step_name, **outcome.model_dump()}
                await self._run_step(self.on_fail, episode)
            episode.attempt += 1

    async def _one_attempt(self, episode: Episode) -> tuple[StepOutcome, str, bool]:
        for step in self.steps:
            outcome, errored = await self._run_step(step, episode)
            if not outcome.passed:
                return outcome, step.name, errored
        return StepOutcome.ok(), "", False

    async def _run_step(self, step: Step, episode: Episode) -> tuple[StepOutcome, bool]:
        """Run one step; an exception becomes a recorded failed outcome, not a crash."""
        errored = False
        try:
            outcome = await step.run(episode)
        except Exception as exc:
            errored = True
            outcome = StepOutcome.fail(f"error: {type(exc).__name__}: {exc}")
            _log.warning("step.error", step=step.name, error=f"{type(exc).__name__}: {exc}")
        episode.event(
            "step",
            step=step.name,
            attempt=episode.attempt,
            passed=outcome.passed,
            reasons=outcome.reasons,
        )
        return outcome, errored


class _ServicesContext:
    """Starts the actor system and the run hooks; tears them down in reverse order."""

    def __init__(
        self, playbook: Playbook, hooks: list[RunHook], store: Store, run_id: str, path: str
    ) -> None:
        self._playbook = playbook
        self._path = path
        self._hooks = hooks
        self._store = store
        self._run_id = run_id
        self._stack = AsyncExitStack()

    async def __aenter__(self) -> tuple[ActorSystem, Resources]:
        system = await self._stack.enter_async_context(
            ActorSystem(
                mailbox_size=self._playbook.mailbox_size,
                ask_timeout_s=self._playbook.timeouts.ask_s,
            )
        )
        resources = Resources()
        context = RunContext(
            self._playbook, self._run_id, self._store, system, resources, self._path
        )
        try:
            for hook in self._hooks:
                await self._stack.enter_async_context(hook(context))
        except BaseException:
            await self._stack.aclose()
            raise
        return system, resources

    async def __aexit__(self, *exc_info: object) -> bool | None:
        return await self._stack.__aexit__(*exc_info)  # type: ignore[arg-type]
