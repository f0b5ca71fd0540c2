"""Tool arguments are judged as the reference judges them.

Exact JSON types (never coerced), unknown keys inside nested objects ignored and not stored,
an integer zip kept as given, an unknown top-level argument refused, and a refused call
names the field and changes nothing. The format validator judges blueprints the same way.
"""

from __future__ import annotations

import math
from typing import Any

import airline_fixtures as air
import pytest
import retail_fixtures as shop

from agents.blueprints.validation import check_format
from domains.airline import AirlineDomain
from domains.environment import Environment
from domains.retail import RetailDomain

# -- helpers ------------------------------------------------------------------------------------


def _refused(env: Environment, name: str, arguments: dict[str, Any]) -> str:
    """The error output of a call that must be refused before it changes anything."""
    before = env.fingerprint()
    result = env.call(name, arguments)
    assert not result.ok
    assert env.fingerprint() == before
    assert env.diff() == []
    return result.output


def _same_state(
    name: str, plain: dict[str, Any], extended: dict[str, Any], base: Environment
) -> Any:
    """Run the call with and without extras on two forks: both succeed, states are equal."""
    without, with_extras = base.fork(), base.fork()
    first, second = without.call(name, plain), with_extras.call(name, extended)
    assert first.ok, first.output
    assert second.ok, second.output
    assert with_extras.fingerprint() == without.fingerprint()
    assert second.output == first.output
    return second.value


# -- airline: exact types -------------------------------------------------------------------

BAGS: dict[str, Any] = {
    "reservation_id": "AAA111",
    "total_baggages": 4,
    "nonfree_baggages": 2,
    "payment_id": air.ANN_GIFT,
}

# Economy round trip for 2: 160 + 120 per person, insurance 2 x 30, one paid bag: 670.
BOOKING: dict[str, Any] = {
    "user_id": air.ANN,
    "origin": "JFK",
    "destination": "ORD",
    "flight_type": "round_trip",
    "cabin": "economy",
    "flights": [
        {"flight_number": "HAT001", "date": "2024-05-21"},
        {"flight_number": "HAT002", "date": "2024-05-25"},
    ],
    "passengers": [air.ANN_ME, air.BEN],
    "payment_methods": [
        {"payment_id": air.ANN_GIFT, "amount": 200},
        {"payment_id": air.ANN_CARD, "amount": 470},
    ],
    "total_baggages": 7,
    "nonfree_baggages": 1,
    "insurance": "yes",
}

# BBB222 (business, one passenger) keeps HAT001 05-20 at 420 and moves HAT002 to 05-21 (350).
FLIGHT_CHANGE: dict[str, Any] = {
    "reservation_id": "BBB222",
    "cabin": "business",
    "flights": [
        {"flight_number": "HAT001", "date": "2024-05-20"},
        {"flight_number": "HAT002", "date": "2024-05-21"},
    ],
    "payment_id": air.ANN_GIFT,
}


@pytest.fixture
def airline() -> Environment:
    return air.airline_env().fork()


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("nonfree_baggages", "2", "Input should be a valid integer"),
        ("nonfree_baggages", 2.0, "Input should be a valid integer"),
        ("nonfree_baggages", True, "Input should be a valid integer"),
        ("total_baggages", "4", "Input should be a valid integer"),
        ("total_baggages", 4.0, "Input should be a valid integer"),
        ("total_baggages", False, "Input should be a valid integer"),
        ("total_baggages", None, "Input should be a valid integer"),
        ("payment_id", 1000002, "Input should be a valid string"),
        ("reservation_id", True, "Input should be a valid string"),
    ],
)
def test_a_baggage_update_refuses_loose_types_naming_the_field(
    airline: Environment, field: str, value: Any, problem: str
) -> None:
    output = _refused(airline, "update_reservation_baggages", {**BAGS, field: value})
    assert output == f"Error: invalid arguments for update_reservation_baggages: {field}: {problem}"


