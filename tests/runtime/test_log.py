"""Log context: ids bound for a block reach every event in it and are restored after."""

from __future__ import annotations

import structlog

from runtime.log import bound


def test_nested_bindings_override_then_restore() -> None:
    structlog.contextvars.clear_contextvars()
    with bound(run_id="r1", phase="p1"):
        with bound(phase="p2", episode_id="e1"):
            inner = structlog.contextvars.get_contextvars()
        outer = structlog.contextvars.get_contextvars()
    after = structlog.contextvars.get_contextvars()
    assert inner == {"run_id": "r1", "phase": "p2", "episode_id": "e1"}
    assert outer == {"run_id": "r1", "phase": "p1"}
    assert after == {}


def test_a_raising_block_still_restores() -> None:
    structlog.contextvars.clear_contextvars()
    try:
        with bound(episode_id="e9"):
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert structlog.contextvars.get_contextvars() == {}
