"""Specification of the engine: concurrency, attempts, failures, resume, determinism."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest

from runtime.api import LoadedPlaybook, run_playbook
from runtime.engine import RunContext
from runtime.playbook import parse_playbook
from runtime.plugins import Extensions
from runtime.steps import Episode, Step, StepOutcome, StepParams
from runtime.store import Store
from runtime.yaml_source import YamlSource

pytestmark = pytest.mark.anyio


class Gauge:
    """Counts episodes in flight and remembers the peak."""

    def __init__(self) -> None:
        self.now = 0
        self.peak = 0


class GaugeStep(Step):
    async def run(self, episode: Episode) -> StepOutcome:
        gauge = self.phase.resources.require(Gauge)
        gauge.now += 1
        gauge.peak = max(gauge.peak, gauge.now)
        await anyio.sleep(0.01)
        gauge.now -= 1
        episode.record("seen", {"index": episode.index, "inputs": len(episode.inputs)})
        return StepOutcome.ok()


class FlakyStep(Step):
    """Fails every first attempt, passes later ones."""

    async def run(self, episode: Episode) -> StepOutcome:
        if episode.attempt == 1:
            return StepOutcome.fail("first-try")
        return StepOutcome.ok()


class BoomStep(Step):
    """Raises for odd indices."""

    async def run(self, episode: Episode) -> StepOutcome:
        if episode.index % 2:
            raise RuntimeError(f"boom {episode.index}")
        return StepOutcome.ok()


class OutageStep(Step):
    """Reports an error (an unavailable endpoint) for even indices, a rejection for odd ones."""

    async def run(self, episode: Episode) -> StepOutcome:
        if episode.index % 2:
            return StepOutcome.fail("judged: not good enough")
        return StepOutcome.error("endpoint: unavailable")


class SleepParams(StepParams):
    seconds: float = 10.0


class SleepStep(Step):
    params_model = SleepParams

    async def run(self, episode: Episode) -> StepOutcome:
        assert isinstance(self.params, SleepParams)
        await anyio.sleep(self.params.seconds)
        return StepOutcome.ok()


class CoinStep(Step):
    """Accepts by a seeded coin flip: the episode's randomness decides."""

    async def run(self, episode: Episode) -> StepOutcome:
        return StepOutcome.ok() if episode.rng("coin").random() < 0.5 else StepOutcome.fail("tails")


def _extensions(gauge: Gauge | None = None) -> Extensions:
    extensions = Extensions()
    step_kinds: dict[str, type[Step]] = {
        "gauge": GaugeStep,
        "flaky": FlakyStep,
        "boom": BoomStep,
        "outage": OutageStep,
        "sleep": SleepStep,
        "coin": CoinStep,
    }
    for name, kind in step_kinds.items():
        extensions.steps.register(name, kind)

    @asynccontextmanager
    async def provide_gauge(context: RunContext) -> AsyncIterator[None]:
        context.resources.provide(Gauge, gauge or Gauge())
        yield

    extensions.run_hooks.append(provide_gauge)
    return extensions


def _load(text: str, store: Path, extensions: Extensions | None = None) -> LoadedPlaybook:
    extensions = extensions or _extensions()
    source = YamlSource("test.yaml", textwrap.dedent(text))
    assert isinstance(source.data, dict)
    source.data["store"] = str(store)
    return LoadedPlaybook(parse_playbook(source, extensions.steps), extensions, "test.yaml")


async def test_episodes_run_concurrently_up_to_the_limit(tmp_path: Path) -> None:
    gauge = Gauge()
    loaded = _load(
        """
        name: limit
        concurrency: 7
        phases:
          - {name: p, episodes: 60, steps: [{kind: gauge}]}
        """,
        tmp_path,
        _extensions(gauge),
    )
    summary = await run_playbook(loaded)
    assert summary.counts == {"p": {"accepted": 60}}
    assert gauge.peak == 7


async def test_a_second_run_does_no_repeated_work(tmp_path: Path) -> None:
    text = """
    name: again
    phases:
      - {name: p, episodes: 25, steps: [{kind: echo, rounds: 2}]}
    """
    first = await run_playbook(_load(text, tmp_path))
    second = await run_playbook(_load(text, tmp_path))
    assert (first.executed, first.resumed) == (25, False)
    assert (second.executed, second.resumed) == (0, True)
    assert second.counts == first.counts == {"p": {"accepted": 25}}
    async with Store.open(tmp_path / "store.sqlite") as store:
        results = await store.results(first.run_id, "p")
    assert len(results) == 25


async def test_failed_attempts_run_on_fail_and_retry(tmp_path: Path) -> None:
    loaded = _load(
        """
        name: retry
        phases:
          - name: p
            episodes: 3
            steps: [{kind: flaky}]
            on_fail: {kind: note, text: reflect}
            max_attempts: 2
          - name: q
            episodes: 2
            steps: [{kind: flaky}]
        """,
        tmp_path,
    )
    summary = await run_playbook(loaded)
    assert summary.counts == {"p": {"accepted": 3}, "q": {"rejected": 2}}
    async with Store.open(tmp_path / "store.sqlite") as store:
        retried = await store.items(summary.run_id, phase="p")
        rejected = await store.items(summary.run_id, phase="q")
        notes = await store.events(summary.run_id, event="note")
    assert [item.attempts for item in retried] == [2, 2, 2]
    assert {item.reason for item in rejected} == {"flaky: first-try"}
    assert len(notes) == 3


