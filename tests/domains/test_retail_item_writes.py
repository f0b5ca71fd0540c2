"""Retail item writes: modify, return, exchange; exact records and errors in check order."""

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
    BOTTLE_500,
    BOTTLE_750,
    BOTTLE_1000,
    LAMP_BLACK,
    LAMP_WHITE,
    LAMP_WHITE_LARGE,
    NEW_ADDRESS,
    SHIRT_BLACK_M,
    SHIRT_RED_XL,
    SHIRT_WHITE_L,
    SHIRT_WHITE_M,
    assert_error,
    balance,
    call,
    order,
    payment,
    retail_env,
)

from domains.environment import Environment


@pytest.fixture
def env() -> Environment:
    return retail_env().fork()


# -- modify_pending_order_items ---------------------------------------------------------


def test_modify_items_stores_the_float_difference_unrounded(env: Environment) -> None:
    call(
        env,
        "modify_pending_order_items",
        order_id="#W0000001",
        item_ids=[BOTTLE_500, SHIRT_BLACK_M],
        new_item_ids=[BOTTLE_750, SHIRT_WHITE_M],
        payment_method_id=ANN_CARD,
    )
    modified = order(env, "#W0000001")
    # 0 + (20.4 - 20.0) + (10.3 - 10.1) in binary floating point; decimal would say 0.6
    assert modified["payment_history"][-1] == payment("payment", 0.5999999999999996, ANN_CARD)
    assert modified["status"] == "pending (item modified)"
    assert [item["item_id"] for item in modified["items"]] == [
        BOTTLE_750,
        SHIRT_WHITE_M,
        SHIRT_BLACK_M,
    ]
    assert modified["items"][0] == {
        "name": "Water Bottle",
        "product_id": "1111111111",
        "item_id": BOTTLE_750,
        "price": 20.4,
        "options": {"capacity": "750ml", "color": "blue"},
    }
    assert balance(env, ANN, ANN_GIFT) == 30.1


def test_modify_items_swaps_repeated_ids_line_by_line_and_charges_a_gift_card(
    env: Environment,
) -> None:
    call(
        env,
        "modify_pending_order_items",
        order_id="#W0000001",
        item_ids=[SHIRT_BLACK_M, SHIRT_BLACK_M],
        new_item_ids=[SHIRT_WHITE_M, SHIRT_WHITE_L],
        payment_method_id=ANN_GIFT,
    )
    modified = order(env, "#W0000001")
    assert [(i["item_id"], i["price"]) for i in modified["items"]] == [
        (BOTTLE_500, 20.0),
        (SHIRT_WHITE_M, 10.3),
        (SHIRT_WHITE_L, 12),
    ]
    assert modified["payment_history"][-1] == payment("payment", 2.1000000000000014, ANN_GIFT)
    assert balance(env, ANN, ANN_GIFT) == 28.0


def test_modify_items_refunds_a_cheaper_swap_to_a_gift_card(env: Environment) -> None:
    call(
        env,
        "modify_pending_order_items",
        order_id="#W0000003",
        item_ids=[LAMP_WHITE],
        new_item_ids=[LAMP_WHITE_LARGE],
        payment_method_id=ANN_GIFT,
    )
    assert order(env, "#W0000003")["payment_history"][-1] == payment("refund", 4.25, ANN_GIFT)
    assert balance(env, ANN, ANN_GIFT) == 34.35


def test_modify_items_records_a_zero_difference_as_a_refund_of_zero(env: Environment) -> None:
    call(
        env,
        "modify_pending_order_items",
        order_id="#W0000003",
        item_ids=[],
        new_item_ids=[],
        payment_method_id=ANN_CARD,
    )
    last = order(env, "#W0000003")["payment_history"][-1]
    assert last == payment("refund", 0, ANN_CARD)
    assert type(last["amount"]) is int
    assert order(env, "#W0000003")["status"] == "pending (item modified)"


