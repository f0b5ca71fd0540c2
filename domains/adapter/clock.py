"""A frozen wall clock for a class domain's calls: `datetime.now()` and `time.time()` fixed.

Inside `frozen(moment, modules)` the names `datetime` and `time` bound in those modules'
globals (the module or its `datetime` / `date` class) read `moment` instead of the clock,
so a method stamping a record writes the same value on every run of the same task.
"""

from __future__ import annotations

import datetime as dt
import time as time_module
import types
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any


def _frozen_classes(moment: dt.datetime) -> tuple[type[dt.datetime], type[dt.date]]:
    class FrozenDateTime(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:  # type: ignore[override]
            return moment if tz is None else moment.replace(tzinfo=dt.timezone.utc).astimezone(tz)

        @classmethod
        def utcnow(cls) -> dt.datetime:  # type: ignore[override]
            return moment

        @classmethod
        def today(cls) -> dt.datetime:  # type: ignore[override]
            return moment

    class FrozenDate(dt.date):
        @classmethod
        def today(cls) -> dt.date:  # type: ignore[override]
            return moment.date()

    return FrozenDateTime, FrozenDate


class _ModuleProxy(types.ModuleType):
    """A module whose listed attributes are replaced; the rest come from the real one."""

    def __init__(self, real: types.ModuleType, replaced: dict[str, Any]) -> None:
        super().__init__(real.__name__)
        self._real = real
        self.__dict__.update(replaced)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def replacements(moment: dt.datetime) -> dict[int, Any]:
    """What each clock object (by id) becomes while frozen."""
    frozen_datetime, frozen_date = _frozen_classes(moment)
    stamp = moment.timestamp()
    return {
        id(dt): _ModuleProxy(dt, {"datetime": frozen_datetime, "date": frozen_date}),
        id(dt.datetime): frozen_datetime,
        id(dt.date): frozen_date,
        id(time_module): _ModuleProxy(
            time_module, {"time": lambda: stamp, "time_ns": lambda: int(stamp * 1e9)}
        ),
    }


@contextmanager
def frozen(swaps: dict[int, Any] | None, modules: Iterable[types.ModuleType]) -> Iterator[None]:
    """Swap the clock names in `modules` for the block (no-op when `swaps` is None)."""
    if swaps is None:
        yield
        return
    undo: list[tuple[dict[str, Any], str, Any]] = []
    for module in modules:
        namespace = vars(module)
        for name, value in list(namespace.items()):
            replacement = swaps.get(id(value))
            if replacement is not None:
                undo.append((namespace, name, value))
                namespace[name] = replacement
    try:
        yield
    finally:
        for namespace, name, value in undo:
            namespace[name] = value
