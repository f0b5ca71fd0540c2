"""Retail read tools: identity lookups, details, catalogue, calculate, think and transfer."""

from __future__ import annotations

import json

import pytest
from retail_fixtures import ANN, ANN_TWO, BOB, LAMP, SHIRT, retail_env

from domains.environment import Environment


@pytest.fixture
def env() -> Environment:
    return retail_env().fork()


def test_email_lookup_ignores_case(env: Environment) -> None:
    assert env.call("find_user_id_by_email", {"email": "BOB.NG@example.COM"}).output == BOB


def test_email_lookup_reports_an_unknown_email(env: Environment) -> None:
    result = env.call("find_user_id_by_email", {"email": "nobody@example.com"})
    assert (result.ok, result.output) == (False, "Error: user not found")


def test_name_zip_lookup_needs_the_exact_zip(env: Environment) -> None:
    args = {"first_name": "ann", "last_name": "LEE", "zip": "94110"}
    assert env.call("find_user_id_by_name_zip", args).output == ANN_TWO
    args["zip"] = "10001"
    assert env.call("find_user_id_by_name_zip", args).output == ANN
    args["zip"] = "1000"
    assert env.call("find_user_id_by_name_zip", args).output == "Error: user not found"


def test_user_details_are_the_record_as_json(env: Environment) -> None:
    result = env.call("get_user_details", {"user_id": ANN})
    assert json.loads(result.output) == env.state.get("users", ANN)
    assert env.call("get_user_details", {"user_id": "ann"}).output == "Error: user not found"


def test_order_details_are_the_record_as_json(env: Environment) -> None:
    result = env.call("get_order_details", {"order_id": "#W0000002"})
    assert json.loads(result.output) == env.state.get("orders", "#W0000002")
    missing = env.call("get_order_details", {"order_id": "W0000002"})
    assert missing.output == "Error: order not found"


def test_product_details_take_a_product_id_not_an_item_id(env: Environment) -> None:
    result = env.call("get_product_details", {"product_id": LAMP})
    assert json.loads(result.output)["name"] == "Desk Lamp"
    item = env.call("get_product_details", {"product_id": "6000000001"})
    assert item.output == "Error: product not found"


def test_product_types_map_names_to_ids_sorted_by_name(env: Environment) -> None:
    result = env.call("list_all_product_types", {})
    assert result.output == json.dumps(
        {"Desk Lamp": LAMP, "T-Shirt": SHIRT, "Water Bottle": "1111111111"}
    )


def test_a_returned_record_is_a_copy_not_the_state(env: Environment) -> None:
    result = env.call("get_user_details", {"user_id": ANN})
    result.value["email"] = "changed"
    assert env.state.get("users", ANN)["email"] == "ann.lee@example.com"  # type: ignore[index]


@pytest.mark.parametrize(
    ("expression", "output"),
    [
        ("2 + 3 * 4", "14.0"),
        ("(2 + 3) * 4", "20.0"),
        ("10 - 4 - 3", "3.0"),
        ("12 / 4 / 3", "1.0"),
        ("-3 + 5", "2.0"),
        ("-(2 + 3) * -2", "10.0"),
        ("2 * -3", "-6.0"),
        ("1 / 3", "0.33"),
        ("2 / 3", "0.67"),
        ("0.1 + 0.2", "0.3"),
        (".5 + 1.", "1.5"),
        ("  7  ", "7.0"),
        ("-" * 1000 + "1", "1.0"),
    ],
)
def test_calculate_evaluates_arithmetic_rounded_to_cents(
    env: Environment, expression: str, output: str
) -> None:
    assert env.call("calculate", {"expression": expression}).output == output


@pytest.mark.parametrize(
    ("expression", "error"),
    [
        ("2 ^ 3", "Error: invalid characters in expression"),
        ("__import__('os')", "Error: invalid characters in expression"),
        ("1e5", "Error: invalid characters in expression"),
        ("1 / 0", "Error: division by zero"),
        ("1 / (2 - 2.0)", "Error: division by zero"),
        ("", "Error: invalid expression: unexpected end"),
        ("(1 + 2", "Error: invalid expression: unexpected end"),
        ("1 + 2)", "Error: invalid expression: unexpected ')'"),
        ("2 ** * 3", "Error: invalid expression: unexpected '*'"),
        ("1.2.3", "Error: invalid expression: unexpected '.3'"),
        ("(" * 101 + "1" + ")" * 101, "Error: invalid expression: too deeply nested"),
        ("1" + " + 1" * 5000, "Error: invalid expression: too long"),
        (".", "Error: invalid expression"),
    ],
)
def test_calculate_reports_invalid_expressions(
    env: Environment, expression: str, error: str
) -> None:
    assert env.call("calculate", {"expression": expression}).output == error


def test_calculate_reports_a_result_too_large_for_a_float(env: Environment) -> None:
    huge = "9" * 300
    result = env.call("calculate", {"expression": f"{huge} * {huge}"})
    assert result.output == "Error: result too large"


def test_think_returns_an_empty_string(env: Environment) -> None:
    result = env.call("think", {"thought": "the order is pending"})
    assert (result.ok, result.output) == (True, "")


def test_transfer_returns_a_fixed_message(env: Environment) -> None:
    assert env.call("transfer_to_human_agents", {"summary": "x"}).output == "Transfer successful"


def test_missing_or_unknown_arguments_are_refused_by_name(env: Environment) -> None:
    missing = env.call("get_user_details", {})
    assert missing.output.startswith("Error: invalid arguments for get_user_details: user_id")
    extra = env.call("think", {"thought": "x", "mood": "y"})
    assert "mood" in extra.output and not extra.ok