def test_modify_items_checks_the_gift_card_against_the_unrounded_difference(
    env: Environment,
) -> None:
    # 10.3 - 10.1 is 0.20000000000000107: more than Bob's 0.2 gift card balance
    result = call(
        env,
        "modify_pending_order_items",
        order_id="#W0000004",
        item_ids=[SHIRT_BLACK_M],
        new_item_ids=[SHIRT_WHITE_M],
        payment_method_id=BOB_GIFT,
    )
    assert_error(env, result, "insufficient gift card balance to pay for the new item")


@pytest.mark.parametrize(
    ("order_id", "old", "new", "method", "message"),
    [
        ("#W0", [SHIRT_BLACK_M], [SHIRT_WHITE_M], ANN_CARD, "order not found"),
        ("#W0000002", ["1"], [], BOB_GIFT, "non-pending order cannot be modified"),
        ("#W0000001", [SHIRT_BLACK_M] * 3, [], BOB_GIFT, f"{SHIRT_BLACK_M} not found"),
        ("#W0000001", ["9999999999"], [], ANN_CARD, "9999999999 not found"),
        (
            "#W0000001",
            [BOTTLE_500],
            [],
            BOB_GIFT,
            "the number of items to be exchanged should match",
        ),
        (
            "#W0000001",
            [BOTTLE_500],
            [SHIRT_WHITE_M],
            BOB_GIFT,
            f"new item {SHIRT_WHITE_M} not found or available",
        ),
        (
            "#W0000001",
            [BOTTLE_500],
            [BOTTLE_1000],
            BOB_GIFT,
            f"new item {BOTTLE_1000} not found or available",
        ),
        ("#W0000001", [BOTTLE_500], [BOTTLE_750], BOB_GIFT, "payment method not found"),
        (
            "#W0000001",
            [SHIRT_BLACK_M],
            [SHIRT_RED_XL],
            ANN_GIFT,
            "insufficient gift card balance to pay for the new item",
        ),
    ],
)
def test_modify_items_errors_in_check_order(
    env: Environment, order_id: str, old: list[str], new: list[str], method: str, message: str
) -> None:
    result = call(
        env,
        "modify_pending_order_items",
        order_id=order_id,
        item_ids=old,
        new_item_ids=new,
        payment_method_id=method,
    )
    assert_error(env, result, message)


# -- return_delivered_order_items -------------------------------------------------------


def test_return_records_sorted_items_and_the_refund_method(env: Environment) -> None:
    result = call(
        env,
        "return_delivered_order_items",
        order_id="#W0000002",
        item_ids=[LAMP_BLACK, SHIRT_WHITE_M],
        payment_method_id=ANN_GIFT,
    )
    returned = order(env, "#W0000002")
    assert returned["status"] == "return requested"
    assert returned["return_items"] == [SHIRT_WHITE_M, LAMP_BLACK]
    assert returned["return_payment_method_id"] == ANN_GIFT
    assert len(returned["payment_history"]) == 1
    assert balance(env, ANN, ANN_GIFT) == 30.1
    assert json.loads(result.output) == returned


def test_return_to_the_original_method(env: Environment) -> None:
    result = call(
        env,
        "return_delivered_order_items",
        order_id="#W0000002",
        item_ids=[LAMP_BLACK],
        payment_method_id=ANN_CARD,
    )
    assert result.ok


@pytest.mark.parametrize(
    ("order_id", "items", "method", "message"),
    [
        ("#W", [LAMP_BLACK], ANN_CARD, "order not found"),
        ("#W0000001", ["x"], BOB_GIFT, "non-delivered order cannot be returned"),
        ("#W0000002", ["x"], BOB_GIFT, "payment method not found"),
        (
            "#W0000002",
            ["x"],
            ANN_PAYPAL,
            "payment method should be either the original payment method or a gift card",
        ),
        ("#W0000002", [LAMP_BLACK, LAMP_BLACK], ANN_CARD, f"{LAMP_BLACK} not found"),
    ],
)
def test_return_errors_in_check_order(
    env: Environment, order_id: str, items: list[str], method: str, message: str
) -> None:
    result = call(
        env,
        "return_delivered_order_items",
        order_id=order_id,
        item_ids=items,
        payment_method_id=method,
    )
    assert_error(env, result, message)


