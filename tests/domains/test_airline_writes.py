"""Airline writes on reservations and profiles: cancel, bags, flights, passengers, certificates."""

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
    CARA,
    DAN,
    airline_env,
    airline_tables,
    assert_error,
    call,
    record,
)

from domains.environment import Environment

ORIGINAL = airline_tables()["reservations"]


@pytest.fixture
def env() -> Environment:
    return airline_env().fork()


def gift_amount(env: Environment) -> Any:
    return record(env, "users", ANN)["payment_methods"][ANN_GIFT]["amount"]


# -- cancel_reservation ----------------------------------------------------------------------


def test_cancel_appends_a_refund_per_payment_and_sets_the_status(env: Environment) -> None:
    result = call(env, "cancel_reservation", reservation_id="AAA111")
    reservation = record(env, "reservations", "AAA111")
    assert reservation["payment_history"] == [
        {"payment_id": ANN_CARD, "amount": 360},
        {"payment_id": ANN_CARD, "amount": -360},
    ]
    assert reservation["status"] == "cancelled"
    assert result.value == reservation
    assert [change.key for change in env.diff()] == ["AAA111"]


def test_cancel_of_an_unknown_reservation_is_an_error(env: Environment) -> None:
    assert_error(
        env, call(env, "cancel_reservation", reservation_id="ZZZ"), "reservation not found"
    )


# -- update_reservation_baggages -------------------------------------------------------------


def bags(env: Environment, total: int, nonfree: int, payment_id: str, key: str = "AAA111") -> Any:
    return call(
        env,
        "update_reservation_baggages",
        reservation_id=key,
        total_baggages=total,
        nonfree_baggages=nonfree,
        payment_id=payment_id,
    )


def test_paid_bags_cost_fifty_each_from_the_gift_card(env: Environment) -> None:
    bags(env, 4, 2, ANN_GIFT)
    reservation = record(env, "reservations", "AAA111")
    assert (reservation["total_baggages"], reservation["nonfree_baggages"]) == (4, 2)
    assert reservation["payment_history"][-1] == {"payment_id": ANN_GIFT, "amount": 100}
    assert gift_amount(env) == 100


def test_free_bags_change_the_counts_without_a_payment_entry(env: Environment) -> None:
    bags(env, 3, 0, ANN_CARD)
    reservation = record(env, "reservations", "AAA111")
    assert (reservation["total_baggages"], reservation["nonfree_baggages"]) == (3, 0)
    assert reservation["payment_history"] == ORIGINAL["AAA111"]["payment_history"]


def test_fewer_paid_bags_cost_nothing(env: Environment) -> None:
    bags(env, 4, 2, ANN_CARD)
    bags(env, 1, 1, ANN_GIFT)
    reservation = record(env, "reservations", "AAA111")
    assert (reservation["total_baggages"], reservation["nonfree_baggages"]) == (1, 1)
    assert len(reservation["payment_history"]) == 2
    assert gift_amount(env) == 200


@pytest.mark.parametrize(
    ("key", "nonfree", "payment_id", "message"),
    [
        ("ZZZ999", 1, BOB_CARD, "reservation not found"),
        ("AAA111", 1, BOB_CARD, "payment method not found"),
        ("AAA111", 1, ANN_CERT, "certificate cannot be used to update reservation"),
        ("AAA111", 5, ANN_GIFT, "gift card balance is not enough"),
    ],
)
def test_each_baggage_check_fails_in_the_spec_order(
    env: Environment, key: str, nonfree: int, payment_id: str, message: str
) -> None:
    assert_error(env, bags(env, 6, nonfree, payment_id, key), message)


# -- update_reservation_flights --------------------------------------------------------------


def flights(env: Environment, key: str, cabin: str, legs: list[str], payment_id: str) -> Any:
    choices = [dict(zip(("flight_number", "date"), leg.split(" "), strict=True)) for leg in legs]
    return call(
        env,
        "update_reservation_flights",
        reservation_id=key,
        cabin=cabin,
        flights=choices,
        payment_id=payment_id,
    )


def test_an_unchanged_segment_keeps_its_old_price_and_a_cheaper_one_refunds(
    env: Environment,
) -> None:
    # BBB222 paid 420 + 380; HAT001 stays at 420 (the fare is 400 now), HAT002 on 05-21 is 350.
    result = flights(
        env, "BBB222", "business", ["HAT001 2024-05-20", "HAT002 2024-05-21"], ANN_GIFT
    )
    reservation = record(env, "reservations", "BBB222")
    assert reservation["flights"] == [
        {
            "flight_number": "HAT001",
            "date": "2024-05-20",
            "price": 420,
            "origin": "JFK",
            "destination": "ORD",
        },
        {
            "flight_number": "HAT002",
            "date": "2024-05-21",
            "price": 350,
            "origin": "ORD",
            "destination": "JFK",
        },
    ]
    assert reservation["payment_history"][-1] == {"payment_id": ANN_GIFT, "amount": -30}
    assert gift_amount(env) == 230
    assert result.value == reservation


