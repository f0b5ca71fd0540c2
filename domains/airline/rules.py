"""Mechanical airline policy rules A1-A6 and A8 over an executed action sequence; the trip
rules A10-A12 live in `_trip_rules`, and `RULES` lists them all.

Rules judge attempted writes (failed calls included): trying to act against the policy breaks
it even when a tool check happens to refuse. Reservations are judged as the trace leaves them
just before each call (A9, see `_replay`): the state before the trace, updated by each
successful write's result and by the cabin each flight update chose.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from domains.airline._replay import Replay, choices, integer, text
from domains.airline._trip_rules import (
    BagsPaidBeyondAllowance,
    ConnectedItinerary,
    NoWriteOnCancelled,
)
from domains.airline.records import CLOCK, FREE_BAGS
from domains.airline.writes import CERTIFICATE_IDS
from domains.base import PolicyRule, Violation
from domains.environment import Environment, ToolResult
from domains.state import Record

MAX_PASSENGERS: Final = 5
PAYMENT_LIMITS: Final = {"certificate": 1, "credit_card": 1, "gift_card": 3}
FLOWN: Final = frozenset({"landed", "flying"})
CANCELLATION_WINDOW: Final = timedelta(hours=24)


def segment_statuses(env: Environment, reservation: Record) -> list[str]:
    """The airline's status of each of the reservation's segments (`unknown` when missing)."""
    statuses = []
    for segment in reservation["flights"]:
        flight = env.state.get("flights", segment["flight_number"])
        record = flight["dates"].get(segment["date"]) if flight else None
        statuses.append(record["status"] if record else "unknown")
    return statuses


class ServedUserOnly(PolicyRule):
    """A1: writes touch only the user whose details were looked up before the first write."""

    name = "A1"
    description = (
        "writes may touch only the reservations and profile of the user being served, "
        "identified with get_user_details before the first write"
    )

    def check(
        self, trace: Sequence[ToolResult], before: Environment, subject: str | None = None
    ) -> list[Violation]:
        """Writes before any user lookup, or on another user's data."""
        violations = []
        replay = Replay(before)
        served: str | None = None
        for index, result in replay.steps(trace):
            if result.name == "get_user_details" and result.ok and served is None:
                served = text(result.arguments, "user_id")
            if not result.writes:
                continue
            reservation = replay.reservation(text(result.arguments, "reservation_id"))
            target = reservation["user_id"] if reservation else text(result.arguments, "user_id")
            if served is None:
                message = f"{result.name} before the user was identified with get_user_details"
                violations.append(Violation(self.name, message, index))
            elif target is not None and target != served:
                message = f"{result.name} touches user {target!r}, not {served!r}"
                violations.append(Violation(self.name, message, index))
        return violations


class FlightChangeLimits(PolicyRule):
    """A2: the flights of a basic economy reservation stay as they are (its cabin may change)."""

    name = "A2"
    description = (
        "update_reservation_flights never changes the flights of a reservation whose cabin is "
        "basic economy (the cabin an earlier flight update set counts); a cabin-only change is "
        "allowed"
    )

    def check(
        self, trace: Sequence[ToolResult], before: Environment, subject: str | None = None
    ) -> list[Violation]:
        """Flight changes of reservations that are basic economy just before the call."""
        violations = []
        replay = Replay(before)
        for index, result in replay.steps(trace):
            if result.name != "update_reservation_flights":
                continue
            reservation = replay.reservation(text(result.arguments, "reservation_id"))
            wanted = choices(result.arguments)
            if reservation is None or wanted is None:
                continue
            current = [(f["flight_number"], f["date"]) for f in reservation["flights"]]
            if reservation["cabin"] == "basic_economy" and wanted != current:
                message = (
                    f"the flights of basic economy reservation {reservation['reservation_id']} "
                    f"cannot be changed ({_legs(current)} -> {_legs(wanted)})"
                )
                violations.append(Violation(self.name, message, index))
        return violations


def _legs(pairs: list[tuple[str, str]]) -> str:
    """`HAT001 2024-05-20, HAT002 2024-05-25`."""
    return ", ".join(f"{number} {day}" for number, day in pairs) or "no flights"


class BaggageNeverDecreases(PolicyRule):
    """A3: checked bags can be added, never removed."""

    name = "A3"
    description = "update_reservation_baggages never lowers total_baggages or nonfree_baggages"

    def check(
        self, trace: Sequence[ToolResult], before: Environment, subject: str | None = None
    ) -> list[Violation]:
        """Baggage updates below the reservation's current counts."""
        violations = []
        replay = Replay(before)
        for index, result in replay.steps(trace):
            if result.name != "update_reservation_baggages":
                continue
            reservation = replay.reservation(text(result.arguments, "reservation_id"))
            if reservation is None:
                continue
            for field in ("total_baggages", "nonfree_baggages"):
                value = result.arguments.get(field)
                if isinstance(value, int | float) and value < reservation[field]:
                    message = f"{field} would drop from {reservation[field]} to {value}"
                    violations.append(Violation(self.name, message, index))
        return violations