def test_the_issue_example_names_the_field_and_the_problem(airline: Environment) -> None:
    output = _refused(airline, "book_reservation", {**BOOKING, "nonfree_baggages": "2"})
    assert output == (
        "Error: invalid arguments for book_reservation: nonfree_baggages: "
        "Input should be a valid integer"
    )


@pytest.mark.parametrize(
    ("changes", "location", "problem"),
    [
        ({"total_baggages": 7.0}, "total_baggages", "Input should be a valid integer"),
        ({"total_baggages": True}, "total_baggages", "Input should be a valid integer"),
        ({"cabin": "Economy"}, "cabin", "Input should be 'basic_economy', 'economy' or"),
        ({"cabin": 1}, "cabin", "Input should be 'basic_economy', 'economy' or"),
        ({"insurance": True}, "insurance", "Input should be 'yes' or 'no'"),
        ({"insurance": "Yes"}, "insurance", "Input should be 'yes' or 'no'"),
        ({"flight_type": "one way"}, "flight_type", "Input should be 'one_way' or 'round_trip'"),
        ({"flights": {"flight_number": "HAT001"}}, "flights", "Input should be a valid list"),
        (
            {"flights": [{"flight_number": "HAT001", "date": 20240521}]},
            "flights.0.date",
            "Input should be a valid string",
        ),
        (
            {"passengers": [{**air.ANN_ME, "dob": 19850505}]},
            "passengers.0.dob",
            "Input should be a valid string",
        ),
        (
            {"payment_methods": [{"payment_id": air.ANN_CARD, "amount": "670"}]},
            "payment_methods.0.amount",
            "Input should be a valid number",
        ),
        (
            {"payment_methods": [{"payment_id": air.ANN_CARD, "amount": True}]},
            "payment_methods.0.amount",
            "Input should be a valid number",
        ),
        (
            {"payment_methods": [{"payment_id": air.ANN_CARD, "amount": math.inf}]},
            "payment_methods.0.amount",
            "Input should be a finite number",
        ),
    ],
)
def test_a_booking_refuses_loose_types_at_any_depth(
    airline: Environment, changes: dict[str, Any], location: str, problem: str
) -> None:
    output = _refused(airline, "book_reservation", {**BOOKING, **changes})
    assert output.startswith(
        f"Error: invalid arguments for book_reservation: {location}: {problem}"
    )


@pytest.mark.parametrize("amount", [670, 670.0])
def test_a_payment_amount_is_stored_exactly_as_given(airline: Environment, amount: Any) -> None:
    payments = [{"payment_id": air.ANN_CARD, "amount": amount}]
    result = airline.call("book_reservation", {**BOOKING, "payment_methods": payments})
    assert result.ok, result.output
    stored = air.record(airline, "reservations", "HATHAT")["payment_history"]
    assert stored == [{"payment_id": air.ANN_CARD, "amount": amount}]
    assert type(stored[0]["amount"]) is type(amount)


@pytest.mark.parametrize("amount", [100, 100.0, 0.0])
def test_a_certificate_amount_keeps_its_json_type(airline: Environment, amount: Any) -> None:
    result = airline.call("send_certificate", {"user_id": air.ANN, "amount": amount})
    assert result.ok, result.output
    methods = air.record(airline, "users", air.ANN)["payment_methods"]
    stored = methods["certificate_3221322"]["amount"]
    assert (stored, type(stored)) == (amount, type(amount))
    assert result.output.endswith(f"with amount {amount}.")


@pytest.mark.parametrize(
    ("amount", "problem"),
    [
        ("100", "Input should be a valid number"),
        (True, "Input should be a valid number"),
        (None, "Input should be a valid number"),
        (math.nan, "Input should be a finite number"),
    ],
)
def test_a_certificate_amount_must_be_a_finite_number(
    airline: Environment, amount: Any, problem: str
) -> None:
    output = _refused(airline, "send_certificate", {"user_id": air.ANN, "amount": amount})
    assert output == f"Error: invalid arguments for send_certificate: amount: {problem}"


# -- airline: nested extras are ignored, not stored ---------------------------------------------


