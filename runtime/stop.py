"""Stopping a run from inside it, when one failure shows that no other item can succeed.

The run's `StopSwitch` lives in its resources. The first `trip` cancels every episode in
flight (their scopes are cancelled at once, so nothing waits for a slow call to end) and
from then on no episode commits, so the items that were in flight are simply not done and
a resumed run does them; the engine then raises the tripping error and marks the run
`stopped`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import anyio

from runtime.errors import RunStopped
from runtime.steps import Resources


class StopSwitch:
    """Trips once: remembers why, and cancels the scopes of the episodes running then."""

    def __init__(self) -> None:
        self.error: RunStopped | None = None
        self._scopes: set[anyio.CancelScope] = set()

    @classmethod
    def of(cls, resources: Resources) -> StopSwitch:
        """The run's switch, made on first use by whoever asks first (a hook or the engine)."""
        switch = resources.get(cls)
        if switch is None:
            switch = cls()
            resources.provide(cls, switch)
        return switch

    @property
    def tripped(self) -> bool:
        return self.error is not None

    def trip(self, error: RunStopped) -> None:
        """Stop the run for `error`; a later trip changes nothing (the first cause is kept)."""
        if self.error is not None:
            return
        self.error = error
        for scope in self._scopes:
            scope.cancel()

    def check(self) -> None:
        """Raise the tripping error, if there is one."""
        if self.error is not None:
            raise self.error

    @contextmanager
    def guarding(self, scope: anyio.CancelScope) -> Iterator[None]:
        """Cancel `scope` when the switch trips (at once if it already has)."""
        if self.error is not None:
            scope.cancel()
        self._scopes.add(scope)
        try:
            yield
        finally:
            self._scopes.discard(scope)