class BookingLimits(PolicyRule):
    """A4: at most 5 passengers, limited payment methods, paid bags beyond the allowance."""

    name = "A4"
    description = (
        "book_reservation: at most 5 passengers; at most 1 certificate, 1 credit card and "
        "3 gift cards; nonfree_baggages = max(0, total - free allowance of membership and cabin)"
    )

    def check(
        self, trace: Sequence[ToolResult], before: Environment, subject: str | None = None
    ) -> list[Violation]:
        """Bookings over the passenger or payment limits, or with a wrong paid-bag count."""
        violations: list[Violation] = []
        for index, result in enumerate(trace):
            if result.name == "book_reservation":
                violations.extend(
                    Violation(self.name, message, index)
                    for message in self._problems(result.arguments, before)
                )
        return violations

    @staticmethod
    def _problems(arguments: dict[str, Any], before: Environment) -> list[str]:
        problems = []
        passengers = arguments.get("passengers")
        count = len(passengers) if isinstance(passengers, list) else 0
        if count > MAX_PASSENGERS:
            problems.append(f"{count} passengers (at most {MAX_PASSENGERS})")
        payments = arguments.get("payment_methods")
        entries = payments if isinstance(payments, list) else []
        ids = [p.get("payment_id") for p in entries if isinstance(p, dict)]
        for source, limit in PAYMENT_LIMITS.items():
            used = sum(1 for key in ids if isinstance(key, str) and key.startswith(f"{source}_"))
            if used > limit:
                problems.append(f"{used} {source.replace('_', ' ')} payments (at most {limit})")
        user = before.state.get("users", text(arguments, "user_id") or "")
        cabin, total = arguments.get("cabin"), integer(arguments.get("total_baggages"))
        allowance = FREE_BAGS[user["membership"]] if user else {}
        if isinstance(cabin, str) and cabin in allowance and total is not None:
            expected = max(0, total - allowance[cabin] * count)
            if arguments.get("nonfree_baggages") != expected:
                problems.append(f"nonfree_baggages should be {expected} for {total} bags")
        return problems


def booked_recently(reservation: Record) -> bool:
    """Created within the 24 hours before the clock."""
    try:
        created = datetime.fromisoformat(str(reservation["created_at"]))
    except ValueError:
        return False
    return timedelta(0) <= CLOCK - created <= CANCELLATION_WINDOW


class CancellationAllowed(PolicyRule):
    """A5: cancel only recent, airline-cancelled, business or insured trips not yet flown."""

    name = "A5"
    description = (
        "cancel_reservation only within 24 h of booking, after an airline cancellation, in "
        "business, or with insurance; and never once a segment was flown"
    )

    def check(
        self, trace: Sequence[ToolResult], before: Environment, subject: str | None = None
    ) -> list[Violation]:
        """Cancellations with no allowed reason, or of trips partly flown."""
        violations = []
        replay = Replay(before)
        for index, result in replay.steps(trace):
            if result.name != "cancel_reservation":
                continue
            reservation = replay.reservation(text(result.arguments, "reservation_id"))
            if reservation is None:
                continue
            statuses = segment_statuses(before, reservation)
            if not (
                booked_recently(reservation)
                or "cancelled" in statuses
                or reservation["cabin"] == "business"
                or reservation["insurance"] == "yes"
            ):
                message = (
                    f"{reservation['reservation_id']} was booked at {reservation['created_at']} "
                    f"(over 24 h ago), has no flight cancelled by the airline, is "
                    f"{reservation['cabin']} (not business) and has no insurance"
                )
                violations.append(Violation(self.name, message, index))
            if FLOWN & set(statuses):
                message = f"{reservation['reservation_id']} has a segment already flown"
                violations.append(Violation(self.name, message, index))
        return violations


