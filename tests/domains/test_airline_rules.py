"""Airline policy rules A1-A6: each flags a violating trace and passes a compliant one
(A8 and A10-A12 are in test_airline_trip_rules)."""

from __future__ import annotations

from typing import Any

import pytest
from airline_calls import (
    ANN_LOOKUP,
    BOB_LOOKUP,
    CARA_LOOKUP,
    Call,
    bags,
    book,
    cancel,
    certificate,
    change,
    edited,
    read,
    run,
    steps,
)
from airline_fixtures import (
    ANN,
    ANN_CARD,
    ANN_CERT,
    ANN_GIFT,
    ANN_ME,
    BEN,
    BOB,
    BOB_CARD,
    CARA,
    CARA_CARD,
    airline_env,
)

from domains.airline import AirlineDomain
from domains.airline.rules import (
    BaggageNeverDecreases,
    BookingLimits,
    CancellationAllowed,
    CompensationAmount,
    FlightChangeLimits,
    ServedUserOnly,
)
from domains.environment import Environment


@pytest.fixture
def before() -> Environment:
    return airline_env()


# -- A1 ---------------------------------------------------------------------------------------


def test_a1_flags_a_write_before_the_user_lookup(before: Environment) -> None:
    assert steps(ServedUserOnly(), before, read("AAA111"), cancel("AAA111"), ANN_LOOKUP) == [1]


def test_a1_flags_a_write_on_another_user_s_reservation(before: Environment) -> None:
    assert steps(ServedUserOnly(), before, ANN_LOOKUP, cancel("CCC333")) == [1]


def test_a1_flags_a_certificate_for_another_user(before: Environment) -> None:
    assert steps(ServedUserOnly(), before, ANN_LOOKUP, certificate(BOB, 100)) == [1]


def test_a1_passes_writes_on_the_served_user_s_reservations_and_new_bookings(
    before: Environment,
) -> None:
    passengers = (
        "update_reservation_passengers",
        {"reservation_id": "HATHAT", "passengers": [BEN, ANN_ME]},
    )
    calls = (ANN_LOOKUP, read("AAA111"), cancel("AAA111"), book(), passengers)
    results = run(before, *calls)
    assert all(result.ok for result in results)
    assert ServedUserOnly().check(results, before) == []


# -- A2 (with the effective cabin of A9) ------------------------------------------------------


def test_a2_flags_new_flights_on_a_basic_economy_reservation(before: Environment) -> None:
    call = change("DDD444", "basic_economy", ["HAT001 2024-05-21"], BOB_CARD)
    assert steps(FlightChangeLimits(), before, BOB_LOOKUP, call) == [1]


def test_a2_allows_a_cabin_only_change_of_basic_economy(before: Environment) -> None:
    call = change("DDD444", "economy", ["HAT001 2024-05-14"], BOB_CARD)
    assert steps(FlightChangeLimits(), before, BOB_LOOKUP, call) == []


def test_a2_flags_a_flight_change_after_a_downgrade_to_basic_economy(before: Environment) -> None:
    # The tool never stores the cabin: AAA111 still says economy after the downgrade (A9).
    downgrade = change("AAA111", "basic_economy", ["HAT001 2024-05-20"], ANN_CARD)
    later = change("AAA111", "basic_economy", ["HAT001 2024-05-21"], ANN_CARD)
    results = run(before, ANN_LOOKUP, downgrade, later)
    assert [r.ok for r in results] == [True, True, True]
    assert results[2].value["cabin"] == "economy"
    violations = FlightChangeLimits().check(results, before)
    assert [v.step for v in violations] == [2]
    assert violations[0].message == (
        "the flights of basic economy reservation AAA111 cannot be changed "
        "(HAT001 2024-05-20 -> HAT001 2024-05-21)"
    )


def test_a2_allows_a_flight_change_after_an_upgrade_from_basic_economy() -> None:
    before = edited(lambda tables: tables["reservations"]["AAA111"].update(cabin="basic_economy"))
    upgrade = change("AAA111", "economy", ["HAT001 2024-05-20"], ANN_CARD)
    later = change("AAA111", "economy", ["HAT001 2024-05-21"], ANN_CARD)
    assert steps(FlightChangeLimits(), before, ANN_LOOKUP, upgrade, later) == []
    assert steps(FlightChangeLimits(), before, ANN_LOOKUP, later) == [1]


# -- A3 ---------------------------------------------------------------------------------------


def test_a3_flags_fewer_total_bags(before: Environment) -> None:
    assert steps(BaggageNeverDecreases(), before, bags("AAA111", 1, 0, ANN_CARD)) == [0]


def test_a3_flags_fewer_paid_bags_than_an_earlier_update_set(before: Environment) -> None:
    calls = (bags("AAA111", 4, 2, ANN_CARD), bags("AAA111", 4, 1, ANN_CARD))
    assert steps(BaggageNeverDecreases(), before, *calls) == [1]


