"""Checks and lookups the retail write tools share: records, items, variants, payment methods."""

from __future__ import annotations

from collections.abc import Sequence

from domains.retail.records import Money
from domains.state import Record, State, copy_json
from runtime.errors import ToolError


def user_record(state: State, user_id: str) -> Record:
    """The user, or `user not found`."""
    user = state.get("users", user_id)
    if user is None:
        raise ToolError("user not found")
    return user


def order_record(state: State, order_id: str) -> Record:
    """The order, or `order not found`."""
    order = state.get("orders", order_id)
    if order is None:
        raise ToolError("order not found")
    return order


def product_record(state: State, product_id: str) -> Record:
    """The product, or `product not found`."""
    product = state.get("products", product_id)
    if product is None:
        raise ToolError("product not found")
    return product


def require_status(order: Record, status: str, message: str) -> None:
    """Refuse unless the order's status is exactly `status`."""
    if order["status"] != status:
        raise ToolError(message)


def check_item_counts(order: Record, item_ids: Sequence[str]) -> None:
    """Each id occurs in the order at least as often as in `item_ids` (ids may repeat)."""
    in_order = [item["item_id"] for item in order["items"]]
    for item_id in item_ids:
        if item_ids.count(item_id) > in_order.count(item_id):
            raise ToolError(f"{item_id} not found")


def first_item(order: Record, item_id: str) -> Record:
    """The first line of the order holding `item_id` (callers checked that one exists)."""
    return next(item for item in order["items"] if item["item_id"] == item_id)


def available_variant(state: State, product_id: str, item_id: str) -> Record:
    """The variant `item_id` of the product, when it exists and is available."""
    variant: Record | None = product_record(state, product_id)["variants"].get(item_id)
    if variant is None or not variant["available"]:
        raise ToolError(f"new item {item_id} not found or available")
    return variant


def price_difference(
    state: State, order: Record, item_ids: Sequence[str], new_item_ids: Sequence[str]
) -> Money:
    """Sum of new minus old prices, pair by pair from integer 0, after checking each swap.

    The accumulation order and start value are normative: replayed states must be bit-equal.
    """
    if len(item_ids) != len(new_item_ids):
        raise ToolError("the number of items to be exchanged should match")
    difference: Money = 0
    for item_id, new_item_id in zip(item_ids, new_item_ids, strict=True):
        item = first_item(order, item_id)
        variant = available_variant(state, item["product_id"], new_item_id)
        difference += variant["price"] - item["price"]
    return difference


def swap_items(
    state: State, order: Record, item_ids: Sequence[str], new_item_ids: Sequence[str]
) -> None:
    """Give, pair by pair, the first line still holding the old id the new variant's data."""
    for item_id, new_item_id in zip(item_ids, new_item_ids, strict=True):
        item = first_item(order, item_id)
        variant = available_variant(state, item["product_id"], new_item_id)
        item["item_id"] = new_item_id
        item["price"] = variant["price"]
        item["options"] = copy_json(variant["options"])


def copy_record(record: Record) -> Record:
    """A deep copy, so a returned record never aliases the state."""
    copied: Record = copy_json(record)
    return copied


def payment_method(state: State, user_id: str, payment_method_id: str) -> Record:
    """The user's payment method, or `payment method not found`."""
    method: Record | None = user_record(state, user_id)["payment_methods"].get(payment_method_id)
    if method is None:
        raise ToolError("payment method not found")
    return method


def is_gift_card(method: Record) -> bool:
    """Whether a payment method record is a gift card (by its source: balance checks)."""
    return bool(method["source"] == "gift_card")


def is_gift_card_id(payment_method_id: str) -> bool:
    """Whether a payment method id names a gift card (by its id: refunds, as in tau-bench)."""
    return "gift_card" in payment_method_id


def can_pay(method: Record, amount: Money) -> bool:
    """A gift card must cover `amount`; other methods always can."""
    return not is_gift_card(method) or method["balance"] >= amount


def require_gift_card_balance(method: Record, amount: Money, message: str) -> None:
    """Refuse with `message` when a gift card does not cover `amount`."""
    if not can_pay(method, amount):
        raise ToolError(message)


def refund_method_allowed(order: Record, payment_method_id: str) -> bool:
    """A return refunds to a gift card or to the method of the order's first payment."""
    history = order["payment_history"]
    original = history[0]["payment_method_id"] if history else None
    return is_gift_card_id(payment_method_id) or payment_method_id == original


def adjust_gift_card(state: State, user_id: str, payment_method_id: str, amount: Money) -> None:
    """Add `amount` (negative to charge) to a gift card's balance, rounded to cents."""
    method = state.write("users", user_id)["payment_methods"][payment_method_id]
    method["balance"] = round(method["balance"] + amount, 2)
