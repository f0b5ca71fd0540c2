"""Airline read tools: profiles, reservations, airports, direct and one-stop search, helpers."""

from __future__ import annotations

import json

import pytest
from airline_fixtures import ANN, airline_env, airline_tables, assert_error, call, record

from domains.environment import Environment


@pytest.fixture
def env() -> Environment:
    return airline_env().fork()


def _leg(number: str, day: str, record_day: str) -> dict[str, object]:
    """A one-stop search leg: flight fields, the record of `record_day`, then `date`."""
    flight = airline_tables()["flights"][number]
    fields = {key: value for key, value in flight.items() if key != "dates"}
    return {**fields, **flight["dates"][record_day], "date": day}


def test_get_user_details_returns_the_user_record(env: Environment) -> None:
    result = call(env, "get_user_details", user_id=ANN)
    assert result.ok and result.value == airline_tables()["users"][ANN]
    assert json.loads(result.output) == result.value


def test_get_user_details_of_an_unknown_user_is_an_error(env: Environment) -> None:
    assert_error(env, call(env, "get_user_details", user_id="nobody"), "user not found")


def test_get_reservation_details_returns_the_reservation(env: Environment) -> None:
    result = call(env, "get_reservation_details", reservation_id="BBB222")
    assert result.value == airline_tables()["reservations"]["BBB222"]


def test_get_reservation_details_of_an_unknown_id_is_an_error(env: Environment) -> None:
    result = call(env, "get_reservation_details", reservation_id="ZZZ999")
    assert_error(env, result, "reservation not found")


def test_returned_records_do_not_alias_the_state(env: Environment) -> None:
    call(env, "get_user_details", user_id=ANN).value["membership"] = "regular"
    assert record(env, "users", ANN)["membership"] == "gold"


def test_list_all_airports_maps_the_twenty_codes_to_cities(env: Environment) -> None:
    airports = call(env, "list_all_airports").value
    assert len(airports) == 20
    assert (airports["JFK"], airports["LGA"], airports["IAH"]) == (
        "New York",
        "LaGuardia",
        "Houston",
    )
    assert list(airports)[:3] == ["SFO", "JFK", "LAX"]


def test_direct_search_merges_flight_fields_with_the_date_record(env: Environment) -> None:
    result = call(env, "search_direct_flight", origin="JFK", destination="ORD", date="2024-05-20")
    assert result.value == [
        {
            "flight_number": "HAT001",
            "origin": "JFK",
            "destination": "ORD",
            "scheduled_departure_time_est": "08:00:00",
            "scheduled_arrival_time_est": "10:00:00",
            "status": "available",
            "available_seats": {"basic_economy": 5, "economy": 3, "business": 2},
            "prices": {"basic_economy": 80, "economy": 150, "business": 400},
        }
    ]


@pytest.mark.parametrize("day", ["2024-05-22", "2024-05-15", "2024-05-30"])
def test_direct_search_skips_dates_not_available_or_absent(env: Environment, day: str) -> None:
    result = call(env, "search_direct_flight", origin="JFK", destination="ORD", date=day)
    assert (result.ok, result.value) == (True, [])


def test_one_stop_search_pairs_connections_and_forms_the_next_day(env: Environment) -> None:
    result = call(env, "search_onestop_flight", origin="JFK", destination="LAX", date="2024-05-20")
    assert result.value == [
        [_leg("HAT001", "2024-05-20", "2024-05-20"), _leg("HAT004", "2024-05-20", "2024-05-20")],
        [_leg("HAT006", "2024-05-20", "2024-05-20"), _leg("HAT007", "2024-05-21", "2024-05-20")],
    ]


def test_one_stop_second_leg_shows_the_search_date_record(env: Environment) -> None:
    pairs = call(env, "search_onestop_flight", origin="JFK", destination="LAX", date="2024-05-20")
    second = pairs.value[1][1]
    assert (second["date"], second["prices"]["economy"]) == ("2024-05-21", 130)


def test_one_stop_skips_a_second_leg_leaving_before_the_first_lands(env: Environment) -> None:
    pairs = call(env, "search_onestop_flight", origin="JFK", destination="LAX", date="2024-05-20")
    assert "HAT005" not in {leg["flight_number"] for pair in pairs.value for leg in pair}


def test_one_stop_next_day_is_not_zero_padded(env: Environment) -> None:
    # HAT006 flies on 05-08 and HAT007 on 05-09, but the next day is formed as "2024-05-9".
    result = call(env, "search_onestop_flight", origin="JFK", destination="LAX", date="2024-05-08")
    assert (result.ok, result.value) == (True, [])


def test_one_stop_fails_when_the_second_flight_has_no_search_date_record(
    env: Environment,
) -> None:
    result = call(env, "search_onestop_flight", origin="JFK", destination="SFO", date="2024-05-20")
    assert_error(env, result, "flight HAT008 has no record on 2024-05-20")


def test_one_stop_with_a_non_numeric_day_after_a_late_arrival_is_an_error(
    env: Environment,
) -> None:
    result = call(env, "search_onestop_flight", origin="JFK", destination="LAX", date="May 2x")
    assert_error(env, result, "invalid date 'May 2x'")


@pytest.mark.parametrize(
    ("expression", "output"),
    [
        ("2 + 3 * 4", "14.0"),
        ("(1 + 2) / 3", "1.0"),
        ("10 / 3", "3.33"),
        ("-(2.5) + +1", "-1.5"),
        ("0.1 + 0.2", "0.3"),
        (" 7 ", "7.0"),
    ],
)
def test_calculate_evaluates_arithmetic_rounded_to_cents(
    env: Environment, expression: str, output: str
) -> None:
    assert call(env, "calculate", expression=expression).output == output


def test_think_returns_nothing_and_transfer_confirms(env: Environment) -> None:
    assert call(env, "think", thought="hmm").output == ""
    assert call(env, "transfer_to_human_agents", summary="help").output == "Transfer successful"
