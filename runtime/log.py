"""Logging: structlog with contextvars-bound run/phase/episode ids, configured only by the CLI.

Modules log through `get_logger(name)`. Once structlog is configured (the CLI calls
`configure_logging`; a host application may configure it its own way) events go through
that configuration; until then they go to the stdlib `logging` logger of the same name, so
a run embedded in another program is as quiet or as chatty as that program's logging (silent
if it configures none).
Callers bind ids with `bound(run_id=..., ...)`; they are never threaded by hand. A redaction
processor masks anything that looks like a secret before a renderer sees it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import structlog

from runtime.secrets import REDACTED, is_secret_key, redact_text

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
_configured_level: int | None = None
"""The level `configure_logging` set; None while structlog is configured some other way."""


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Mask values under secret-looking keys, key-shaped substrings and URL passwords."""
    for key, value in list(event_dict.items()):
        if is_secret_key(key):
            event_dict[key] = REDACTED
        elif isinstance(value, str):
            event_dict[key] = redact_text(value)
    return event_dict


def configure_logging(
    *, level: str = "info", json: bool = False, stream: TextIO | None = None
) -> None:
    """Set up structlog for the process: level filter, timestamps, redaction, renderer.

    For programs (the CLI, examples run as scripts), never for a library call.
    """
    global _configured_level
    numeric = _LEVELS.get(level.lower())
    if numeric is None:
        raise ValueError(f"unknown log level {level!r}")
    _configured_level = numeric
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_secrets,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(stream or sys.stderr),
        cache_logger_on_first_use=True,
    )


def _as_message(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> str:
    """`event key=value ...`: one stdlib log message."""
    event = event_dict.pop("event", "")
    fields = " ".join(f"{key}={value!r}" for key, value in event_dict.items())
    return f"{event} {fields}" if fields else str(event)


class Logger:
    """A module's logger (see the module docstring for where its events go)."""

    __slots__ = ("_configured", "_stdlib", "_stdlib_logger")

    def __init__(self, name: str) -> None:
        self._configured: Any = structlog.get_logger(name)
        self._stdlib_logger = logging.getLogger(name)
        self._stdlib: Any = structlog.wrap_logger(
            self._stdlib_logger,
            processors=[
                structlog.stdlib.filter_by_level,
                structlog.contextvars.merge_contextvars,
                redact_secrets,
                structlog.processors.format_exc_info,
                _as_message,
            ],
            wrapper_class=structlog.stdlib.BoundLogger,
        )

    def _target(self) -> Any:
        return self._configured if structlog.is_configured() else self._stdlib

    @property
    def debug_enabled(self) -> bool:
        """Whether a debug event goes anywhere: hot paths (every model call, every message)
        skip building one when it would be dropped."""
        if structlog.is_configured():
            return _configured_level is None or _configured_level <= logging.DEBUG
        return self._stdlib_logger.isEnabledFor(logging.DEBUG)

    def debug(self, event: str, **values: Any) -> None:
        if self.debug_enabled:
            self._target().debug(event, **values)

    def info(self, event: str, **values: Any) -> None:
        self._target().info(event, **values)

    def warning(self, event: str, **values: Any) -> None:
        self._target().warning(event, **values)

    def error(self, event: str, **values: Any) -> None:
        self._target().error(event, **values)

    def exception(self, event: str, **values: Any) -> None:
        self._target().exception(event, **values)


def get_logger(name: str) -> Logger:
    """The logger for module `name`; configures nothing.

    As the logging HOWTO asks of libraries, the package's stdlib logger gets a
    `NullHandler`: without it Python's last-resort handler would print our warnings to a
    host that configured no logging at all.
    """
    package = logging.getLogger(name.partition(".")[0])
    if not any(isinstance(handler, logging.NullHandler) for handler in package.handlers):
        package.addHandler(logging.NullHandler())
    return Logger(name)


def bound(**ids: Any) -> _Bound:
    """Bind ids (run_id, phase, episode_id, ...) to every log event inside the block.

    Restores the previous values by token: structlog's `bound_contextvars` copies the whole
    context on entry, a cost every episode would pay. (Not a generator: every live episode
    holds one.)
    """
    return _Bound(ids)


class _Bound:
    """The context manager `bound` returns."""

    __slots__ = ("_ids", "_tokens")

    def __init__(self, ids: dict[str, Any]) -> None:
        self._ids: dict[str, Any] | None = ids
        self._tokens: Mapping[str, Any] = {}

    def __enter__(self) -> None:
        assert self._ids is not None, "a bound block is entered once"
        self._tokens, self._ids = structlog.contextvars.bind_contextvars(**self._ids), None

    def __exit__(self, *exc_info: object) -> None:
        structlog.contextvars.reset_contextvars(**self._tokens)
