"""Episodes: deterministic work items and the runner that takes one through a phase protocol."""

from __future__ import annotations

import hashlib
import itertools
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import anyio

from runtime.actors import ActorSystem
from runtime.errors import RunStopped
from runtime.log import bound, get_logger
from runtime.playbook import PhaseConfig, Playbook, StepSpec
from runtime.steps import Episode, PhaseContext, Resources, Step, StepOutcome, StepRegistry
from runtime.stop import StopSwitch
from runtime.store import Store
from runtime.store_types import ItemCommit, ItemStatus, ResultPayload

_log = get_logger("runtime.episodes")


@dataclass(frozen=True)
class WorkItem:
    """A deterministic unit of work: the key is the same in every run of the playbook."""

    key: str
    index: int
    trial: int
    inputs: list[ResultPayload] = field(default_factory=list)


def episode_seed(run_seed: int, phase: str, key: str) -> int:
    """A stable 63-bit seed per (run seed, phase, key): resumes replay the same randomness."""
    digest = hashlib.sha256(f"{run_seed}:{phase}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


@dataclass(frozen=True)
class WorkList:
    """A phase's work items, each made when it is taken: a phase of a million episodes
    holds its sources (and their inputs), not a million items, and a run holds about one
    item per live episode."""

    sources: int | Sequence[str]  # how many numbered episodes, or the input items' keys
    trials: int
    inputs: dict[str, list[ResultPayload]] = field(default_factory=dict)

    def __len__(self) -> int:
        count = self.sources if isinstance(self.sources, int) else len(self.sources)
        return count * self.trials

    def item_keys(self) -> Iterator[str]:
        """Every item's key, in order, without making the items."""
        for source in self._source_keys():
            for trial in range(self.trials):
                yield _item_key(source, trial, self.trials)

    def __iter__(self) -> Iterator[WorkItem]:
        for index, source in enumerate(self._source_keys()):
            inputs = self.inputs.get(source, [])
            for trial in range(self.trials):
                yield WorkItem(_item_key(source, trial, self.trials), index, trial, inputs)

    def _source_keys(self) -> Iterable[str]:
        if isinstance(self.sources, int):
            return (f"{index:06d}" for index in range(self.sources))
        return self.sources


async def work_items(phase: PhaseConfig, store: Store, run_id: str) -> WorkList:
    """Every work item of a phase: numbered episodes, or one per input item (x trials)."""
    if phase.input is None:
        assert phase.episodes is not None
        return WorkList(phase.episodes, phase.trials)
    sources = await store.items(run_id, phase=phase.input.phase, status=phase.input.status)
    by_key: dict[str, list[ResultPayload]] = {}
    for record in await store.results(run_id, phase.input.phase):
        by_key.setdefault(record.item_key, []).append(
            ResultPayload(kind=record.kind, payload=record.payload)
        )
    return WorkList([source.item_key for source in sources], phase.trials, by_key)


def phase_context(
    playbook: Playbook,
    phase: PhaseConfig,
    run_id: str,
    store: Store,
    system: ActorSystem,
    resources: Resources,
) -> PhaseContext:
    """What every step of `phase` shares in this process."""
    return PhaseContext(
        run_id=run_id,
        phase=phase.name,
        seed=playbook.seed,
        store=store,
        system=system,
        resources=resources,
        ask_timeout_s=playbook.timeouts.ask_s,
        playbook=playbook,
        config=phase,
    )


async def run_items(
    runner: EpisodeRunner,
    items: Iterable[WorkItem],
    limit: int,
    deliver: Callable[[ItemCommit], Awaitable[None]],
) -> None:
    """Execute items at most `limit` at once, delivering each commit as it is ready.

    `limit` workers (fewer for fewer items) each take the next item as soon as they have
    delivered their last commit (for the store, written): what a run keeps in memory is at
    most `limit` episodes, live or waiting for the writer. A worker per slot rather than a
    task per episode: a task is a kilobyte or two of bookkeeping (anyio's handle, event and
    cancel scope), made and dropped for every episode of a long phase otherwise.
    When the run's `StopSwitch` trips, every episode in flight is cancelled, none commits
    after that, and RunStopped is raised once they have ended.
    """
    stop = StopSwitch.of(runner.ctx.resources)
    pending = iter(items)  # shared: each worker takes the next item (a plain `next`, no await)

    async def worker(item: WorkItem | None) -> None:
        while item is not None and not stop.tripped:
            try:
                commit = await runner.execute(item)
                if not stop.tripped:
                    await deliver(commit)
                del commit  # or the worker's next episode keeps this one's results alive
            except RunStopped as exc:  # raised past the gateway, which trips the switch itself
                stop.trip(exc)
            item = next(pending, None)

    with anyio.CancelScope() as scope, stop.guarding(scope):
        async with anyio.create_task_group() as group:
            for index, first in enumerate(itertools.islice(pending, limit)):
                group.start_soon(worker, first, name=f"episode-worker-{index}")
    stop.check()


async def build_steps(
    registry: StepRegistry, phase: PhaseConfig, ctx: PhaseContext
) -> tuple[list[Step], Step | None]:
    """The phase's steps and its `on_fail` step, built from their specs and set up."""

    def build(spec: StepSpec) -> Step:
        kind = registry.get(spec.kind)
        return kind(spec.step_name, kind.params_model.model_validate(spec.raw_params), ctx)

    steps = [build(spec) for spec in phase.steps]
    on_fail = build(phase.on_fail) if phase.on_fail else None
    for step in [*steps, *([on_fail] if on_fail else [])]:
        await step.setup()
    return steps, on_fail


def _item_key(base: str, trial: int, trials: int) -> str:
    return f"{base}.t{trial}" if trials > 1 else base


class EpisodeRunner:
    """Runs one work item through the phase protocol (with attempts) into an `ItemCommit`.

    It never writes: whoever executes episodes (in process, or on a remote worker) hands
    the commit to the one store writer.
    """

    def __init__(
        self,
        playbook: Playbook,
        phase: PhaseConfig,
        ctx: PhaseContext,
        steps: list[Step],
        on_fail: Step | None,
    ) -> None:
        self.playbook = playbook
        self.phase = phase
        self.ctx = ctx
        self.steps = steps
        self.on_fail = on_fail

    async def execute(self, item: WorkItem) -> ItemCommit:
        """Run the item's attempts (bounded by the episode timeout) and describe the result.

        An attempt runs the steps in order; when one fails, `on_fail` runs and the next
        attempt starts, up to the phase's limit. Every live episode waits at the bottom of
        this await chain, so the attempts loop here rather than in a coroutine of its own:
        a coroutine costs a few hundred bytes per live episode.
        """
        started = time.perf_counter()
        episode = Episode(
            phase=self.ctx,
            key=item.key,
            index=item.index,
            trial=item.trial,
            seed=episode_seed(self.ctx.seed, self.phase.name, item.key),
            inputs=item.inputs,
        )
        status: ItemStatus = "failed"
        reason = "timeout"
        timeout_s = self.playbook.timeouts.episode_s
        with bound(episode_id=item.key):
            # Kept by the actor system's watchdog, not a timer: every live episode waits in one.
            with self.ctx.system.deadlines.scope(timeout_s) as scope:
                while True:
                    failed: tuple[StepOutcome, str, bool] | None = None
                    for step in self.steps:
                        outcome, errored = await self._run_step(step, episode)
                        if not outcome.passed:
                            failed = outcome, step.name, errored
                            break
                    if failed is None:
                        for step in self.steps:
                            await step.on_accepted(episode)
                        status, reason = "accepted", ""
                        break
                    outcome, step_name, errored = failed
                    status = "failed" if errored else "rejected"
                    reason = f"{step_name}: {outcome.reasons[0]}" if outcome.reasons else step_name
                    if episode.attempt >= self.phase.max_attempts:
                        break
                    if self.on_fail is not None:
                        episode.state["last_failure"] = {"step": step_name, **outcome.model_dump()}
                        await self._run_step(self.on_fail, episode)
                    episode.attempt += 1
            if scope.cancelled_caught:
                status, reason = "failed", "timeout"
                _log.warning("episode.timeout", timeout_s=timeout_s)
        # Its working state (role scopes, data forks, transcripts) refers back to the episode:
        # let it go now, or the cycle waits for the cyclic collector and memory piles up.
        episode.state.clear()
        return ItemCommit(
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

    async def _run_step(self, step: Step, episode: Episode) -> tuple[StepOutcome, bool]:
        """Run one step; an exception becomes a recorded failed outcome, not a crash."""
        try:
            outcome = await step.run(episode)
        except RunStopped:
            raise
        except Exception as exc:
            outcome = StepOutcome.error(f"error: {type(exc).__name__}: {exc}")
            _log.warning("step.error", step=step.name, error=f"{type(exc).__name__}: {exc}")
        episode.event(
            "step",
            step=step.name,
            attempt=episode.attempt,
            passed=outcome.passed,
            reasons=outcome.reasons,
        )
        return outcome, outcome.errored