def test_flight_segments_holding_origin_and_destination_are_accepted_and_not_stored() -> None:
    # The recorded conversation's shape: each segment repeats what the search returned.
    segments = [
        {**FLIGHT_CHANGE["flights"][0], "origin": "JFK", "destination": "ORD", "price": 400},
        {**FLIGHT_CHANGE["flights"][1], "origin": "ORD", "destination": "JFK"},
    ]
    value = _same_state(
        "update_reservation_flights",
        FLIGHT_CHANGE,
        {**FLIGHT_CHANGE, "flights": segments},
        air.airline_env(),
    )
    assert value["flights"][0]["price"] == 420  # the kept price, not the extra key's 400


def test_a_booking_with_extras_in_flights_passengers_and_payments_stores_none_of_them() -> None:
    extended = {
        **BOOKING,
        "flights": [{**flight, "origin": "JFK", "note": "window"} for flight in BOOKING["flights"]],
        "passengers": [{**person, "gender": "female"} for person in BOOKING["passengers"]],
        "payment_methods": [
            {**payment, "source": "gift_card"} for payment in BOOKING["payment_methods"]
        ],
    }
    value = _same_state("book_reservation", BOOKING, extended, air.airline_env())
    assert value["passengers"] == [air.ANN_ME, air.BEN]
    assert value["payment_history"] == BOOKING["payment_methods"]


def test_a_passenger_update_with_extras_stores_the_declared_fields_only() -> None:
    plain = {"reservation_id": "AAA111", "passengers": [air.ANN_ME, air.DAN]}
    extended = {
        "reservation_id": "AAA111",
        "passengers": [{**air.ANN_ME, "seat": "12A"}, {**air.DAN, "email": "dan@example.com"}],
    }
    value = _same_state("update_reservation_passengers", plain, extended, air.airline_env())
    assert value["passengers"] == [air.ANN_ME, air.DAN]


def test_nested_extras_do_not_relax_nested_types(airline: Environment) -> None:
    flights = [{"flight_number": "HAT001", "date": "2024-05-20", "origin": "JFK"}, {"date": 5}]
    output = _refused(airline, "update_reservation_flights", {**FLIGHT_CHANGE, "flights": flights})
    assert output == (
        "Error: invalid arguments for update_reservation_flights: "
        "flights.1.flight_number: Field required; flights.1.date: Input should be a valid string"
    )


@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        ("update_reservation_flights", {**FLIGHT_CHANGE, "origin": "JFK"}),
        ("update_reservation_baggages", {**BAGS, "price": 100}),
        ("book_reservation", {**BOOKING, "membership": "gold"}),
        ("get_user_details", {"user_id": air.ANN, "verbose": True}),
        ("calculate", {"expression": "1 + 1", "precision": 2}),
    ],
)
def test_an_unknown_top_level_argument_is_refused_by_name(
    airline: Environment, name: str, arguments: dict[str, Any]
) -> None:
    extra = next(
        key for key in arguments if key not in AirlineDomain().tools[name].args_model.model_fields
    )
    output = _refused(airline, name, arguments)
    assert output == f"Error: invalid arguments for {name}: {extra}: Extra inputs are not permitted"


# -- retail ---------------------------------------------------------------------------------


@pytest.fixture
def retail() -> Environment:
    return shop.retail_env().fork()


def test_an_integer_zip_is_stored_as_the_integer_in_a_user_address(retail: Environment) -> None:
    result = retail.call(
        "modify_user_address", {"user_id": shop.ANN, **shop.NEW_ADDRESS, "zip": 12345}
    )
    assert result.ok, result.output
    address = retail.state.get("users", shop.ANN)["address"]  # type: ignore[index]
    assert address == {**shop.NEW_ADDRESS, "zip": 12345}
    assert type(address["zip"]) is int


