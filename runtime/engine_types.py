"""Types shared by the engine, its executors and run hooks."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from runtime.actors import ActorSystem
from runtime.playbook import Playbook
from runtime.steps import Resources
from runtime.store import Store


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


@dataclass
class RunSummary:
    run_id: str
    store_path: str
    resumed: bool
    counts: dict[str, dict[str, int]]
    executed: int
    duration_s: float
