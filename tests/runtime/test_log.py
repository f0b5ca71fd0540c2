"""Log context: ids bound for a block reach every event in it and are restored after."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from runtime.log import bound, configure_logging, get_logger


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


@pytest.fixture
def unconfigured() -> Iterator[None]:
    """structlog as a host that never configured it leaves it; restored afterwards."""
    structlog.reset_defaults()
    try:
        yield
    finally:
        structlog.reset_defaults()


def test_unconfigured_events_go_to_the_stdlib_logger_of_the_module(
    unconfigured: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="runtime.testing")
    log = get_logger("runtime.testing")
    with bound(run_id="r1"):
        log.info("run.started", resumed=False)
        log.debug("episode.committed", status="accepted")
    assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
        ("runtime.testing", logging.INFO, "run.started resumed=False run_id='r1'")
    ]


def test_unconfigured_events_are_masked_too(
    unconfigured: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="agents.testing")
    get_logger("agents.testing").warning(
        "model.failed", api_key="plain", url="http://u:pw@h/v1", note="key sk-abcdef123456"
    )
    assert caplog.records[0].getMessage() == (
        "model.failed api_key='<redacted>' url='http://u:<redacted>@h/v1' note='key <redacted>'"
    )


def test_a_package_logger_has_only_a_null_handler(unconfigured: None) -> None:
    get_logger("domains.testing")
    handlers = logging.getLogger("domains").handlers
    assert [type(handler) for handler in handlers] == [logging.NullHandler]


def test_once_configured_events_go_through_structlog(unconfigured: None) -> None:
    stream = io.StringIO()
    configure_logging(level="info", json=True, stream=stream)
    get_logger("runtime.testing").info("run.finished", executed=3)
    event = json.loads(stream.getvalue())
    assert (event["event"], event["executed"], event["level"]) == ("run.finished", 3, "info")


def test_debug_events_are_built_only_when_some_output_takes_them(
    unconfigured: None, caplog: pytest.LogCaptureFixture
) -> None:
    log = get_logger("runtime.testing_debug")
    caplog.set_level(logging.INFO, logger="runtime.testing_debug")
    assert not log.debug_enabled  # a host whose logging drops debug lines
    caplog.set_level(logging.DEBUG, logger="runtime.testing_debug")
    assert log.debug_enabled
    log.debug("protocol.message", kind="said")
    assert [r.getMessage() for r in caplog.records] == ["protocol.message kind='said'"]

    out = io.StringIO()
    configure_logging(level="info", stream=out)
    assert not log.debug_enabled
    log.debug("protocol.message", kind="dropped")
    configure_logging(level="debug", stream=out)
    assert log.debug_enabled
    log.debug("protocol.message", kind="kept")
    assert "dropped" not in out.getvalue() and "kept" in out.getvalue()
