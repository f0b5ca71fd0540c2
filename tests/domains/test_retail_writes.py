"""Retail order-level writes: cancel, address and payment changes; exact records and errors."""

from __future__ import annotations

import json

import pytest
from retail_fixtures import (
    ANN,
    ANN_CARD,
    ANN_GIFT,
    ANN_PAYPAL,
    BOB,
    BOB_GIFT,
    BOB_PAYPAL,
    NEW_ADDRESS,
    assert_error,
    balance,
    call,
    order,
    payment,
    retail_env,
)

from domains.environment import Environment, ToolResult


@pytest.fixture
def env() -> Environment:
    return retail_env().fork()


# -- cancel_pending_order ---------------------------------------------------------------


def test_cancel_refunds_a_gift_card_at_once_rounded_to_cents(env: Environment) -> None:
    result = call(env, "cancel_pending_order", order_id="#W0000001", reason="ordered by mistake")
    cancelled = order(env, "#W0000001")
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancel_reason"] == "ordered by mistake"
    assert cancelled["payment_history"] == [
        payment("payment", 40.2, ANN_GIFT),
        payment("refund", 40.2, ANN_GIFT),
    ]
    assert balance(env, ANN, ANN_GIFT) == 70.3  # 30.1 + 40.2 is 70.30000000000001 unrounded
    assert json.loads(result.output) == cancelled


def test_cancel_paid_by_card_changes_only_the_order(env: Environment) -> None:
    call(env, "cancel_pending_order", order_id="#W0000003", reason="no longer needed")
    assert [(change.table, change.key) for change in env.diff()] == [("orders", "#W0000003")]
    assert order(env, "#W0000003")["payment_history"][-1] == payment("refund", 49.5, ANN_CARD)


def test_cancel_of_an_unknown_order(env: Environment) -> None:
    result = call(env, "cancel_pending_order", order_id="#W9", reason="no longer needed")
    assert_error(env, result, "order not found")


def test_cancel_checks_the_status_before_the_reason(env: Environment) -> None:
    result = call(env, "cancel_pending_order", order_id="#W0000002", reason="too slow")
    assert_error(env, result, "non-pending order cannot be cancelled")


def test_cancel_accepts_only_the_two_reasons(env: Environment) -> None:
    result = call(env, "cancel_pending_order", order_id="#W0000003", reason="No longer needed")
    assert_error(env, result, "invalid reason")


# -- address changes --------------------------------------------------------------------


def test_order_address_is_replaced_in_the_tools_key_order(env: Environment) -> None:
    result = call(env, "modify_pending_order_address", order_id="#W0000003", **NEW_ADDRESS)
    address = order(env, "#W0000003")["address"]
    assert address == NEW_ADDRESS
    assert list(address) == ["address1", "address2", "city", "state", "country", "zip"]
    assert order(env, "#W0000003")["status"] == "pending"
    assert json.loads(result.output)["address"] == NEW_ADDRESS


def test_order_address_errors(env: Environment) -> None:
    missing = call(env, "modify_pending_order_address", order_id="#W1", **NEW_ADDRESS)
    assert_error(env, missing, "order not found")
    shipped = call(env, "modify_pending_order_address", order_id="#W0000006", **NEW_ADDRESS)
    assert_error(env, shipped, "non-pending order cannot be modified")


def test_user_address_is_replaced_in_the_tools_key_order(env: Environment) -> None:
    result = call(env, "modify_user_address", user_id=BOB, **NEW_ADDRESS)
    user = env.state.get("users", BOB)
    assert user is not None and list(user["address"].items()) == list(NEW_ADDRESS.items())
    assert json.loads(result.output) == user
    assert [(change.table, change.key) for change in env.diff()] == [("users", BOB)]


def test_user_address_of_an_unknown_user(env: Environment) -> None:
    assert_error(
        env, call(env, "modify_user_address", user_id="x", **NEW_ADDRESS), "user not found"
    )


# -- modify_pending_order_payment -------------------------------------------------------


def test_payment_moves_from_a_card_to_a_gift_card(env: Environment) -> None:
    call(env, "modify_pending_order_payment", order_id="#W0000003", payment_method_id=ANN_PAYPAL)
    assert order(env, "#W0000003")["payment_history"] == [
        payment("payment", 49.5, ANN_CARD),
        payment("payment", 49.5, ANN_PAYPAL),
        payment("refund", 49.5, ANN_CARD),
    ]
    assert order(env, "#W0000003")["status"] == "pending"


def test_payment_from_a_gift_card_refunds_it_rounded(env: Environment) -> None:
    call(env, "modify_pending_order_payment", order_id="#W0000001", payment_method_id=ANN_CARD)
    assert balance(env, ANN, ANN_GIFT) == 70.3
    assert order(env, "#W0000001")["payment_history"][1:] == [
        payment("payment", 40.2, ANN_CARD),
        payment("refund", 40.2, ANN_GIFT),
    ]


def test_payment_errors_in_check_order(env: Environment) -> None:
    def attempt(order_id: str, method_id: str) -> ToolResult:
        return call(
            env, "modify_pending_order_payment", order_id=order_id, payment_method_id=method_id
        )

    assert_error(env, attempt("#W7", ANN_CARD), "order not found")
    assert_error(env, attempt("#W0000002", BOB_GIFT), "non-pending order cannot be modified")
    assert_error(env, attempt("#W0000003", BOB_PAYPAL), "payment method not found")
    assert_error(
        env,
        attempt("#W0000003", ANN_CARD),
        "the new payment method should be different from the current one",
    )
    assert_error(
        env, attempt("#W0000003", ANN_GIFT), "insufficient gift card balance to pay for the order"
    )


def test_payment_can_change_only_while_there_is_exactly_one_payment(env: Environment) -> None:
    first = call(
        env, "modify_pending_order_payment", order_id="#W0000003", payment_method_id=ANN_PAYPAL
    )
    assert first.ok
    before = env.fingerprint()
    again = call(
        env, "modify_pending_order_payment", order_id="#W0000003", payment_method_id=ANN_CARD
    )
    assert again.output == "Error: there should be exactly one payment for a pending order"
    assert env.fingerprint() == before
