"""Running a coroutine function on the fastest event loop this machine has.

uvloop (a libuv-based asyncio loop) cuts the per-request cost of a run's hundreds of open
connections; it is used when installed unless `APIGEN_EVENT_LOOP=asyncio` asks otherwise.
The garbage collector is tuned for the run: a thousand live episodes make a large heap, and
CPython's default thresholds walk all of it every few thousand allocations (a quarter of the
CPU per model call at 1,000 concurrent episodes, measured by benchmarks/end_to_end.py).
"""

from __future__ import annotations

import gc
import importlib.util
import os
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import anyio

from runtime.errors import ApigenError

T = TypeVar("T")
EVENT_LOOP_ENV = "APIGEN_EVENT_LOOP"
GC_THRESHOLDS = (10_000, 50, 100)
"""Young collections every 10,000 allocations (default 700), full ones 100x rarer (default 10)."""


def backend_options() -> dict[str, Any]:
    """anyio's asyncio backend options: uvloop when it is installed and not switched off."""
    wanted = os.environ.get(EVENT_LOOP_ENV, "auto").strip().lower()
    if wanted == "asyncio":
        return {}
    if wanted not in ("auto", "uvloop"):
        raise ApigenError(f"{EVENT_LOOP_ENV}={wanted!r}: expected auto, uvloop or asyncio")
    available = importlib.util.find_spec("uvloop") is not None
    if wanted == "uvloop" and not available:
        raise ApigenError(f"{EVENT_LOOP_ENV}=uvloop but uvloop is not installed")
    return {"use_uvloop": available}


def run(func: Callable[..., Awaitable[T]], *args: Any) -> T:
    """`anyio.run(func, *args)` on the chosen loop, with the collector tuned for a run."""
    options = backend_options()
    with tuned_gc():
        return anyio.run(func, *args, backend_options=options)


@contextmanager
def tuned_gc() -> Iterator[None]:
    """Rarer collections for the block; what exists before it (imports) is never rescanned."""
    previous = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()