async def test_a_raising_step_fails_only_its_episode(tmp_path: Path) -> None:
    loaded = _load(
        """
        name: boom
        phases:
          - {name: p, episodes: 6, steps: [{kind: boom}]}
        """,
        tmp_path,
    )
    summary = await run_playbook(loaded)
    assert summary.counts == {"p": {"accepted": 3, "failed": 3}}
    async with Store.open(tmp_path / "store.sqlite") as store:
        failed = await store.items(summary.run_id, status="failed")
    assert [item.reason for item in failed] == [
        f"boom: error: RuntimeError: boom {n}" for n in (1, 3, 5)
    ]


async def test_an_error_outcome_fails_the_item_and_a_verdict_rejects_it(tmp_path: Path) -> None:
    loaded = _load(
        """
        name: outage
        phases:
          - {name: p, episodes: 4, steps: [{kind: outage}]}
        """,
        tmp_path,
    )
    summary = await run_playbook(loaded)
    assert summary.counts == {"p": {"failed": 2, "rejected": 2}}


async def test_an_episode_past_its_timeout_is_recorded_as_failed(tmp_path: Path) -> None:
    loaded = _load(
        """
        name: slow
        timeouts: {episode_s: 0.05}
        phases:
          - {name: p, episodes: 2, steps: [{kind: sleep, seconds: 30}]}
        """,
        tmp_path,
    )
    with anyio.fail_after(10):
        summary = await run_playbook(loaded)
    assert summary.counts == {"p": {"failed": 2}}


async def test_input_phases_get_earlier_results_once_per_trial(tmp_path: Path) -> None:
    loaded = _load(
        """
        name: chained
        phases:
          - {name: make, episodes: 3, steps: [{kind: gauge}]}
          - {name: use, input: {phase: make}, trials: 2, steps: [{kind: gauge}]}
        """,
        tmp_path,
    )
    summary = await run_playbook(loaded)
    async with Store.open(tmp_path / "store.sqlite") as store:
        items = await store.items(summary.run_id, phase="use")
        results = await store.results(summary.run_id, "use")
    assert [item.item_key for item in items] == [
        "000000.t0",
        "000000.t1",
        "000001.t0",
        "000001.t1",
        "000002.t0",
        "000002.t1",
    ]
    assert {result.payload["inputs"] for result in results} == {1}


async def test_an_interrupted_run_resumes_with_every_item_exactly_once(tmp_path: Path) -> None:
    text = """
    name: interrupted
    concurrency: 4
    phases:
      - {name: p, episodes: 40, steps: [{kind: gauge}]}
    """

    class StopAfter:
        def __init__(self, scope: anyio.CancelScope, limit: int) -> None:
            self.scope, self.limit, self.done = scope, limit, 0

        def phase_started(self, phase: str, total: int, already_done: int) -> None:
            pass

        def item_finished(self, phase: str, status: str) -> None:
            self.done += 1
            if self.done == self.limit:
                self.scope.cancel()

        def phase_finished(self, phase: str, counts: dict[str, int]) -> None:
            pass

    with anyio.CancelScope() as scope:
        await run_playbook(_load(text, tmp_path), progress=StopAfter(scope, 10))
    assert scope.cancelled_caught
    async with Store.open(tmp_path / "store.sqlite") as store:
        (run,) = await store.list_runs()
        committed_before = len(await store.committed_keys(run.run_id, "p"))
    assert run.status == "interrupted"
    assert 10 <= committed_before < 40

    summary = await run_playbook(_load(text, tmp_path))
    assert summary.executed == 40 - committed_before
    async with Store.open(tmp_path / "store.sqlite") as store:
        results = await store.results(summary.run_id, "p")
        (run,) = await store.list_runs()
    assert sorted(r.payload["index"] for r in results) == list(range(40))
    assert run.status == "completed"


async def test_the_same_seed_gives_the_same_outcomes(tmp_path: Path) -> None:
    text = """
    name: coins
    seed: {seed}
    phases:
      - {{name: p, episodes: 40, steps: [{{kind: coin}}]}}
    """

    async def accepted(seed: int, folder: str) -> list[str]:
        summary = await run_playbook(_load(text.format(seed=seed), tmp_path / folder))
        async with Store.open(tmp_path / folder / "store.sqlite") as store:
            items = await store.items(summary.run_id, status="accepted")
        return [item.item_key for item in items]

    first, again, other = await accepted(1, "a"), await accepted(1, "b"), await accepted(2, "c")
    assert first == again
    assert first != other
    assert 5 < len(first) < 35
