"""Helpers the airline task patterns share: the draft, sampling subjects, phrasing.

Every pattern checks its own task before handing it out (`SampledPattern`): the actions
must run without error on a fork of the environment and break no policy rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from domains.airline.reads import AIRPORTS
from domains.airline.records import FREE_BAGS, TODAY, Money
from domains.airline.rules import FLOWN, segment_statuses
from domains.environment import Environment
from domains.state import Record
from domains.task_draft import SampledPattern, TaskDraft

CABIN_WORDS: Final = {
    "basic_economy": "basic economy",
    "economy": "economy",
    "business": "business",
}


class AirlinePattern(SampledPattern):
    """An airline task pattern: candidates are reservation or user ids."""


def start(env: Environment, user_id: str) -> TaskDraft | None:
    """A draft opening with the user's details lookup, the user introducing themself."""
    user = env.state.get("users", user_id)
    if user is None:
        return None
    name = user["name"]
    draft = TaskDraft(
        user_id, f"You are {name['first_name']} {name['last_name']} (user id {user_id})."
    )
    draft.call("get_user_details", user_id=user_id)
    return draft


def reservation_ids(env: Environment, keep: Callable[[Record], bool]) -> list[str]:
    """Ids of the active (not cancelled) reservations satisfying `keep`, in table order."""
    return [
        key
        for key, reservation in env.state.items("reservations")
        if reservation.get("status") != "cancelled" and keep(reservation)
    ]


def upcoming(reservation: Record) -> bool:
    """Every flight of the reservation is after the clock's date."""
    return all(segment["date"] > TODAY for segment in reservation["flights"])


def unflown(env: Environment, reservation: Record) -> bool:
    """No flight of the reservation has departed."""
    return not FLOWN & set(segment_statuses(env, reservation))


def free_bags(user: Record, cabin: str, passengers: int) -> int:
    """The free checked-bag allowance of a reservation."""
    return FREE_BAGS[user["membership"]][cabin] * passengers


def city(code: str) -> str:
    """`New York (JFK)`."""
    return f"{AIRPORTS.get(code, code)} ({code})"


def hour(time: str) -> str:
    """`08:30` from `08:30:00` (or `08:30:00+1`)."""
    return time[:5]


def describe_passenger(passenger: Record) -> str:
    """`Ann Lee (born 1990-01-01)`."""
    return f"{passenger['first_name']} {passenger['last_name']} (born {passenger['dob']})"


def describe_method(user: Record, method_id: str) -> str:
    """How a user names one of their payment methods."""
    method = user["payment_methods"][method_id]
    if method["source"] == "credit_card":
        return f"your {method['brand']} credit card ending in {method['last_four']}"
    return f"your {method['source'].replace('_', ' ')} {method_id}"


def change_methods(user: Record, price: Money) -> list[str]:
    """Methods that can pay a change of `price`: credit cards, and gift cards covering it."""
    return [
        key
        for key, method in user["payment_methods"].items()
        if method["source"] == "credit_card"
        or (method["source"] == "gift_card" and method["amount"] >= price)
    ]


def methods_of(user: Record, source: str) -> list[str]:
    """The user's payment method ids of one source."""
    return [key for key, method in user["payment_methods"].items() if method["source"] == source]


def flight_choices(reservation: Record) -> list[dict[str, str]]:
    """The reservation's flights as tool arguments."""
    return [
        {"flight_number": segment["flight_number"], "date": segment["date"]}
        for segment in reservation["flights"]
    ]


def bookable(
    env: Environment, flight_number: str, day: str, cabin: str, seats: int
) -> Record | None:
    """The flight's record for `day` when it is available with enough seats in the cabin."""
    flight = env.state.get("flights", flight_number)
    record = flight["dates"].get(day) if flight else None
    if record is None or record["status"] != "available":
        return None
    return record if record["available_seats"][cabin] >= seats else None


def opening(env: Environment, key: str) -> tuple[Record, Record, TaskDraft] | None:
    """The reservation, its owner, and a draft reading both."""
    reservation = env.state.get("reservations", key)
    user = env.state.get("users", reservation["user_id"]) if reservation else None
    draft = start(env, reservation["user_id"]) if reservation else None
    if reservation is None or user is None or draft is None:
        return None
    draft.call("get_reservation_details", reservation_id=key)
    return reservation, user, draft


def trip(reservation: Record) -> str:
    """`reservation X (a round trip from A to B)`: how a user refers to a booking."""
    kind = reservation["flight_type"].replace("_", " ")
    return (
        f"reservation {reservation['reservation_id']} (a {kind} from "
        f"{city(reservation['origin'])} to {city(reservation['destination'])})"
    )


def compensation_eligible(env: Environment, reservation: Record) -> bool:
    """Compensation goes to silver and gold members, insured or business reservations."""
    user = env.state.get("users", reservation["user_id"])
    return (
        (user is not None and user["membership"] in ("silver", "gold"))
        or reservation["insurance"] == "yes"
        or reservation["cabin"] == "business"
    )


def disrupted_segment(env: Environment, reservation: Record, status: str) -> Record | None:
    """The first segment of the reservation with this airline status."""
    statuses = segment_statuses(env, reservation)
    return next(
        (s for s, st in zip(reservation["flights"], statuses, strict=True) if st == status), None
    )