def test_an_integer_zip_is_stored_as_the_integer_in_an_order_address(retail: Environment) -> None:
    arguments = {"order_id": "#W0000001", **shop.NEW_ADDRESS, "zip": 78701}
    assert retail.call("modify_pending_order_address", arguments).ok
    assert shop.order(retail, "#W0000001")["address"]["zip"] == 78701


def test_an_integer_zip_finds_no_user_since_data_zips_are_strings(retail: Environment) -> None:
    lookup = {"first_name": "Ann", "last_name": "Lee"}
    found = retail.call("find_user_id_by_name_zip", {**lookup, "zip": "10001"})
    assert (found.ok, found.output) == (True, shop.ANN)
    missed = retail.call("find_user_id_by_name_zip", {**lookup, "zip": 10001})
    assert (missed.ok, missed.output) == (False, "Error: user not found")


@pytest.mark.parametrize(
    ("name", "arguments", "location", "problem"),
    [
        ("get_order_details", {"order_id": 1}, "order_id", "Input should be a valid string"),
        ("get_user_details", {"user_id": None}, "user_id", "Input should be a valid string"),
        (
            "find_user_id_by_name_zip",
            {"first_name": "Ann", "last_name": "Lee", "zip": 10001.0},
            "zip",
            "Input should be a valid string",
        ),
        (
            "find_user_id_by_name_zip",
            {"first_name": "Ann", "last_name": "Lee", "zip": True},
            "zip",
            "Input should be a valid string",
        ),
        (
            "cancel_pending_order",
            {"order_id": "#W0000001", "reason": True},
            "reason",
            "Input should be a valid string",
        ),
        (
            "return_delivered_order_items",
            {
                "order_id": "#W0000002",
                "item_ids": [shop.LAMP_BLACK, 4000000002],
                "payment_method_id": shop.ANN_CARD,
            },
            "item_ids.1",
            "Input should be a valid string",
        ),
        (
            "return_delivered_order_items",
            {
                "order_id": "#W0000002",
                "item_ids": shop.LAMP_BLACK,
                "payment_method_id": shop.ANN_CARD,
            },
            "item_ids",
            "Input should be a valid list",
        ),
        (
            "modify_pending_order_address",
            {"order_id": "#W0000001", **shop.NEW_ADDRESS, "address2": 0},
            "address2",
            "Input should be a valid string",
        ),
    ],
)
def test_retail_tools_refuse_loose_types_naming_the_field(
    retail: Environment, name: str, arguments: dict[str, Any], location: str, problem: str
) -> None:
    output = _refused(retail, name, arguments)
    assert output == f"Error: invalid arguments for {name}: {location}: {problem}"


def test_retail_arguments_nest_no_objects() -> None:
    # So "ignore unknown keys in nested objects" has nothing to apply to in retail.
    for tool in RetailDomain().tools.values():
        assert "$defs" not in tool.schema()["function"]["parameters"], tool.name


@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        ("modify_user_address", {"user_id": shop.ANN, **shop.NEW_ADDRESS, "zip_code": "1"}),
        ("cancel_pending_order", {"order_id": "#W0000001", "reason": "ordered by mistake", "x": 1}),
        ("think", {"thought": "x", "mood": "calm"}),
    ],
)
def test_retail_refuses_an_unknown_top_level_argument(
    retail: Environment, name: str, arguments: dict[str, Any]
) -> None:
    output = _refused(retail, name, arguments)
    assert output.endswith("Extra inputs are not permitted")


@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        ("calculate", {"expression": 2}),
        ("think", {"thought": ["a"]}),
        ("transfer_to_human_agents", {"summary": None}),
    ],
)
def test_common_tools_take_strings_only(
    retail: Environment, name: str, arguments: dict[str, Any]
) -> None:
    (field,) = arguments
    output = _refused(retail, name, arguments)
    assert output == f"Error: invalid arguments for {name}: {field}: Input should be a valid string"


# -- the format validator -------------------------------------------------------------------


