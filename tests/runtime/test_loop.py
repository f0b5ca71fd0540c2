"""Choosing the event loop: uvloop when installed, plain asyncio on request."""

from __future__ import annotations

import asyncio
import gc
import importlib.util

import pytest

from runtime.errors import ApigenError
from runtime.loop import EVENT_LOOP_ENV, GC_THRESHOLDS, backend_options, run

HAVE_UVLOOP = importlib.util.find_spec("uvloop") is not None


async def _loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__


def test_the_default_is_uvloop_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(EVENT_LOOP_ENV, raising=False)
    assert backend_options() == {"use_uvloop": HAVE_UVLOOP}
    assert run(_loop_module).startswith("uvloop") is HAVE_UVLOOP


def test_asyncio_can_be_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(EVENT_LOOP_ENV, "asyncio")
    assert backend_options() == {}
    assert run(_loop_module).startswith("asyncio")


def test_an_unknown_loop_name_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(EVENT_LOOP_ENV, "trio-ish")
    with pytest.raises(ApigenError, match="trio-ish"):
        backend_options()


def test_the_collector_is_tuned_for_the_run_and_restored_after() -> None:
    before = gc.get_threshold()

    async def thresholds() -> tuple[int, ...]:
        return gc.get_threshold()

    assert run(thresholds) == GC_THRESHOLDS
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