# -- exchange_delivered_order_items -----------------------------------------------------


def test_exchange_records_the_rounded_difference_and_sorted_lists(env: Environment) -> None:
    call(
        env,
        "exchange_delivered_order_items",
        order_id="#W0000002",
        item_ids=[LAMP_BLACK, SHIRT_WHITE_M],
        new_item_ids=[LAMP_WHITE, SHIRT_WHITE_L],
        payment_method_id=ANN_PAYPAL,
    )
    exchanged = order(env, "#W0000002")
    assert exchanged["status"] == "exchange requested"
    assert exchanged["exchange_items"] == [SHIRT_WHITE_M, LAMP_BLACK]
    assert exchanged["exchange_new_items"] == [SHIRT_WHITE_L, LAMP_WHITE]
    assert exchanged["exchange_payment_method_id"] == ANN_PAYPAL
    # 0 + (49.5 - 50.0) + (12 - 10.3) = 1.1999999999999993, rounded to 1.2
    assert exchanged["exchange_price_difference"] == 1.2
    assert [item["item_id"] for item in exchanged["items"]] == [LAMP_BLACK, SHIRT_WHITE_M]
    assert len(exchanged["payment_history"]) == 1


def test_exchange_checks_the_gift_card_against_the_rounded_difference(env: Environment) -> None:
    result = call(
        env,
        "exchange_delivered_order_items",
        order_id="#W0000005",
        item_ids=[SHIRT_BLACK_M],
        new_item_ids=[SHIRT_WHITE_M],
        payment_method_id=BOB_GIFT,
    )
    assert result.ok
    assert order(env, "#W0000005")["exchange_price_difference"] == 0.2
    assert balance(env, BOB, BOB_GIFT) == 0.2


@pytest.mark.parametrize(
    ("order_id", "old", "new", "method", "message"),
    [
        ("#W", [LAMP_BLACK], [LAMP_WHITE], ANN_CARD, "order not found"),
        ("#W0000001", ["1"], [], BOB_GIFT, "non-delivered order cannot be exchanged"),
        ("#W0000002", [LAMP_BLACK, LAMP_BLACK], [], BOB_GIFT, f"{LAMP_BLACK} not found"),
        (
            "#W0000002",
            [LAMP_BLACK],
            [],
            BOB_GIFT,
            "the number of items to be exchanged should match",
        ),
        (
            "#W0000002",
            [LAMP_BLACK],
            [SHIRT_WHITE_L],
            BOB_GIFT,
            f"new item {SHIRT_WHITE_L} not found or available",
        ),
        ("#W0000002", [LAMP_BLACK], [LAMP_WHITE], BOB_GIFT, "payment method not found"),
        (
            "#W0000005",
            [SHIRT_BLACK_M],
            [SHIRT_RED_XL],
            BOB_GIFT,
            "insufficient gift card balance to pay for the price difference",
        ),
    ],
)
def test_exchange_errors_in_check_order(
    env: Environment, order_id: str, old: list[str], new: list[str], method: str, message: str
) -> None:
    result = call(
        env,
        "exchange_delivered_order_items",
        order_id=order_id,
        item_ids=old,
        new_item_ids=new,
        payment_method_id=method,
    )
    assert_error(env, result, message)


def test_a_written_record_returned_to_the_caller_is_a_copy(env: Environment) -> None:
    result = call(env, "modify_user_address", user_id=ANN, **NEW_ADDRESS)
    result.value["address"]["city"] = "Elsewhere"
    assert env.state.get("users", ANN)["address"]["city"] == "Austin"  # type: ignore[index]
