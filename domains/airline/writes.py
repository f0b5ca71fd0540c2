"""The airline tools that change state: book, cancel, change flights, bags, passengers, certificate.

Each checks everything first, in the order of the spec (the first failing check decides the
error), then writes. Successful reservation writes return a copy of the reservation.
"""

from __future__ import annotations

from typing import Final

from pydantic import Field

from domains.airline._checks import (
    change_payment_method,
    charge_gift_card,
    copy_record,
    owned_method,
    priced_segment,
    reservation_record,
    user_record,
)
from domains.airline.reads import ReservationIdArgs, UserIdArgs
from domains.airline.records import CLOCK_TEXT, Cabin, FlightType, Insurance, Money
from domains.state import Record, State
from domains.tools import FiniteNumber, NestedArgs, tool
from runtime.errors import ToolError

NEW_RESERVATION_IDS: Final = ("HATHAT", "HATHAU", "HATHAV")
CERTIFICATE_IDS: Final = ("certificate_3221322", "certificate_3221323", "certificate_3221324")
INSURANCE_PRICE: Final = 30
BAG_PRICE: Final = 50
_PAYMENT_ID = (
    "The payment id stored in the user profile, such as 'credit_card_7815826', "
    "'gift_card_7815826' or 'certificate_7815826'."
)


class FlightChoice(NestedArgs):
    """One flight of a trip: its number and date."""

    flight_number: str = Field(description="Flight number, such as 'HAT001'.")
    date: str = Field(description="The date of the flight in the format 'YYYY-MM-DD'.")


class PassengerArgs(NestedArgs):
    """A passenger's name and date of birth."""

    first_name: str = Field(description="The first name of the passenger, such as 'Noah'.")
    last_name: str = Field(description="The last name of the passenger, such as 'Brown'.")
    dob: str = Field(description="The date of birth in the format 'YYYY-MM-DD'.")


class PaymentArgs(NestedArgs):
    """One payment: a method of the user's profile and the amount it pays."""

    payment_id: str = Field(description=_PAYMENT_ID)
    amount: FiniteNumber = Field(description="The amount to be paid with this method.")


class BookArgs(UserIdArgs):
    origin: str = Field(description="The IATA code of the origin city, such as 'SFO'.")
    destination: str = Field(description="The IATA code of the destination city, such as 'JFK'.")
    flight_type: FlightType
    cabin: Cabin
    flights: list[FlightChoice] = Field(description="Every flight of the trip, in order.")
    passengers: list[PassengerArgs] = Field(description="Every passenger of the reservation.")
    payment_methods: list[PaymentArgs] = Field(description="The payments, summing to the total.")
    total_baggages: int = Field(description="The total number of checked bags.")
    nonfree_baggages: int = Field(description="The number of checked bags that are paid for.")
    insurance: Insurance


class BaggageArgs(ReservationIdArgs):
    total_baggages: int = Field(description="The updated total number of checked bags.")
    nonfree_baggages: int = Field(description="The updated number of paid checked bags.")
    payment_id: str = Field(description=_PAYMENT_ID)


class FlightsArgs(ReservationIdArgs):
    cabin: Cabin
    flights: list[FlightChoice] = Field(
        description="Every flight of the ENTIRE new reservation, unchanged segments included."
    )
    payment_id: str = Field(description=_PAYMENT_ID)


class PassengersArgs(ReservationIdArgs):
    passengers: list[PassengerArgs] = Field(
        description="Every passenger of the reservation, in order."
    )


class CertificateArgs(UserIdArgs):
    amount: FiniteNumber = Field(description="The certificate amount to send.")


def _new_reservation_id(state: State) -> str:
    """HATHAT, or HATHAU when taken, or HATHAV: tau-bench assumes three bookings per task."""
    for reservation_id in NEW_RESERVATION_IDS[:-1]:
        if not state.has("reservations", reservation_id):
            return reservation_id
    return NEW_RESERVATION_IDS[-1]


