"""Tool calls on the airline fixture data, for the policy rule tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from airline_fixtures import (
    ANN,
    ANN_CARD,
    ANN_CERT,
    ANN_GIFT,
    ANN_ME,
    BEN,
    BOB,
    CARA,
    airline_tables,
)

from domains.airline import AirlineDomain
from domains.base import PolicyRule
from domains.environment import Environment, ToolResult
from domains.state import State, Tables

Call = tuple[str, dict[str, Any]]
ANN_LOOKUP: Call = ("get_user_details", {"user_id": ANN})
BOB_LOOKUP: Call = ("get_user_details", {"user_id": BOB})
CARA_LOOKUP: Call = ("get_user_details", {"user_id": CARA})


def run(before: Environment, *calls: Call) -> list[ToolResult]:
    env = before.fork()
    return [env.call(name, kwargs) for name, kwargs in calls]


def steps(
    rule: PolicyRule, before: Environment, *calls: Call, subject: str | None = None
) -> list[int | None]:
    """The action indexes the rule flags (judged for `subject`)."""
    return [violation.step for violation in rule.check(run(before, *calls), before, subject)]


def messages(
    rule: PolicyRule, before: Environment, *calls: Call, subject: str | None = None
) -> list[str]:
    """The rule's violations as text: `rule (action i): message`."""
    return [str(violation) for violation in rule.check(run(before, *calls), before, subject)]


def edited(edit: Callable[[Tables], None]) -> Environment:
    """The fixture environment after `edit` changed its tables."""
    tables = airline_tables()
    edit(tables)
    return Environment(AirlineDomain(), State.from_tables(tables))


def read(key: str) -> Call:
    return ("get_reservation_details", {"reservation_id": key})


def cancel(key: str) -> Call:
    return ("cancel_reservation", {"reservation_id": key})


def change(key: str, cabin: str, legs: list[str], payment_id: str) -> Call:
    flights = [dict(zip(("flight_number", "date"), leg.split(" "), strict=True)) for leg in legs]
    kwargs = {"reservation_id": key, "cabin": cabin, "flights": flights, "payment_id": payment_id}
    return ("update_reservation_flights", kwargs)


def bags(key: str, total: int, nonfree: int, payment_id: str) -> Call:
    kwargs = {
        "reservation_id": key,
        "total_baggages": total,
        "nonfree_baggages": nonfree,
        "payment_id": payment_id,
    }
    return ("update_reservation_baggages", kwargs)


def book(**changes: Any) -> Call:
    kwargs: dict[str, Any] = {
        "user_id": ANN,
        "origin": "JFK",
        "destination": "ORD",
        "flight_type": "round_trip",
        "cabin": "economy",
        "flights": [
            {"flight_number": "HAT001", "date": "2024-05-21"},
            {"flight_number": "HAT002", "date": "2024-05-25"},
        ],
        "passengers": [ANN_ME, BEN],
        "payment_methods": [
            {"payment_id": ANN_CERT, "amount": 250},
            {"payment_id": ANN_GIFT, "amount": 200},
            {"payment_id": ANN_CARD, "amount": 220},
        ],
        "total_baggages": 7,
        "nonfree_baggages": 1,
        "insurance": "yes",
    }
    return ("book_reservation", {**kwargs, **changes})


def certificate(user_id: str, amount: float) -> Call:
    return ("send_certificate", {"user_id": user_id, "amount": amount})
