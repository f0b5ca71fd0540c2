"""Reservations as an action sequence leaves them, for the rules to judge each call (A9).

The state before the trace, updated by each successful write's returned reservation, and
by the cabin each flight update set: `update_reservation_flights` prices the new cabin but
(faithfully to tau-bench) never stores it, so the stored cabin goes stale.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from domains.environment import Environment, ToolResult
from domains.state import Record


def text(arguments: dict[str, Any], key: str) -> str | None:
    """A string argument, or None when it is absent or not a string."""
    value = arguments.get(key)
    return value if isinstance(value, str) else None


def integer(value: Any) -> int | None:
    """An integer argument (not a bool), or None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def choices(arguments: dict[str, Any]) -> list[tuple[str, str]] | None:
    """The (flight_number, date) pairs of a `flights` argument, or None when malformed."""
    flights = arguments.get("flights")
    if not isinstance(flights, list) or not all(isinstance(f, dict) for f in flights):
        return None
    pairs = [(f.get("flight_number"), f.get("date")) for f in flights]
    if not all(isinstance(n, str) and isinstance(d, str) for n, d in pairs):
        return None
    return [(str(n), str(d)) for n, d in pairs]


class Replay:
    """Effective reservations, step by step: bags, passengers, flights and status as the
    earlier writes left them, and the cabin the latest flight update chose."""

    def __init__(self, before: Environment) -> None:
        self.before = before
        self._latest: dict[str, Record] = {}
        self._cabins: dict[str, str] = {}

    def reservation(self, reservation_id: str | None) -> Record | None:
        """The effective reservation, or None when unknown."""
        if reservation_id is None:
            return None
        found = self._latest.get(reservation_id) or self.before.state.get(
            "reservations", reservation_id
        )
        cabin = self._cabins.get(reservation_id)
        if found is None or cabin is None or cabin == found["cabin"]:
            return found
        return {**found, "cabin": cabin}

    def advance(self, result: ToolResult) -> None:
        """Take in a successful write's returned reservation (and a flight update's cabin)."""
        value = result.value
        if not (result.ok and result.writes and isinstance(value, dict)):
            return
        if "reservation_id" not in value:
            return
        key = str(value["reservation_id"])
        self._latest[key] = value
        cabin = text(result.arguments, "cabin")
        if result.name == "update_reservation_flights" and cabin is not None:
            self._cabins[key] = cabin
        elif result.name == "book_reservation":
            self._cabins.pop(key, None)

    def steps(self, trace: Sequence[ToolResult]) -> Iterator[tuple[int, ToolResult]]:
        """The calls in order; the replay catches up with each after the caller looked at it."""
        for index, result in enumerate(trace):
            yield index, result
            self.advance(result)
