"""The airline domain object: registry, tools and schemas, policy, graph, subjects."""

from __future__ import annotations

from airline_fixtures import ANN, BOB, airline_env, record

from domains.airline import AirlineDomain
from domains.registry import resolve_domain

SPEC_TOOLS = {
    "get_user_details": ["user_id"],
    "get_reservation_details": ["reservation_id"],
    "list_all_airports": [],
    "search_direct_flight": ["origin", "destination", "date"],
    "search_onestop_flight": ["origin", "destination", "date"],
    "calculate": ["expression"],
    "think": ["thought"],
    "transfer_to_human_agents": ["summary"],
    "book_reservation": [
        "user_id",
        "origin",
        "destination",
        "flight_type",
        "cabin",
        "flights",
        "passengers",
        "payment_methods",
        "total_baggages",
        "nonfree_baggages",
        "insurance",
    ],
    "cancel_reservation": ["reservation_id"],
    "update_reservation_baggages": [
        "reservation_id",
        "total_baggages",
        "nonfree_baggages",
        "payment_id",
    ],
    "update_reservation_flights": ["reservation_id", "cabin", "flights", "payment_id"],
    "update_reservation_passengers": ["reservation_id", "passengers"],
    "send_certificate": ["user_id", "amount"],
}
WRITES = {
    "book_reservation",
    "cancel_reservation",
    "update_reservation_baggages",
    "update_reservation_flights",
    "update_reservation_passengers",
    "send_certificate",
}


def test_the_registry_builds_the_airline_domain() -> None:
    domain = resolve_domain("airline")
    assert isinstance(domain, AirlineDomain) and domain.name == "airline"


def test_the_tools_are_the_spec_tools_and_only_writes_write() -> None:
    domain = AirlineDomain()
    assert set(domain.tools) == set(SPEC_TOOLS)
    assert set(domain.write_tools()) == WRITES


def test_tool_schemas_list_the_spec_arguments_in_order() -> None:
    for schema in AirlineDomain().tool_schemas():
        function = schema["function"]
        assert list(function["parameters"]["properties"]) == SPEC_TOOLS[function["name"]]
        assert function["parameters"]["required"] == SPEC_TOOLS[function["name"]]
        assert function["description"]


def test_the_booking_schema_describes_nested_flights_passengers_and_payments() -> None:
    schema = AirlineDomain().tools["book_reservation"].schema()["function"]["parameters"]
    definitions = schema["$defs"]
    assert list(definitions["FlightChoice"]["properties"]) == ["flight_number", "date"]
    assert list(definitions["PassengerArgs"]["properties"]) == ["first_name", "last_name", "dob"]
    assert list(definitions["PaymentArgs"]["properties"]) == ["payment_id", "amount"]
    assert schema["properties"]["cabin"]["enum"] == ["basic_economy", "economy", "business"]


def test_the_policy_states_the_rules_agents_must_follow() -> None:
    policy = AirlineDomain().policy
    for phrase in ('explicit "yes"', "at most 5 passengers", "$50", "24 hours", "$100 per"):
        assert phrase in policy
    assert "| gold | 2 | 3 | 3 |" in policy


def test_the_rules_are_the_mechanical_ones_of_the_spec() -> None:
    # A7 is judged on conversations, A9 is how the others read a reservation.
    names = [rule.name for rule in AirlineDomain().rules]
    assert names == ["A1", "A2", "A3", "A4", "A5", "A6", "A8", "A10", "A11", "A12"]


def test_the_api_graph_has_the_spec_edges_and_every_tool_feeds_calculate() -> None:
    graph = AirlineDomain().api_graph
    assert set(graph.successors("get_reservation_details")) >= {
        "update_reservation_flights",
        "update_reservation_baggages",
        "update_reservation_passengers",
        "cancel_reservation",
        "send_certificate",
        "search_direct_flight",
    }
    assert set(graph.predecessors("book_reservation")) == {
        "get_user_details",
        "search_direct_flight",
        "search_onestop_flight",
    }
    assert set(graph.predecessors("calculate")) == set(SPEC_TOOLS) - {"calculate"}
    assert set(graph.nodes) == set(SPEC_TOOLS)


def test_subjects_are_the_user_ids() -> None:
    assert AirlineDomain().subjects(airline_env()) == [ANN, BOB, "cara_diaz_3003"]


def test_the_subject_context_holds_the_user_their_trips_and_those_flight_dates() -> None:
    env = airline_env()
    context = AirlineDomain().subject_context(env, BOB)
    records = context.records
    assert records["user"] == env.state.get("users", BOB)
    assert list(records["reservations"]) == ["CCC333", "DDD444"]
    assert records["flights"]["HAT001"]["dates"] == {
        "2024-05-20": record(env, "flights", "HAT001")["dates"]["2024-05-20"],
        "2024-05-14": {"status": "cancelled"},
    }
    assert records["flights"]["HAT002"]["scheduled_departure_time_est"] == "18:00:00"
    assert list(records["flights"]["HAT002"]["dates"]) == ["2024-05-14"]
    records["user"]["membership"] = "gold"
    assert record(env, "users", BOB)["membership"] == "regular"


def test_the_subject_context_of_an_unknown_user_is_empty() -> None:
    context = AirlineDomain().subject_context(airline_env(), "nobody")
    assert (context.subject_id, context.records) == ("nobody", {})