class CompensationAmount(PolicyRule):
    """A6: a certificate is $100 or $50 per passenger of an eligible, disrupted reservation."""

    name = "A6"
    description = (
        "send_certificate: 100 x passengers for a cancelled flight, or 50 x passengers for a "
        "delayed one after the reservation was changed or cancelled, for a silver or gold "
        "member, an insured reservation or a business reservation read earlier"
    )

    def check(
        self, trace: Sequence[ToolResult], before: Environment, subject: str | None = None
    ) -> list[Violation]:
        """Certificates that no reservation read earlier in the trace justifies."""
        violations = []
        read: dict[str, Record] = {}
        changed: set[str] = set()
        for index, result in enumerate(trace):
            reservation_id = text(result.arguments, "reservation_id")
            if result.ok and reservation_id is not None:
                if result.name == "get_reservation_details" and isinstance(result.value, dict):
                    read.setdefault(reservation_id, result.value)
                elif result.name in ("cancel_reservation", "update_reservation_flights"):
                    changed.add(reservation_id)
            if result.name != "send_certificate":
                continue
            user_id = text(result.arguments, "user_id")
            amount = result.arguments.get("amount")
            allowed = self._allowed(before, user_id, read, changed)
            if not isinstance(amount, int | float) or amount not in allowed:
                message = f"certificate of {amount!r}; justified amounts: {sorted(allowed)}"
                violations.append(Violation(self.name, message, index))
        return violations

    @staticmethod
    def _allowed(
        before: Environment, user_id: str | None, read: dict[str, Record], changed: set[str]
    ) -> set[int]:
        """Amounts the user's eligible reservations justify, judged as they were first read."""
        user = before.state.get("users", user_id or "")
        if user is None:
            return set()
        allowed: set[int] = set()
        for reservation_id, reservation in read.items():
            eligible = (
                user["membership"] in ("silver", "gold")
                or reservation["insurance"] == "yes"
                or reservation["cabin"] == "business"
            )
            if reservation["user_id"] != user_id or not eligible:
                continue
            statuses = segment_statuses(before, reservation)
            count = len(reservation["passengers"])
            if "cancelled" in statuses:
                allowed.add(100 * count)
            if "delayed" in statuses and reservation_id in changed:
                allowed.add(50 * count)
        return allowed


class SubjectServed(PolicyRule):
    """A8: the task's user is the one served: looked up first, owner of everything written."""

    name = "A8"
    description = (
        "the task's user_id is the user served: the first successful get_user_details returns "
        "them, and every write touches only their reservations, profile and payment methods"
    )

    def check(
        self, trace: Sequence[ToolResult], before: Environment, subject: str | None = None
    ) -> list[Violation]:
        """Another user looked up first, or written for; payments from others' methods."""
        if subject is None:
            return []
        user = before.state.get("users", subject)
        owned = set(user["payment_methods"]) if user else set()
        violations = []
        replay = Replay(before)
        identified = False
        for index, result in replay.steps(trace):
            arguments = result.arguments
            if result.name == "get_user_details" and result.ok and not identified:
                identified = True
                looked_up = text(arguments, "user_id")
                if looked_up != subject:
                    message = f"get_user_details returns {looked_up!r}, but the task is about "
                    violations.append(Violation(self.name, message + repr(subject), index))
            if not result.writes:
                continue
            violations += [
                Violation(self.name, message, index)
                for message in self._problems(result, replay, subject, owned)
            ]
            sent = result.ok and result.name == "send_certificate"
            if sent and text(arguments, "user_id") == subject:
                owned |= set(CERTIFICATE_IDS)  # the one it added: which, the rule need not know
        return violations

    @staticmethod
    def _problems(result: ToolResult, replay: Replay, subject: str, owned: set[str]) -> list[str]:
        """What one write touches that is not the subject's."""
        arguments = result.arguments
        problems = []
        key = text(arguments, "reservation_id")
        reservation = replay.reservation(key)
        if reservation is not None and reservation["user_id"] != subject:
            problems.append(
                f"{result.name} touches reservation {key} of {reservation['user_id']!r}, "
                f"not of the task's user {subject!r}"
            )
        user_id = text(arguments, "user_id")
        if user_id is not None and user_id != subject:
            problems.append(f"{result.name} is for user {user_id!r}, not {subject!r}")
        for payment_id in _payment_ids(arguments):
            if payment_id not in owned:
                problems.append(
                    f"{result.name} pays with {payment_id!r}, not a payment method of {subject!r}"
                )
        return problems


def _payment_ids(arguments: dict[str, Any]) -> list[str]:
    """The payment method ids a write names: `payment_id` or each of `payment_methods`."""
    single = text(arguments, "payment_id")
    listed = arguments.get("payment_methods")
    entries = listed if isinstance(listed, list) else []
    found = [text(entry, "payment_id") for entry in entries if isinstance(entry, dict)]
    return [key for key in [single, *found] if key is not None]


RULES: tuple[PolicyRule, ...] = (
    ServedUserOnly(),
    FlightChangeLimits(),
    BaggageNeverDecreases(),
    BookingLimits(),
    CancellationAllowed(),
    CompensationAmount(),
    SubjectServed(),
    BagsPaidBeyondAllowance(),
    ConnectedItinerary(),
    NoWriteOnCancelled(),
)