@tool(writes=True)
def book_reservation(state: State, args: BookArgs) -> Record:
    """Book a reservation, paid with methods stored in the user's profile."""
    user = user_record(state, args.user_id)
    reservation_id = _new_reservation_id(state)
    count = len(args.passengers)
    segments = []
    total: Money = 0
    for choice in args.flights:
        segment = priced_segment(state, choice.flight_number, choice.date, args.cabin, count)
        segments.append(segment)
        total += segment["price"] * count
    if args.insurance == "yes":
        total += INSURANCE_PRICE * count
    total += BAG_PRICE * args.nonfree_baggages
    for payment in args.payment_methods:
        message = f"payment method {payment.payment_id} not found"
        method = owned_method(user, payment.payment_id, message)
        if method["source"] in ("gift_card", "certificate") and method["amount"] < payment.amount:
            raise ToolError(f"not enough balance in payment method {payment.payment_id}")
    paid = sum(payment.amount for payment in args.payment_methods)
    if paid != total:
        raise ToolError(f"payment amount does not add up, total price is {total}, but paid {paid}")
    methods = state.write("users", args.user_id)["payment_methods"]
    for payment in args.payment_methods:
        method = methods.get(payment.payment_id)
        if method is not None and method["source"] == "gift_card":
            method["amount"] -= payment.amount
        elif method is not None and method["source"] == "certificate":
            del methods[payment.payment_id]
    reservation = {
        "reservation_id": reservation_id,
        "user_id": args.user_id,
        "origin": args.origin,
        "destination": args.destination,
        "flight_type": args.flight_type,
        "cabin": args.cabin,
        "flights": segments,
        "passengers": [passenger.model_dump() for passenger in args.passengers],
        "payment_history": [payment.model_dump() for payment in args.payment_methods],
        "created_at": CLOCK_TEXT,
        "total_baggages": args.total_baggages,
        "nonfree_baggages": args.nonfree_baggages,
        "insurance": args.insurance,
    }
    state.insert("reservations", reservation_id, reservation)
    state.write("users", args.user_id)["reservations"].append(reservation_id)
    return copy_record(reservation)


@tool(writes=True)
def cancel_reservation(state: State, args: ReservationIdArgs) -> Record:
    """Cancel the whole reservation; every payment is refunded to its method."""
    reservation_record(state, args.reservation_id)
    reservation = state.write("reservations", args.reservation_id)
    refunds = [
        {"payment_id": payment["payment_id"], "amount": -payment["amount"]}
        for payment in reservation["payment_history"]
    ]
    reservation["payment_history"].extend(refunds)
    reservation["status"] = "cancelled"
    return copy_record(reservation)


@tool(writes=True)
def update_reservation_baggages(state: State, args: BaggageArgs) -> Record:
    """Update the baggage counts of a reservation; extra paid bags cost $50 each."""
    found = reservation_record(state, args.reservation_id)
    price = BAG_PRICE * max(0, args.nonfree_baggages - found["nonfree_baggages"])
    change_payment_method(state, found["user_id"], args.payment_id, price)
    reservation = state.write("reservations", args.reservation_id)
    reservation["total_baggages"] = args.total_baggages
    reservation["nonfree_baggages"] = args.nonfree_baggages
    charge_gift_card(state, found["user_id"], args.payment_id, price)
    if price != 0:
        reservation["payment_history"].append({"payment_id": args.payment_id, "amount": price})
    return copy_record(reservation)


@tool(writes=True)
def update_reservation_flights(state: State, args: FlightsArgs) -> Record:
    """Update the flights (and the cabin used for pricing) of a reservation.

    List every flight of the new reservation, unchanged segments included; the price
    difference is paid with, or refunded to, one payment method.
    """
    found = reservation_record(state, args.reservation_id)
    count = len(found["passengers"])
    segments = []
    total: Money = 0
    for choice in args.flights:
        kept = next(
            (
                old
                for old in found["flights"]
                if old["flight_number"] == choice.flight_number
                and old["date"] == choice.date
                and args.cabin == found["cabin"]
            ),
            None,
        )
        if kept is not None:
            segment = {
                "flight_number": choice.flight_number,
                "date": choice.date,
                "price": kept["price"],
                "origin": kept["origin"],
                "destination": kept["destination"],
            }
        else:
            segment = priced_segment(state, choice.flight_number, choice.date, args.cabin, count)
        segments.append(segment)
        total += segment["price"] * count
    total -= sum(old["price"] for old in found["flights"]) * count
    change_payment_method(state, found["user_id"], args.payment_id, total)
    charge_gift_card(state, found["user_id"], args.payment_id, total)
    reservation = state.write("reservations", args.reservation_id)
    reservation["flights"] = segments
    if total != 0:
        reservation["payment_history"].append({"payment_id": args.payment_id, "amount": total})
    return copy_record(reservation)


@tool(writes=True)
def update_reservation_passengers(state: State, args: PassengersArgs) -> Record:
    """Update the passengers of a reservation; their number cannot change."""
    found = reservation_record(state, args.reservation_id)
    if len(args.passengers) != len(found["passengers"]):
        raise ToolError("number of passengers does not match")
    reservation = state.write("reservations", args.reservation_id)
    reservation["passengers"] = [passenger.model_dump() for passenger in args.passengers]
    return copy_record(reservation)


@tool(writes=True)
def send_certificate(state: State, args: CertificateArgs) -> str:
    """Send a travel certificate of some amount to a user. Be careful!"""
    held = user_record(state, args.user_id)["payment_methods"]
    payment_id = next((key for key in CERTIFICATE_IDS if key not in held), None)
    if payment_id is None:
        raise ToolError(f"user {args.user_id} already holds every certificate id; none was added")
    methods = state.write("users", args.user_id)["payment_methods"]
    methods[payment_id] = {"source": "certificate", "amount": args.amount, "id": payment_id}
    return f"Certificate {payment_id} added to user {args.user_id} with amount {args.amount}."
