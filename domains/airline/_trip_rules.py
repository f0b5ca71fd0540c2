"""Airline rules on a trip's integrity: paid bags beyond the allowance (A10), connected
itineraries (A11), no writes on cancelled reservations (A12).

Like every airline rule they judge attempted writes against the effective reservation just
before each call (A9, see `_replay`).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from domains.airline._replay import Replay, choices, integer, text
from domains.airline.records import FREE_BAGS
from domains.base import PolicyRule, Violation
from domains.environment import Environment, ToolResult

Leg = tuple[str, str, str, str]
"""A flight of an itinerary: number, date, origin, destination."""


class BagsPaidBeyondAllowance(PolicyRule):
    """A10: every checked bag beyond the free allowance is paid for."""

    name = "A10"
    description = (
        "update_reservation_baggages: nonfree_baggages >= total_baggages minus the free "
        "allowance (per passenger, by membership and the reservation's current cabin)"
    )

    def check(
        self, trace: Sequence[ToolResult], before: Environment, subject: str | None = None
    ) -> list[Violation]:
        """Baggage updates carrying more free bags than the allowance."""
        violations = []
        replay = Replay(before)
        for index, result in replay.steps(trace):
            if result.name != "update_reservation_baggages":
                continue
            reservation = replay.reservation(text(result.arguments, "reservation_id"))
            user = before.state.get("users", reservation["user_id"]) if reservation else None
            total = integer(result.arguments.get("total_baggages"))
            nonfree = integer(result.arguments.get("nonfree_baggages"))
            if reservation is None or user is None or total is None or nonfree is None:
                continue
            cabin, passengers = reservation["cabin"], len(reservation["passengers"])
            allowance = FREE_BAGS[user["membership"]][cabin] * passengers
            if nonfree < total - allowance:
                message = (
                    f"{total} bags with {nonfree} paid on {reservation['reservation_id']}: a "
                    f"{user['membership']} member in {cabin} has {allowance} free for "
                    f"{passengers} passenger(s), so at least {total - allowance} must be paid"
                )
                violations.append(Violation(self.name, message, index))
        return violations


class ConnectedItinerary(PolicyRule):
    """A11: a booking's or flight update's legs connect and match the trip's route and type."""

    name = "A11"
    description = (
        "the flights of book_reservation and update_reservation_flights form one itinerary: "
        "each leg leaves where the previous one landed, on the same day or later; it starts at "
        "the trip's origin; a one way trip ends at its destination; a round trip reaches its "
        "destination and ends back at its origin (an update keeps the reservation's route)"
    )

    def check(
        self, trace: Sequence[ToolResult], before: Environment, subject: str | None = None
    ) -> list[Violation]:
        """Bookings and flight updates whose legs do not make the trip."""
        violations = []
        replay = Replay(before)
        for index, result in replay.steps(trace):
            route = _route(result, replay)
            legs = _legs(before, choices(result.arguments))
            if route is None or legs is None:
                continue
            violations += [
                Violation(self.name, f"{result.name}: {problem}", index)
                for problem in itinerary_problems(legs, *route)
            ]
        return violations


def _route(result: ToolResult, replay: Replay) -> tuple[str, str, str] | None:
    """Origin, destination and flight type the call's flights must make: a booking's
    arguments, or the updated reservation's; None for other calls or malformed ones."""
    if result.name == "book_reservation":
        origin, destination, flight_type = (text(result.arguments, key) for key in _ROUTE)
        if origin is None or destination is None or flight_type is None:
            return None
        return origin, destination, flight_type
    if result.name == "update_reservation_flights":
        reservation = replay.reservation(text(result.arguments, "reservation_id"))
        if reservation is not None:
            origin, destination = reservation["origin"], reservation["destination"]
            return str(origin), str(destination), str(reservation["flight_type"])
    return None


_ROUTE = ("origin", "destination", "flight_type")


def _legs(before: Environment, pairs: list[tuple[str, str]] | None) -> list[Leg] | None:
    """The legs with their airports; None when a flight is unknown (the tool refuses it)."""
    if pairs is None:
        return None
    legs = []
    for number, day in pairs:
        flight = before.state.get("flights", number)
        if flight is None:
            return None
        legs.append((number, day, str(flight["origin"]), str(flight["destination"])))
    return legs


def itinerary_problems(
    legs: list[Leg], origin: str, destination: str, flight_type: str
) -> list[str]:
    """Why the legs do not make a `flight_type` trip from `origin` to `destination`."""
    if not legs:
        return ["no flights"]
    problems = []
    for (number, day, _, landed), (onward, onward_day, leaves, _) in pairwise(legs):
        if leaves != landed:
            problems.append(f"{onward} leaves {leaves}, but {number} lands in {landed}")
        if onward_day < day:
            problems.append(f"{onward} on {onward_day} flies before {number} on {day}")
    first, last = legs[0], legs[-1]
    if first[2] != origin:
        problems.append(f"the trip starts in {first[2]} ({first[0]}), not at its origin {origin}")
    if flight_type == "one_way" and last[3] != destination:
        problems.append(
            f"the one way trip ends in {last[3]} ({last[0]}), not at its destination {destination}"
        )
    if flight_type == "round_trip":
        if destination not in {leg[3] for leg in legs[:-1]}:
            problems.append(f"the round trip never reaches its destination {destination}")
        if last[3] != origin:
            problems.append(
                f"the round trip ends in {last[3]} ({last[0]}), not back at its origin {origin}"
            )
    return problems


class NoWriteOnCancelled(PolicyRule):
    """A12: a cancelled reservation is never written again."""

    name = "A12"
    description = (
        "no write on a reservation already cancelled, in the data or earlier in the sequence"
    )

    def check(
        self, trace: Sequence[ToolResult], before: Environment, subject: str | None = None
    ) -> list[Violation]:
        """Writes on reservations whose status is cancelled just before the call."""
        violations = []
        replay = Replay(before)
        cancelled_at: dict[str, int] = {}
        for index, result in replay.steps(trace):
            key = text(result.arguments, "reservation_id")
            reservation = replay.reservation(key) if result.writes else None
            if key is not None and reservation is not None:
                if reservation.get("status") == "cancelled":
                    when = (
                        f"by action {cancelled_at[key]}" if key in cancelled_at else "in the data"
                    )
                    message = f"{result.name} on reservation {key}, already cancelled {when}"
                    violations.append(Violation(self.name, message, index))
                elif result.ok and result.name == "cancel_reservation":
                    cancelled_at[key] = index
        return violations
