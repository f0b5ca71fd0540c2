"""Running a coroutine function on the fastest event loop this machine has.

uvloop (a libuv-based asyncio loop) cuts the per-request cost of a run's hundreds of open
connections; it is used when installed unless `APIGEN_EVENT_LOOP=asyncio` asks otherwise.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio

from runtime.errors import ApigenError

T = TypeVar("T")
EVENT_LOOP_ENV = "APIGEN_EVENT_LOOP"


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
    """`anyio.run(func, *args)` on the chosen loop."""
    return anyio.run(func, *args, backend_options=backend_options())
