"""Logging configured once: structlog with contextvars-bound run/phase/episode ids.

Callers bind ids with `bound(run_id=..., ...)`; they are never threaded by hand. A redaction
processor masks anything that looks like a secret before a renderer sees it.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any, TextIO

import structlog

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
_SECRET_KEYS = re.compile(r"(api[_-]?key|authorization|secret|password|token)$", re.IGNORECASE)
_SECRET_VALUES = re.compile(r"\b(sk-[A-Za-z0-9_\-]{8,}|Bearer\s+[A-Za-z0-9._\-]{8,})")


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Mask values under secret-looking keys and key-shaped substrings in strings."""
    for key, value in list(event_dict.items()):
        if _SECRET_KEYS.search(key) and not key.endswith("_tokens"):
            event_dict[key] = "***"
        elif isinstance(value, str):
            event_dict[key] = _SECRET_VALUES.sub("***", value)
    return event_dict


def configure_logging(
    *, level: str = "info", json: bool = False, stream: TextIO | None = None
) -> None:
    """Set up structlog for the process: level filter, timestamps, redaction, renderer."""
    numeric = _LEVELS.get(level.lower())
    if numeric is None:
        raise ValueError(f"unknown log level {level!r}")
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


@contextmanager
def bound(**ids: Any) -> Iterator[None]:
    """Bind ids (run_id, phase, episode_id, ...) to every log event inside the block.

    Restores the previous values by token: structlog's `bound_contextvars` copies the whole
    context on entry, a cost every episode would pay.
    """
    tokens = structlog.contextvars.bind_contextvars(**ids)
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)
