"""What the CLI shows people: a rich progress bar on a terminal, plain log lines otherwise."""

from __future__ import annotations

import time
from collections import Counter
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from runtime.log import get_logger

_log = get_logger("runtime.progress")


class RichProgress:
    """A progress bar per phase, with running accepted/rejected/failed counts."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
        )
        self._tasks: dict[str, TaskID] = {}
        self._counts: dict[str, Counter[str]] = {}

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def phase_started(self, phase: str, total: int, already_done: int) -> None:
        self._counts[phase] = Counter()
        self._tasks[phase] = self._progress.add_task(
            phase, total=total, completed=already_done, counts=""
        )

    def item_finished(self, phase: str, status: str) -> None:
        counts = self._counts[phase]
        counts[status] += 1
        text = " ".join(f"{name}={n}" for name, n in sorted(counts.items()))
        self._progress.update(self._tasks[phase], advance=1, counts=text)

    def phase_finished(self, phase: str, counts: dict[str, int]) -> None:
        text = " ".join(f"{name}={n}" for name, n in sorted(counts.items()))
        self._progress.update(self._tasks[phase], counts=text)


class LogProgress:
    """Progress as log lines: at most one every `interval_s`, plus phase start and end."""

    def __init__(self, interval_s: float = 5.0) -> None:
        self._interval_s = interval_s
        self._total: dict[str, int] = {}
        self._done: dict[str, int] = {}
        self._counts: dict[str, Counter[str]] = {}
        self._last = 0.0

    def __enter__(self) -> LogProgress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def phase_started(self, phase: str, total: int, already_done: int) -> None:
        self._total[phase] = total
        self._done[phase] = already_done
        self._counts[phase] = Counter()
        self._last = time.monotonic()
        _log.info("progress", phase=phase, done=already_done, total=total)

    def item_finished(self, phase: str, status: str) -> None:
        self._done[phase] += 1
        self._counts[phase][status] += 1
        now = time.monotonic()
        if now - self._last >= self._interval_s:
            self._last = now
            _log.info(
                "progress",
                phase=phase,
                done=self._done[phase],
                total=self._total[phase],
                **dict(self._counts[phase]),
            )

    def phase_finished(self, phase: str, counts: dict[str, int]) -> None:
        _log.info("progress", phase=phase, done=self._done[phase], total=self._total[phase])
