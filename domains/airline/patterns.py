"""Airline task patterns: each samples a fitting user or reservation and builds an executable task.

Ground-truth actions follow the tau-bench shape: the user's details first, then the reads an
agent needs (reservation details, flight searches), then the writes. Patterns whose `ending`
is not `act` write nothing: the user asks what the policy forbids (refuse), asks for facts
(answer), or needs what no tool does (transfer).
"""

from __future__ import annotations

from typing import Final

from domains.airline._answers import (
    BaggageAllowance,
    CheapestDay,
    TotalPaid,
    TransferLostBaggage,
    TransferSpecialAssistance,
)
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
from domains.airline._refusals import (
    RefuseBaggageRemoval,
    RefuseBasicEconomyChange,
    RefuseCompensation,
    RefuseInsuranceAfterBooking,
    RefuseNonRefundableCancellation,
)
from domains.airline._tasks import AirlinePattern

__all__ = [
    "PATTERNS",
    "AddBaggage",
    "AirlinePattern",
    "BaggageAllowance",
    "BookDirectOneWay",
    "BookOneStopOneWay",
    "BookRoundTripSplitPayment",
    "CancelDelayedTrip",
    "CancelReservation",
    "ChangeCabin",
    "ChangeFlightDate",
    "ChangePassenger",
    "CheapestDay",
    "CompensateCancelledFlight",
    "RefuseBaggageRemoval",
    "RefuseBasicEconomyChange",
    "RefuseCompensation",
    "RefuseInsuranceAfterBooking",
    "RefuseNonRefundableCancellation",
    "TotalPaid",
    "TransferLostBaggage",
    "TransferSpecialAssistance",
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
    RefuseNonRefundableCancellation(),
    RefuseBasicEconomyChange(),
    RefuseBaggageRemoval(),
    RefuseInsuranceAfterBooking(),
    RefuseCompensation(),
    TransferLostBaggage(),
    TransferSpecialAssistance(),
    BaggageAllowance(),
    CheapestDay(),
    TotalPaid(),
)