def test_a_cabin_change_reprices_every_flight_but_keeps_the_cabin_field(
    env: Environment,
) -> None:
    flights(env, "AAA111", "business", ["HAT001 2024-05-20"], ANN_CARD)
    reservation = record(env, "reservations", "AAA111")
    assert reservation["flights"][0]["price"] == 400
    assert reservation["cabin"] == "economy"
    assert reservation["payment_history"][-1] == {"payment_id": ANN_CARD, "amount": 500}


def test_the_same_flights_in_the_same_cabin_add_no_payment(env: Environment) -> None:
    flights(env, "AAA111", "economy", ["HAT001 2024-05-20"], ANN_GIFT)
    reservation = record(env, "reservations", "AAA111")
    assert reservation["payment_history"] == ORIGINAL["AAA111"]["payment_history"]
    assert gift_amount(env) == 200
    assert list(reservation["flights"][0]) == [
        "flight_number",
        "date",
        "price",
        "origin",
        "destination",
    ]


@pytest.mark.parametrize(
    ("key", "cabin", "legs", "payment_id", "message"),
    [
        ("ZZZ999", "economy", ["HAT999 2024-05-20"], BOB_CARD, "reservation not found"),
        ("AAA111", "economy", ["HAT999 2024-05-20"], BOB_CARD, "flight HAT999 not found"),
        (
            "AAA111",
            "economy",
            ["HAT001 2024-05-30"],
            BOB_CARD,
            "flight HAT001 not found on date 2024-05-30",
        ),
        (
            "AAA111",
            "economy",
            ["HAT001 2024-05-22"],
            BOB_CARD,
            "flight HAT001 not available on date 2024-05-22",
        ),
        ("AAA111", "economy", ["HAT002 2024-05-21"], BOB_CARD, "not enough seats on flight HAT002"),
        ("AAA111", "business", ["HAT001 2024-05-20"], BOB_CARD, "payment method not found"),
        (
            "AAA111",
            "business",
            ["HAT001 2024-05-20"],
            ANN_CERT,
            "certificate cannot be used to update reservation",
        ),
        ("AAA111", "business", ["HAT001 2024-05-20"], ANN_GIFT, "gift card balance is not enough"),
    ],
)
def test_each_flight_update_check_fails_in_the_spec_order(
    env: Environment, key: str, cabin: str, legs: list[str], payment_id: str, message: str
) -> None:
    assert_error(env, flights(env, key, cabin, legs, payment_id), message)


# -- update_reservation_passengers -----------------------------------------------------------


def test_passengers_are_replaced_in_order(env: Environment) -> None:
    new = [DAN, ANN_ME]
    result = call(env, "update_reservation_passengers", reservation_id="AAA111", passengers=new)
    assert record(env, "reservations", "AAA111")["passengers"] == new
    assert result.value["passengers"] == new


def test_the_number_of_passengers_cannot_change(env: Environment) -> None:
    result = call(env, "update_reservation_passengers", reservation_id="AAA111", passengers=[BEN])
    assert_error(env, result, "number of passengers does not match")


def test_passengers_of_an_unknown_reservation_is_an_error(env: Environment) -> None:
    result = call(env, "update_reservation_passengers", reservation_id="ZZZ", passengers=[])
    assert_error(env, result, "reservation not found")


# -- send_certificate ------------------------------------------------------------------------


def test_a_certificate_is_added_with_the_first_free_id(env: Environment) -> None:
    result = call(env, "send_certificate", user_id=ANN, amount=100)
    assert result.output == f"Certificate certificate_3221322 added to user {ANN} with amount 100."
    assert record(env, "users", ANN)["payment_methods"]["certificate_3221322"] == {
        "source": "certificate",
        "amount": 100,
        "id": "certificate_3221322",
    }


def test_certificate_ids_already_held_are_skipped_until_none_is_left(env: Environment) -> None:
    first = call(env, "send_certificate", user_id=CARA, amount=50)
    assert first.output.startswith("Certificate certificate_3221324 added")
    before = env.fingerprint()
    second = call(env, "send_certificate", user_id=CARA, amount=50)
    assert second.output == (
        f"Error: user {CARA} already holds every certificate id; none was added"
    )
    assert env.fingerprint() == before


def test_a_certificate_for_an_unknown_user_is_an_error(env: Environment) -> None:
    assert_error(env, call(env, "send_certificate", user_id="x", amount=1), "user not found")
