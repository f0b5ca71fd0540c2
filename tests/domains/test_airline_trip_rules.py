"""Airline policy rules A8 (the task's user), A10 (paid bags), A11 (itineraries) and A12
(cancelled reservations), all judged on the effective reservation of A9."""

from __future__ import annotations

import pytest
from airline_calls import (
    ANN_LOOKUP,
    BOB_LOOKUP,
    Call,
    bags,
    book,
    cancel,
    certificate,
    change,
    edited,
    messages,
    read,
    run,
    steps,
)
from airline_fixtures import ANN, ANN_CARD, ANN_GIFT, BOB, BOB_CARD, airline_env

from domains.airline import AirlineDomain
from domains.airline._trip_rules import (
    BagsPaidBeyondAllowance,
    ConnectedItinerary,
    NoWriteOnCancelled,
    itinerary_problems,
)
from domains.airline.rules import SubjectServed
from domains.environment import Environment


@pytest.fixture
def before() -> Environment:
    return airline_env()


# -- A8 ---------------------------------------------------------------------------------------


def test_a8_says_nothing_without_a_subject(before: Environment) -> None:
    assert steps(SubjectServed(), before, BOB_LOOKUP, read("AAA111"), cancel("AAA111")) == []


def test_a8_flags_a_task_that_names_one_user_and_serves_another(before: Environment) -> None:
    calls = (ANN_LOOKUP, read("AAA111"), cancel("AAA111"))
    assert messages(SubjectServed(), before, *calls, subject=BOB) == [
        "A8 (action 0): get_user_details returns 'ann_lee_1001', but the task is about "
        "'bob_ng_2002'",
        "A8 (action 2): cancel_reservation touches reservation AAA111 of 'ann_lee_1001', not of "
        "the task's user 'bob_ng_2002'",
    ]


def test_a8_passes_a_failed_lookup_first_and_a_later_lookup_of_someone_else(
    before: Environment,
) -> None:
    wrong = ("get_user_details", {"user_id": "ann_lee_9999"})
    calls = (wrong, ANN_LOOKUP, BOB_LOOKUP, read("AAA111"), cancel("AAA111"))
    assert steps(SubjectServed(), before, *calls, subject=ANN) == []


def test_a8_flags_a_payment_method_of_another_user(before: Environment) -> None:
    calls = (ANN_LOOKUP, bags("AAA111", 7, 1, BOB_CARD))
    assert messages(SubjectServed(), before, *calls, subject=ANN) == [
        "A8 (action 1): update_reservation_baggages pays with 'credit_card_2000001', not a "
        "payment method of 'ann_lee_1001'"
    ]


def test_a8_flags_a_booking_for_another_user(before: Environment) -> None:
    assert messages(SubjectServed(), before, ANN_LOOKUP, book(user_id=BOB), subject=ANN) == [
        "A8 (action 1): book_reservation is for user 'bob_ng_2002', not 'ann_lee_1001'"
    ]


def test_a8_counts_a_certificate_sent_to_the_user_earlier_as_theirs(before: Environment) -> None:
    # Economy, two passengers: 160 x 2 + 120 x 2 + insurance 60 + one paid bag 50 = 670.
    payments = [
        {"payment_id": "certificate_3221322", "amount": 100},
        {"payment_id": ANN_GIFT, "amount": 200},
        {"payment_id": ANN_CARD, "amount": 370},
    ]
    calls = (ANN_LOOKUP, certificate(ANN, 100), book(payment_methods=payments))
    assert [r.ok for r in run(before, *calls)] == [True, True, True]
    assert steps(SubjectServed(), before, *calls, subject=ANN) == []


def test_the_domain_passes_the_subject_to_its_rules(before: Environment) -> None:
    results = run(before, ANN_LOOKUP, cancel("AAA111"))
    assert [v.rule for v in AirlineDomain().check_policy(results, before, BOB)] == ["A8", "A8"]
    assert AirlineDomain().check_policy(results, before, ANN) == []


# -- A10 --------------------------------------------------------------------------------------


def test_a10_flags_bags_beyond_the_allowance_left_unpaid(before: Environment) -> None:
    assert messages(BagsPaidBeyondAllowance(), before, bags("AAA111", 7, 0, ANN_CARD)) == [
        "A10 (action 0): 7 bags with 0 paid on AAA111: a gold member in economy has 6 free for "
        "2 passenger(s), so at least 1 must be paid"
    ]


@pytest.mark.parametrize(("total", "nonfree"), [(6, 0), (7, 1), (7, 2)])
def test_a10_passes_bags_within_the_allowance_or_paid(
    before: Environment, total: int, nonfree: int
) -> None:
    assert steps(BagsPaidBeyondAllowance(), before, bags("AAA111", total, nonfree, ANN_CARD)) == []


def test_a10_uses_the_allowance_of_a_downgrade_made_earlier(before: Environment) -> None:
    downgrade = change("AAA111", "basic_economy", ["HAT001 2024-05-20"], ANN_CARD)
    calls = (ANN_LOOKUP, downgrade, bags("AAA111", 6, 0, ANN_CARD))
    assert messages(BagsPaidBeyondAllowance(), before, *calls) == [
        "A10 (action 2): 6 bags with 0 paid on AAA111: a gold member in basic_economy has 4 free "
        "for 2 passenger(s), so at least 2 must be paid"
    ]


