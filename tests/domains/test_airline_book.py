"""book_reservation: the stored reservation, payments, new ids, and each check in order."""

from __future__ import annotations

from typing import Any

import pytest
from airline_fixtures import (
    ANN,
    ANN_CARD,
    ANN_CERT,
    ANN_GIFT,
    ANN_ME,
    BEN,
    BOB_CARD,
    airline_env,
    assert_error,
    record,
)

from domains.environment import Environment

# Economy round trip for 2: 160 + 120 per person, insurance 2 x 30, one paid bag: 670.
ROUND_TRIP: dict[str, Any] = {
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


@pytest.fixture
def env() -> Environment:
    return airline_env().fork()


def book(env: Environment, **changes: Any) -> Any:
    return env.call("book_reservation", {**ROUND_TRIP, **changes})


def test_booking_stores_the_reservation_exactly(env: Environment) -> None:
    result = book(env)
    expected = {
        "reservation_id": "HATHAT",
        "user_id": ANN,
        "origin": "JFK",
        "destination": "ORD",
        "flight_type": "round_trip",
        "cabin": "economy",
        "flights": [
            {
                "flight_number": "HAT001",
                "date": "2024-05-21",
                "price": 160,
                "origin": "JFK",
                "destination": "ORD",
            },
            {
                "flight_number": "HAT002",
                "date": "2024-05-25",
                "price": 120,
                "origin": "ORD",
                "destination": "JFK",
            },
        ],
        "passengers": [ANN_ME, BEN],
        "payment_history": ROUND_TRIP["payment_methods"],
        "created_at": "2024-05-15T15:00:00",
        "total_baggages": 7,
        "nonfree_baggages": 1,
        "insurance": "yes",
    }
    assert result.ok and result.value == expected
    assert record(env, "reservations", "HATHAT") == expected
    assert list(expected["flights"][0]) == list(record(env, "reservations", "HATHAT")["flights"][0])


def test_booking_charges_the_gift_card_deletes_the_certificate_and_lists_the_id(
    env: Environment,
) -> None:
    book(env)
    user = record(env, "users", ANN)
    assert user["payment_methods"][ANN_GIFT]["amount"] == 0
    assert ANN_CERT not in user["payment_methods"]
    assert ANN_CARD in user["payment_methods"]
    assert user["reservations"] == ["AAA111", "BBB222", "HATHAT"]


def test_booking_does_not_decrement_seats(env: Environment) -> None:
    book(env)
    seats = record(env, "flights", "HAT001")["dates"]["2024-05-21"]["available_seats"]
    assert seats["economy"] == 9


def test_later_bookings_get_hathau_then_hathav(env: Environment) -> None:
    one_way: dict[str, Any] = {
        "flight_type": "one_way",
        "flights": [{"flight_number": "HAT003", "date": "2024-05-20"}],
        "passengers": [ANN_ME],
        "payment_methods": [{"payment_id": ANN_CARD, "amount": 200}],
        "total_baggages": 0,
        "nonfree_baggages": 0,
        "insurance": "no",
    }
    ids = [book(env, **one_way).value["reservation_id"] for _ in range(3)]
    assert ids == ["HATHAT", "HATHAU", "HATHAV"]


def test_a_float_payment_keeps_its_type(env: Environment) -> None:
    payments = [{"payment_id": ANN_GIFT, "amount": 200.0}, {"payment_id": ANN_CARD, "amount": 470}]
    result = book(env, payment_methods=payments)
    assert result.value["payment_history"][0]["amount"] == 200.0
    assert isinstance(result.value["payment_history"][0]["amount"], float)
    assert isinstance(record(env, "users", ANN)["payment_methods"][ANN_GIFT]["amount"], float)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"user_id": "nobody", "flights": [{"flight_number": "X", "date": "Y"}]}, "user not found"),
        (
            {
                "flights": [{"flight_number": "HAT999", "date": "2024-05-20"}],
                "payment_methods": [{"payment_id": BOB_CARD, "amount": 1}],
            },
            "flight HAT999 not found",
        ),
        (
            {"flights": [{"flight_number": "HAT001", "date": "2024-05-30"}]},
            "flight HAT001 not found on date 2024-05-30",
        ),
        (
            {"flights": [{"flight_number": "HAT001", "date": "2024-05-22"}]},
            "flight HAT001 not available on date 2024-05-22",
        ),
        (
            {
                "flights": [
                    {"flight_number": "HAT001", "date": "2024-05-20"},
                    {"flight_number": "HAT002", "date": "2024-05-21"},
                ],
                "passengers": [ANN_ME, BEN],
            },
            "not enough seats on flight HAT002",
        ),
        (
            {"payment_methods": [{"payment_id": BOB_CARD, "amount": 670}]},
            f"payment method {BOB_CARD} not found",
        ),
        (
            {
                "payment_methods": [
                    {"payment_id": ANN_GIFT, "amount": 250},
                    {"payment_id": "credit_card_0", "amount": 420},
                ]
            },
            f"not enough balance in payment method {ANN_GIFT}",
        ),
        (
            {"payment_methods": [{"payment_id": ANN_CERT, "amount": 251}]},
            f"not enough balance in payment method {ANN_CERT}",
        ),
        (
            {"payment_methods": [{"payment_id": ANN_CARD, "amount": 600}]},
            "payment amount does not add up, total price is 670, but paid 600",
        ),
    ],
)
def test_each_booking_check_fails_in_the_spec_order(
    env: Environment, changes: dict[str, Any], message: str
) -> None:
    assert_error(env, book(env, **changes), message)


def test_four_passengers_exceed_the_three_economy_seats(env: Environment) -> None:
    result = book(
        env,
        flights=[{"flight_number": "HAT001", "date": "2024-05-20"}],
        passengers=[ANN_ME, BEN, ANN_ME, BEN],
    )
    assert_error(env, result, "not enough seats on flight HAT001")


def test_an_unknown_cabin_is_refused_by_the_arguments(env: Environment) -> None:
    result = book(env, cabin="first")
    assert not result.ok and result.output.startswith("Error: invalid arguments for book_")
    assert env.diff() == []