def _proposal(name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    return {
        "user_id": air.ANN,
        "instruction": "You are Ann Lee and want to change your trip.",
        "actions": [
            {"name": "get_user_details", "kwargs": {"user_id": air.ANN}},
            {"name": name, "kwargs": kwargs},
        ],
        "outputs": [],
    }


@pytest.mark.parametrize(
    ("changes", "detail"),
    [
        ({"nonfree_baggages": "2"}, "nonfree_baggages: Input should be a valid integer"),
        ({"total_baggages": 3.0}, "total_baggages: Input should be a valid integer"),
        ({"total_baggages": True}, "total_baggages: Input should be a valid integer"),
    ],
)
def test_the_format_check_rejects_a_blueprint_with_loose_argument_types(
    changes: dict[str, Any], detail: str
) -> None:
    result, blueprint = check_format(
        AirlineDomain(), _proposal("update_reservation_baggages", {**BAGS, **changes})
    )
    assert blueprint is None
    assert result.reasons == [f"bad_arguments: action 1 (update_reservation_baggages): {detail}"]


def test_the_format_check_accepts_extras_in_nested_flights_and_keeps_the_call_as_given() -> None:
    flights = [
        {**flight, "origin": "JFK", "destination": "ORD"} for flight in FLIGHT_CHANGE["flights"]
    ]
    kwargs = {**FLIGHT_CHANGE, "flights": flights}
    result, blueprint = check_format(
        AirlineDomain(), _proposal("update_reservation_flights", kwargs)
    )
    assert result.passed, result.reasons
    assert blueprint is not None
    assert blueprint.actions[1].kwargs == kwargs


def test_the_format_check_keeps_a_float_amount_a_float() -> None:
    payments = [{"payment_id": air.ANN_CARD, "amount": 670.0}]
    result, blueprint = check_format(
        AirlineDomain(), _proposal("book_reservation", {**BOOKING, "payment_methods": payments})
    )
    assert result.passed and blueprint is not None
    amount = blueprint.actions[1].kwargs["payment_methods"][0]["amount"]
    assert (amount, type(amount)) == (670.0, float)


# -- the schemas models see -----------------------------------------------------------------


def _walk(node: Any) -> list[dict[str, Any]]:
    """Every JSON object inside a schema, itself included."""
    if isinstance(node, list):
        return [found for item in node for found in _walk(item)]
    if not isinstance(node, dict):
        return []
    return [node, *(found for value in node.values() for found in _walk(value))]


@pytest.mark.parametrize("domain", [AirlineDomain(), RetailDomain()], ids=["airline", "retail"])
def test_tool_schemas_carry_no_titles(domain: Any) -> None:
    for schema in domain.tool_schemas():
        parameters = schema["function"]["parameters"]
        assert all("title" not in node for node in _walk(parameters)), schema  # no arg is a title
        assert parameters["additionalProperties"] is False


def test_nested_objects_still_list_their_properties_and_ask_for_no_extras() -> None:
    parameters = AirlineDomain().tools["book_reservation"].schema()["function"]["parameters"]
    definitions = parameters["$defs"]
    assert set(definitions) == {"FlightChoice", "PassengerArgs", "PaymentArgs"}
    assert definitions["FlightChoice"]["properties"]["flight_number"]["type"] == "string"
    assert definitions["FlightChoice"]["required"] == ["flight_number", "date"]
    assert definitions["PassengerArgs"]["required"] == ["first_name", "last_name", "dob"]
    assert definitions["PaymentArgs"]["properties"]["amount"] == {
        "type": "number",
        "description": "The amount to be paid with this method.",
    }
    assert all(definition["additionalProperties"] is False for definition in definitions.values())


def test_integer_fields_are_integers_and_a_zip_is_a_string_in_the_schema() -> None:
    bags = AirlineDomain().tools["update_reservation_baggages"].schema()["function"]["parameters"]
    assert bags["properties"]["nonfree_baggages"]["type"] == "integer"
    lookup = RetailDomain().tools["find_user_id_by_name_zip"].schema()["function"]["parameters"]
    assert lookup["properties"]["zip"] == {
        "type": "string",
        "description": "The zip code of the user, such as '12345'.",
    }
