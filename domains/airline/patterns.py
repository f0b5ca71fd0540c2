"""Airline task patterns: each samples a fitting user or reservation and builds an executable task.

Ground-truth actions follow the tau-bench shape: the user's details first, then the reads an
agent needs (reservation details, flight searches), then the writes.
"""

from __future__ import annotations

from typing import Final

from domains.airline._booking import BookDirectOneWay, BookOneStopOneWay, BookRoundTripSplitPayment
from domains.airline._changes import (
    AddBaggage,
    CancelDelayedTrip,
    CancelReservation,
    ChangeCabin,
    ChangeFlightDate,
    ChangePassenger,
    CompensateCancelledFlight,
)
from domains.airline._tasks import AirlinePattern

__all__ = [
    "PATTERNS",
    "AddBaggage",
    "AirlinePattern",
    "BookDirectOneWay",
    "BookOneStopOneWay",
    "BookRoundTripSplitPayment",
    "CancelDelayedTrip",
    "CancelReservation",
    "ChangeCabin",
    "ChangeFlightDate",
    "ChangePassenger",
    "CompensateCancelledFlight",
]

PATTERNS: Final[tuple[AirlinePattern, ...]] = (
    BookDirectOneWay(),
    BookOneStopOneWay(),
    BookRoundTripSplitPayment(),
    CancelReservation(),
    ChangeFlightDate(),
    ChangeCabin(),
    AddBaggage(),
    ChangePassenger(),
    CompensateCancelledFlight(),
    CancelDelayedTrip(),
)
