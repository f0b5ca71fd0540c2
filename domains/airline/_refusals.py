"""Refusal patterns: the user asks for something the airline policy forbids; nothing is written.

The ground truth is the reads that show the policy forbids it (the user's details, the
reservation); the user asks, and insists once, but accepts the refusal in the end.
"""

from __future__ import annotations

import random

from domains.airline._tasks import (
    CABIN_WORDS,
    AirlinePattern,
    city,
    compensation_eligible,
    disrupted_segment,
    opening,
    reservation_ids,
    trip,
    unflown,
    upcoming,
)
from domains.airline.generator import shift
from domains.airline.rules import booked_recently, segment_statuses
from domains.base import Task
from domains.environment import Environment
from domains.state import Record
from domains.task_draft import INSIST_ONCE


def _refusal(env: Environment, rng: random.Random, key: str, *goals: str) -> Task | None:
    """User details and reservation details, then the user's forbidden request."""
    found = opening(env, key)
    if found is None:
        return None
    _, _, draft = found
    draft.goals += [*goals, INSIST_ONCE]
    return draft.task(rng)


class RefuseNonRefundableCancellation(AirlinePattern):
    """Cancel a trip the policy does not let the user cancel (A5)."""

    name = "refuse_non_refundable_cancellation"
    description = (
        "the user wants a refund for cancelling an uninsured economy or basic economy trip "
        "booked over a day ago, with no airline cancellation: the agent refuses"
    )
    write_tools = ()
    ending = "refuse"

    def candidates(self, env: Environment) -> list[str]:
        """Upcoming, unflown reservations with no reason A5 accepts."""
        return reservation_ids(
            env,
            lambda r: (
                upcoming(r)
                and unflown(env, r)
                and not booked_recently(r)
                and "cancelled" not in segment_statuses(env, r)
                and r["cabin"] != "business"
                and r["insurance"] == "no"
            ),
        )

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """The user's and the reservation's details."""
        reservation = env.state.get("reservations", key)
        if reservation is None:
            return None
        reason = rng.choice(("your plans changed", "you found a cheaper flight elsewhere"))
        return _refusal(
            env,
            rng,
            key,
            f"You want to cancel {trip(reservation)} because {reason}, and get a full refund.",
        )


class RefuseBasicEconomyChange(AirlinePattern):
    """Move a basic economy flight to another date (A2 forbids), without changing cabin."""

    name = "refuse_basic_economy_change"
    description = (
        "the user wants to move a flight of a basic economy reservation to another date and "
        "will not change cabin: the agent refuses"
    )
    write_tools = ()
    ending = "refuse"

    def candidates(self, env: Environment) -> list[str]:
        """Upcoming basic economy reservations."""
        return reservation_ids(env, lambda r: upcoming(r) and r["cabin"] == "basic_economy")

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """The user's and the reservation's details."""
        reservation = env.state.get("reservations", key)
        if reservation is None:
            return None
        segment = reservation["flights"][-1]
        later = shift(segment["date"], rng.randint(1, 3))
        return _refusal(
            env,
            rng,
            key,
            f"On {trip(reservation)}, you want to move your flight {segment['flight_number']} "
            f"from {city(segment['origin'])} to {city(segment['destination'])} on "
            f"{segment['date']} to {later}.",
            f"You want to stay in {CABIN_WORDS['basic_economy']}: you will not pay for another "
            "cabin.",
        )


class RefuseBaggageRemoval(AirlinePattern):
    """Remove checked bags from a reservation (A3 forbids)."""

    name = "refuse_baggage_removal"
    description = "the user wants checked bags removed and refunded: the agent refuses"
    write_tools = ()
    ending = "refuse"

    def candidates(self, env: Environment) -> list[str]:
        """Upcoming reservations with checked bags."""
        return reservation_ids(env, lambda r: upcoming(r) and r["total_baggages"] >= 1)

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """The user's and the reservation's details."""
        reservation = env.state.get("reservations", key)
        if reservation is None:
            return None
        total = reservation["total_baggages"]
        removed = rng.randint(1, total)
        return _refusal(
            env,
            rng,
            key,
            f"You packed lighter than planned: {trip(reservation)} has {total} checked "
            f"bag{'s' if total > 1 else ''}, and you want {removed} of them removed and the "
            "bag fees refunded.",
        )


class RefuseInsuranceAfterBooking(AirlinePattern):
    """Add travel insurance to an existing reservation (the policy forbids it)."""

    name = "refuse_insurance_after_booking"
    description = "the user wants travel insurance added to a booked trip: the agent refuses"
    write_tools = ()
    ending = "refuse"

    def candidates(self, env: Environment) -> list[str]:
        """Upcoming reservations without insurance."""
        return reservation_ids(env, lambda r: upcoming(r) and r["insurance"] == "no")

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """The user's and the reservation's details."""
        reservation = env.state.get("reservations", key)
        if reservation is None:
            return None
        return _refusal(
            env,
            rng,
            key,
            f"You want to add travel insurance to {trip(reservation)}, for every passenger; "
            "you are happy to pay for it.",
        )


class RefuseCompensation(AirlinePattern):
    """Compensation for a disrupted flight asked by a user the policy gives none (A6)."""

    name = "refuse_compensation"
    description = (
        "a regular member without insurance in (basic) economy asks compensation for a "
        "cancelled or delayed flight: the agent refuses"
    )
    write_tools = ()
    ending = "refuse"

    def candidates(self, env: Environment) -> list[str]:
        """Ineligible reservations with a flight the airline cancelled or delayed."""
        return reservation_ids(
            env,
            lambda r: not compensation_eligible(env, r) and self._disruption(env, r) is not None,
        )

    @staticmethod
    def _disruption(env: Environment, reservation: Record) -> tuple[Record, str] | None:
        """The first cancelled segment, else the first delayed one, with its status."""
        for status in ("cancelled", "delayed"):
            segment = disrupted_segment(env, reservation, status)
            if segment is not None:
                return segment, status
        return None

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """The user's and the reservation's details."""
        reservation = env.state.get("reservations", key)
        disruption = self._disruption(env, reservation) if reservation else None
        if reservation is None or disruption is None:
            return None
        segment, status = disruption
        return _refusal(
            env,
            rng,
            key,
            f"Your flight {segment['flight_number']} from {city(segment['origin'])} on "
            f"{segment['date']}, part of {trip(reservation)}, was {status} by the airline. "
            "You are upset and want compensation for the trouble; you do not want to change "
            "or cancel the reservation.",
        )