def test_a10_uses_the_allowance_of_an_upgrade_made_earlier() -> None:
    # Silver: 2 free bags each in economy, 3 in business; two passengers.
    before = edited(lambda tables: tables["users"][ANN].update(membership="silver"))
    upgrade = change("AAA111", "business", ["HAT001 2024-05-20"], ANN_CARD)
    six_free = bags("AAA111", 6, 0, ANN_CARD)
    assert steps(BagsPaidBeyondAllowance(), before, ANN_LOOKUP, upgrade, six_free) == []
    assert steps(BagsPaidBeyondAllowance(), before, ANN_LOOKUP, six_free) == [1]


# -- A11 --------------------------------------------------------------------------------------


def _one_way(origin: str, destination: str, *legs: tuple[str, str]) -> Call:
    flights = [{"flight_number": number, "date": day} for number, day in legs]
    return book(origin=origin, destination=destination, flight_type="one_way", flights=flights)


def test_a11_passes_a_booking_with_an_overnight_connection(before: Environment) -> None:
    call = _one_way("JFK", "LAX", ("HAT006", "2024-05-20"), ("HAT007", "2024-05-21"))
    assert steps(ConnectedItinerary(), before, ANN_LOOKUP, call) == []


def test_a11_flags_a_booking_whose_legs_do_not_connect(before: Environment) -> None:
    call = _one_way("JFK", "LAX", ("HAT001", "2024-05-20"), ("HAT007", "2024-05-21"))
    assert messages(ConnectedItinerary(), before, ANN_LOOKUP, call) == [
        "A11 (action 1): book_reservation: HAT007 leaves DEN, but HAT001 lands in ORD"
    ]


def test_a11_flags_a_booking_whose_route_contradicts_its_flights(before: Environment) -> None:
    call = book(origin="ORD", destination="JFK")
    assert messages(ConnectedItinerary(), before, ANN_LOOKUP, call) == [
        "A11 (action 1): book_reservation: the trip starts in JFK (HAT001), not at its origin ORD",
        "A11 (action 1): book_reservation: the round trip never reaches its destination JFK",
        "A11 (action 1): book_reservation: the round trip ends in JFK (HAT002), not back at its "
        "origin ORD",
    ]


def test_a11_flags_a_round_trip_booked_as_one_way(before: Environment) -> None:
    assert messages(ConnectedItinerary(), before, ANN_LOOKUP, book(flight_type="one_way")) == [
        "A11 (action 1): book_reservation: the one way trip ends in JFK (HAT002), not at its "
        "destination ORD"
    ]


def test_a11_flags_a_flight_change_with_a_gap_between_legs(before: Environment) -> None:
    call = change("AAA111", "economy", ["HAT003 2024-05-20", "HAT001 2024-05-21"], ANN_CARD)
    assert messages(ConnectedItinerary(), before, ANN_LOOKUP, call) == [
        "A11 (action 1): update_reservation_flights: HAT001 leaves JFK, but HAT003 lands in LAX"
    ]


def test_a11_flags_a_flight_change_to_a_new_destination(before: Environment) -> None:
    call = change("AAA111", "economy", ["HAT003 2024-05-20"], ANN_CARD)
    assert messages(ConnectedItinerary(), before, ANN_LOOKUP, call) == [
        "A11 (action 1): update_reservation_flights: the one way trip ends in LAX (HAT003), not "
        "at its destination ORD"
    ]


def test_a11_flags_a_round_trip_changed_to_one_way(before: Environment) -> None:
    call = change("BBB222", "business", ["HAT001 2024-05-20"], ANN_CARD)
    assert steps(ConnectedItinerary(), before, ANN_LOOKUP, call) == [1, 1]


def test_a11_passes_a_new_return_date_on_the_same_route(before: Environment) -> None:
    call = change("BBB222", "business", ["HAT001 2024-05-20", "HAT002 2024-05-21"], ANN_CARD)
    assert steps(ConnectedItinerary(), before, ANN_LOOKUP, call) == []


def test_a11_flags_legs_out_of_date_order_and_no_legs_at_all() -> None:
    out = ("HAT001", "2024-05-21", "JFK", "ORD")
    back = ("HAT002", "2024-05-20", "ORD", "JFK")
    assert itinerary_problems([out, back], "JFK", "ORD", "round_trip") == [
        "HAT002 on 2024-05-20 flies before HAT001 on 2024-05-21"
    ]
    assert itinerary_problems([], "JFK", "ORD", "one_way") == ["no flights"]


# -- A12 --------------------------------------------------------------------------------------


def test_a12_flags_a_write_on_a_reservation_cancelled_earlier_in_the_sequence(
    before: Environment,
) -> None:
    calls = (ANN_LOOKUP, cancel("AAA111"), bags("AAA111", 3, 0, ANN_CARD))
    results = run(before, *calls)
    assert [r.ok for r in results] == [True, True, True]  # the tool does not check the status
    assert messages(NoWriteOnCancelled(), before, *calls) == [
        "A12 (action 2): update_reservation_baggages on reservation AAA111, already cancelled "
        "by action 1"
    ]


def test_a12_flags_a_write_on_a_reservation_cancelled_in_the_data() -> None:
    before = edited(lambda tables: tables["reservations"]["BBB222"].update(status="cancelled"))
    assert messages(NoWriteOnCancelled(), before, ANN_LOOKUP, cancel("BBB222")) == [
        "A12 (action 1): cancel_reservation on reservation BBB222, already cancelled in the data"
    ]


def test_a12_passes_writes_before_the_cancellation(before: Environment) -> None:
    calls = (ANN_LOOKUP, bags("AAA111", 3, 0, ANN_CARD), cancel("AAA111"))
    assert steps(NoWriteOnCancelled(), before, *calls) == []
