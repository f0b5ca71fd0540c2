"""Lookups and checks the airline tools share: records, bookable flight dates, payment methods."""

from __future__ import annotations

from domains.airline.records import Money
from domains.state import Record, State, copy_json
from runtime.errors import ToolError


def user_record(state: State, user_id: str) -> Record:
    """The user, or `user not found`."""
    user = state.get("users", user_id)
    if user is None:
        raise ToolError("user not found")
    return user


def reservation_record(state: State, reservation_id: str) -> Record:
    """The reservation, or `reservation not found`."""
    reservation = state.get("reservations", reservation_id)
    if reservation is None:
        raise ToolError("reservation not found")
    return reservation


def copy_record(record: Record) -> Record:
    """A deep copy, so a returned record never aliases the state."""
    copied: Record = copy_json(record)
    return copied


def flight_fields(flight: Record) -> Record:
    """A flight's own fields, without its per-date records (copied)."""
    return {key: copy_json(value) for key, value in flight.items() if key != "dates"}


def priced_segment(
    state: State, flight_number: str, date: str, cabin: str, passengers: int
) -> Record:
    """A bookable segment: checks existence, date, availability and seats, in that order.

    The entry's keys come in the order the tools store them: flight_number, date, price,
    origin, destination.
    """
    flight = state.get("flights", flight_number)
    if flight is None:
        raise ToolError(f"flight {flight_number} not found")
    record = flight["dates"].get(date)
    if record is None:
        raise ToolError(f"flight {flight_number} not found on date {date}")
    if record["status"] != "available":
        raise ToolError(f"flight {flight_number} not available on date {date}")
    if record["available_seats"][cabin] < passengers:
        raise ToolError(f"not enough seats on flight {flight_number}")
    return {
        "flight_number": flight_number,
        "date": date,
        "price": record["prices"][cabin],
        "origin": flight["origin"],
        "destination": flight["destination"],
    }


def owned_method(user: Record, payment_id: str, message: str) -> Record:
    """The user's payment method `payment_id`, or `message`."""
    method: Record | None = user["payment_methods"].get(payment_id)
    if method is None:
        raise ToolError(message)
    return method


def change_payment_method(state: State, user_id: str, payment_id: str, price: Money) -> Record:
    """The method paying a change: owned, not a certificate, a gift card covering `price`."""
    method = owned_method(user_record(state, user_id), payment_id, "payment method not found")
    if method["source"] == "certificate":
        raise ToolError("certificate cannot be used to update reservation")
    if method["source"] == "gift_card" and method["amount"] < price:
        raise ToolError("gift card balance is not enough")
    return method


def charge_gift_card(state: State, user_id: str, payment_id: str, price: Money) -> None:
    """Take `price` (negative to refund) from a gift card's amount, unrounded as in tau-bench."""
    method = state.write("users", user_id)["payment_methods"][payment_id]
    if method["source"] == "gift_card":
        method["amount"] -= price
