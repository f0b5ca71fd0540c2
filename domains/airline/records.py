"""Pydantic models of the airline tables, used to validate loaded JSON record by record.

Validation is strict (no coercion) and money fields accept `int | float` so a loaded file
keeps its number types; the raw dicts, not these models, are the state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Final, Literal

from pydantic import BaseModel, Field, model_validator

from domains.data import PersonName, StrictRecord

Money = int | float
Cabin = Literal["basic_economy", "economy", "business"]
Membership = Literal["regular", "silver", "gold"]
FlightType = Literal["one_way", "round_trip"]
Insurance = Literal["yes", "no"]
FlightStatus = Literal["available", "on time", "delayed", "flying", "landed", "cancelled"]

CABINS: Final[tuple[Cabin, ...]] = ("basic_economy", "economy", "business")
CLOCK: Final = datetime(2024, 5, 15, 15, 0, 0)
CLOCK_TEXT: Final = "2024-05-15T15:00:00"
TODAY: Final = "2024-05-15"
FREE_BAGS: Final[dict[str, dict[str, int]]] = {
    "regular": {"basic_economy": 0, "economy": 1, "business": 2},
    "silver": {"basic_economy": 1, "economy": 2, "business": 3},
    "gold": {"basic_economy": 2, "economy": 3, "business": 3},
}


class Address(StrictRecord):
    """A postal address; tau-bench files say `province` where the spec says `state`."""

    address1: str
    address2: str
    city: str
    country: str
    state: str | None = None
    province: str | None = None
    zip: str

    @model_validator(mode="after")
    def _one_region(self) -> Address:
        """Exactly one of `state` and `province`."""
        if (self.state is None) == (self.province is None):
            raise ValueError("an address needs exactly one of 'state' and 'province'")
        return self


class Passenger(StrictRecord):
    """A traveller: on a reservation or saved in a profile."""

    first_name: str
    last_name: str
    dob: str


class CreditCard(StrictRecord):
    """A credit card payment method."""

    source: Literal["credit_card"]
    brand: str
    last_four: str
    id: str


class GiftCard(StrictRecord):
    """A gift card payment method with its remaining amount."""

    source: Literal["gift_card"]
    amount: Money
    id: str


class Certificate(StrictRecord):
    """A travel certificate: used once, whatever part of its amount is spent."""

    source: Literal["certificate"]
    amount: Money
    id: str


PaymentMethod = Annotated[CreditCard | GiftCard | Certificate, Field(discriminator="source")]


class UserRecord(StrictRecord):
    """A record of `users.json`."""

    name: PersonName
    address: Address
    email: str
    dob: str
    payment_methods: dict[str, PaymentMethod]
    saved_passengers: list[Passenger]
    membership: Membership
    reservations: list[str]

    @model_validator(mode="after")
    def _method_ids_name_their_source(self) -> UserRecord:
        """Policies tell methods apart by id prefix and tools by source: the two must agree."""
        for key, method in self.payment_methods.items():
            if method.id != key or not key.startswith(f"{method.source}_"):
                raise ValueError(
                    f"payment method {key!r} needs id {key!r} and a {method.source}_ prefix"
                )
        return self


class CabinCounts(StrictRecord):
    """A number per cabin: seats left or prices."""

    basic_economy: Money
    economy: Money
    business: Money


class FlightDate(StrictRecord):
    """A flight's record for one date; only `available` dates carry seats and prices."""

    status: FlightStatus
    available_seats: CabinCounts | None = None
    prices: CabinCounts | None = None
    estimated_departure_time_est: str | None = None
    estimated_arrival_time_est: str | None = None
    actual_departure_time_est: str | None = None
    actual_arrival_time_est: str | None = None

    @model_validator(mode="after")
    def _bookable_dates_have_seats_and_prices(self) -> FlightDate:
        """The booking tools read both on available dates."""
        if self.status == "available" and (self.available_seats is None or self.prices is None):
            raise ValueError("an available date needs available_seats and prices")
        return self


class FlightRecord(StrictRecord):
    """A record of `flights.json`: a daily flight and its per-date records."""

    flight_number: str
    origin: str
    destination: str
    scheduled_departure_time_est: str
    scheduled_arrival_time_est: str
    dates: dict[str, FlightDate]


class Segment(StrictRecord):
    """One flight of a reservation."""

    origin: str
    destination: str
    flight_number: str
    date: str
    price: Money


class Payment(StrictRecord):
    """A payment (positive) or refund (negative) of a reservation."""

    payment_id: str
    amount: Money


class ReservationRecord(StrictRecord):
    """A record of `reservations.json`; `status` appears when it is cancelled."""

    reservation_id: str
    user_id: str
    origin: str
    destination: str
    flight_type: FlightType
    cabin: Cabin
    flights: list[Segment]
    passengers: list[Passenger]
    payment_history: list[Payment]
    created_at: str
    total_baggages: int
    nonfree_baggages: int
    insurance: Insurance
    status: Literal["cancelled"] | None = None


SCHEMAS: dict[str, type[BaseModel]] = {
    "users": UserRecord,
    "flights": FlightRecord,
    "reservations": ReservationRecord,
}