def test_a3_passes_added_bags(before: Environment) -> None:
    calls = (bags("AAA111", 3, 0, ANN_CARD), bags("AAA111", 5, 1, ANN_CARD))
    assert steps(BaggageNeverDecreases(), before, *calls) == []


# -- A4 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"passengers": [ANN_ME, BEN] * 3, "total_baggages": 19},
        {"payment_methods": [{"payment_id": ANN_CARD, "amount": 1}] * 2},
        {"payment_methods": [{"payment_id": ANN_CERT, "amount": 1}] * 2},
        {"payment_methods": [{"payment_id": ANN_GIFT, "amount": 1}] * 4},
        {"nonfree_baggages": 0},
        {"total_baggages": 5, "nonfree_baggages": 1},
    ],
)
def test_a4_flags_bookings_over_the_limits(before: Environment, changes: dict[str, Any]) -> None:
    assert steps(BookingLimits(), before, ANN_LOOKUP, book(**changes)) == [1]


def test_a4_passes_a_booking_within_the_limits(before: Environment) -> None:
    # Gold in economy: 3 free bags each, 6 for two; 7 bags means exactly 1 paid bag.
    assert steps(BookingLimits(), before, ANN_LOOKUP, book()) == []


# -- A5 ---------------------------------------------------------------------------------------


def test_a5_flags_a_cancellation_without_an_allowed_reason(before: Environment) -> None:
    assert steps(CancellationAllowed(), before, CARA_LOOKUP, read("EEE555"), cancel("EEE555")) == [
        2
    ]


def test_a5_names_what_rules_the_cancellation_out(before: Environment) -> None:
    results = run(before, CARA_LOOKUP, read("EEE555"), cancel("EEE555"))
    assert [str(v) for v in CancellationAllowed().check(results, before)] == [
        "A5 (action 2): EEE555 was booked at 2024-05-02T12:00:00 (over 24 h ago), has no flight "
        "cancelled by the airline, is economy (not business) and has no insurance"
    ]


def test_a5_allows_cancelling_a_trip_upgraded_to_business_earlier_in_the_sequence() -> None:
    before = edited(lambda tables: tables["reservations"]["AAA111"].update(insurance="no"))
    upgrade = change("AAA111", "business", ["HAT001 2024-05-20"], ANN_CARD)
    assert steps(CancellationAllowed(), before, ANN_LOOKUP, upgrade, cancel("AAA111")) == []
    assert steps(CancellationAllowed(), before, ANN_LOOKUP, cancel("AAA111")) == [1]


def test_a5_flags_a_trip_partly_flown_for_two_reasons(before: Environment) -> None:
    assert steps(CancellationAllowed(), before, BOB_LOOKUP, cancel("CCC333")) == [1, 1]


@pytest.mark.parametrize(
    ("user", "key"),
    [(ANN, "AAA111"), (ANN, "BBB222"), (BOB, "DDD444")],
    ids=["insured", "recent-business", "airline-cancelled"],
)
def test_a5_passes_allowed_cancellations(before: Environment, user: str, key: str) -> None:
    lookup: Call = ("get_user_details", {"user_id": user})
    assert steps(CancellationAllowed(), before, lookup, cancel(key)) == []


# -- A6 ---------------------------------------------------------------------------------------


def test_a6_passes_fifty_per_passenger_after_changing_a_delayed_trip(
    before: Environment,
) -> None:
    calls = (
        CARA_LOOKUP,
        read("EEE555"),
        change("EEE555", "economy", ["HAT001 2024-05-21"], CARA_CARD),
        certificate(CARA, 100),
    )
    assert steps(CompensationAmount(), before, *calls) == []


def test_a6_flags_a_delay_certificate_before_any_change(before: Environment) -> None:
    assert steps(
        CompensationAmount(), before, CARA_LOOKUP, read("EEE555"), certificate(CARA, 100)
    ) == [2]


def test_a6_flags_a_wrong_amount(before: Environment) -> None:
    calls = (CARA_LOOKUP, read("EEE555"), cancel("EEE555"), certificate(CARA, 200))
    assert steps(CompensationAmount(), before, *calls) == [3]


def test_a6_flags_a_certificate_without_a_reservation_read(before: Environment) -> None:
    assert steps(CompensationAmount(), before, ANN_LOOKUP, certificate(ANN, 100)) == [1]


def test_a6_flags_compensation_for_a_regular_uninsured_economy_traveller(
    before: Environment,
) -> None:
    assert steps(
        CompensationAmount(), before, BOB_LOOKUP, read("DDD444"), certificate(BOB, 100)
    ) == [2]


def test_a6_passes_a_hundred_per_passenger_for_an_eligible_cancelled_flight() -> None:
    before = edited(lambda tables: tables["users"][BOB].update(membership="silver"))
    assert (
        steps(CompensationAmount(), before, BOB_LOOKUP, read("DDD444"), certificate(BOB, 100)) == []
    )


def test_the_domain_checks_every_rule_in_order(before: Environment) -> None:
    results = run(before, cancel("CCC333"))
    assert [v.rule for v in AirlineDomain().check_policy(results, before)] == ["A1", "A5", "A5"]
