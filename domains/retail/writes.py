"""The retail tools that change state: cancel, modify, return, exchange, address changes.

Each checks everything first, in the order of the spec (the first failing check decides the
error), then writes. Successful calls return a copy of the updated record.
"""

from __future__ import annotations

from pydantic import Field

from domains.retail._checks import (
    adjust_gift_card,
    check_item_counts,
    copy_record,
    is_gift_card,
    is_gift_card_id,
    order_record,
    payment_method,
    price_difference,
    refund_method_allowed,
    require_gift_card_balance,
    require_status,
    swap_items,
    user_record,
)
from domains.retail.reads import OrderIdArgs, UserIdArgs, Zip
from domains.retail.records import CANCEL_REASONS
from domains.state import Record, State
from domains.tools import ToolArgs, tool
from runtime.errors import ToolError

_ITEM_IDS = "Item ids such as '1008292230'; repeat an id to act on several identical items."
_PAYMENT = "A payment method id of the user, such as 'gift_card_0000000' or 'credit_card_0000000'."


class AddressFields(ToolArgs):
    """The six address fields, shared by the order and user address changes."""

    address1: str = Field(description="The first line of the address, such as '123 Main St'.")
    address2: str = Field(description="The second line of the address, such as 'Apt 1' or ''.")
    city: str = Field(description="The city, such as 'San Francisco'.")
    state: str = Field(description="The state, such as 'CA'.")
    country: str = Field(description="The country, such as 'USA'.")
    zip: Zip = Field(description="The zip code, such as '12345'.")

    def as_record(self) -> Record:
        """The address object in the tools' key order: address1, address2, city, state, ..."""
        return {
            "address1": self.address1,
            "address2": self.address2,
            "city": self.city,
            "state": self.state,
            "country": self.country,
            "zip": self.zip,
        }


class CancelArgs(OrderIdArgs):
    reason: str = Field(description="Either 'no longer needed' or 'ordered by mistake'.")


class OrderAddressArgs(AddressFields, OrderIdArgs):
    pass


class UserAddressArgs(AddressFields, UserIdArgs):
    pass


class PaymentArgs(OrderIdArgs):
    payment_method_id: str = Field(description=_PAYMENT)


class ReturnArgs(OrderIdArgs):
    item_ids: list[str] = Field(description=_ITEM_IDS)
    payment_method_id: str = Field(
        description="The original payment method or a gift card of the user, for the refund."
    )


class SwapArgs(OrderIdArgs):
    item_ids: list[str] = Field(description=_ITEM_IDS)
    new_item_ids: list[str] = Field(
        description="The new item ids, position by position: each a variant of the same "
        "product as the item it replaces."
    )
    payment_method_id: str = Field(description=_PAYMENT + " Pays or receives the difference.")


@tool(writes=True)
def cancel_pending_order(state: State, args: CancelArgs) -> Record:
    """Cancel a pending order and refund every payment; gift card refunds are immediate.

    Explain the details and get an explicit yes from the user first.
    """
    order = order_record(state, args.order_id)
    require_status(order, "pending", "non-pending order cannot be cancelled")
    if args.reason not in CANCEL_REASONS:
        raise ToolError("invalid reason")
    user_id, history = order["user_id"], order["payment_history"]
    for payment in history:
        if is_gift_card_id(payment["payment_method_id"]):
            payment_method(state, user_id, payment["payment_method_id"])
    refunds = []
    for payment in history:
        method_id, amount = payment["payment_method_id"], payment["amount"]
        refunds.append(
            {"transaction_type": "refund", "amount": amount, "payment_method_id": method_id}
        )
        if is_gift_card_id(method_id):
            adjust_gift_card(state, user_id, method_id, amount)
    updated = state.write("orders", args.order_id)
    updated["status"] = "cancelled"
    updated["cancel_reason"] = args.reason
    updated["payment_history"].extend(refunds)
    return copy_record(updated)


@tool(writes=True)
def modify_pending_order_address(state: State, args: OrderAddressArgs) -> Record:
    """Change the shipping address of a pending order.

    Explain the details and get an explicit yes from the user first.
    """
    order = order_record(state, args.order_id)
    require_status(order, "pending", "non-pending order cannot be modified")
    updated = state.write("orders", args.order_id)
    updated["address"] = args.as_record()
    return copy_record(updated)


@tool(writes=True)
def modify_user_address(state: State, args: UserAddressArgs) -> Record:
    """Change a user's default address.

    Explain the details and get an explicit yes from the user first.
    """
    user_record(state, args.user_id)
    updated = state.write("users", args.user_id)
    updated["address"] = args.as_record()
    return copy_record(updated)


@tool(writes=True)
def modify_pending_order_payment(state: State, args: PaymentArgs) -> Record:
    """Pay a pending order with another of the user's payment methods; the old one is refunded.

    Explain the details and get an explicit yes from the user first.
    """
    order = order_record(state, args.order_id)
    require_status(order, "pending", "non-pending order cannot be modified")
    user_id = order["user_id"]
    method = payment_method(state, user_id, args.payment_method_id)
    history = order["payment_history"]
    if len(history) != 1 or history[0]["transaction_type"] != "payment":
        raise ToolError("there should be exactly one payment for a pending order")
    old_method_id = history[0]["payment_method_id"]
    if old_method_id == args.payment_method_id:
        raise ToolError("the new payment method should be different from the current one")
    amount = history[0]["amount"]
    require_gift_card_balance(method, amount, "insufficient gift card balance to pay for the order")
    if is_gift_card_id(old_method_id):
        payment_method(state, user_id, old_method_id)
    updated = state.write("orders", args.order_id)
    updated["payment_history"].extend(
        [
            {
                "transaction_type": "payment",
                "amount": amount,
                "payment_method_id": args.payment_method_id,
            },
            {"transaction_type": "refund", "amount": amount, "payment_method_id": old_method_id},
        ]
    )
    if is_gift_card(method):
        adjust_gift_card(state, user_id, args.payment_method_id, -amount)
    if is_gift_card_id(old_method_id):
        adjust_gift_card(state, user_id, old_method_id, amount)
    return copy_record(updated)


@tool(writes=True)
def modify_pending_order_items(state: State, args: SwapArgs) -> Record:
    """Swap items of a pending order for other variants of the same products.

    Can be called once per order: collect every item to change first. The price difference
    is charged or refunded now. Explain the details and get an explicit yes first.
    """
    order = order_record(state, args.order_id)
    require_status(order, "pending", "non-pending order cannot be modified")
    check_item_counts(order, args.item_ids)
    difference = price_difference(state, order, args.item_ids, args.new_item_ids)
    user_id = order["user_id"]
    method = payment_method(state, user_id, args.payment_method_id)
    require_gift_card_balance(
        method, difference, "insufficient gift card balance to pay for the new item"
    )
    updated = state.write("orders", args.order_id)
    updated["payment_history"].append(
        {
            "transaction_type": "payment" if difference > 0 else "refund",
            "amount": abs(difference),
            "payment_method_id": args.payment_method_id,
        }
    )
    if is_gift_card(method):
        adjust_gift_card(state, user_id, args.payment_method_id, -difference)
    swap_items(state, updated, args.item_ids, args.new_item_ids)
    updated["status"] = "pending (item modified)"
    return copy_record(updated)


@tool(writes=True)
def return_delivered_order_items(state: State, args: ReturnArgs) -> Record:
    """Request the return of items of a delivered order.

    The refund goes to the original payment method or a gift card of the user. Explain the
    details and get an explicit yes first.
    """
    order = order_record(state, args.order_id)
    require_status(order, "delivered", "non-delivered order cannot be returned")
    payment_method(state, order["user_id"], args.payment_method_id)
    if not refund_method_allowed(order, args.payment_method_id):
        raise ToolError(
            "payment method should be either the original payment method or a gift card"
        )
    check_item_counts(order, args.item_ids)
    updated = state.write("orders", args.order_id)
    updated["status"] = "return requested"
    updated["return_items"] = sorted(args.item_ids)
    updated["return_payment_method_id"] = args.payment_method_id
    return copy_record(updated)


@tool(writes=True)
def exchange_delivered_order_items(state: State, args: SwapArgs) -> Record:
    """Request the exchange of items of a delivered order for other variants of the same products.

    Can be called once per order: collect every item first. Nothing is charged until the
    exchange is processed. Explain the details and get an explicit yes first.
    """
    order = order_record(state, args.order_id)
    require_status(order, "delivered", "non-delivered order cannot be exchanged")
    check_item_counts(order, args.item_ids)
    difference = round(price_difference(state, order, args.item_ids, args.new_item_ids), 2)
    method = payment_method(state, order["user_id"], args.payment_method_id)
    require_gift_card_balance(
        method, difference, "insufficient gift card balance to pay for the price difference"
    )
    updated = state.write("orders", args.order_id)
    updated["status"] = "exchange requested"
    updated["exchange_items"] = sorted(args.item_ids)
    updated["exchange_new_items"] = sorted(args.new_item_ids)
    updated["exchange_payment_method_id"] = args.payment_method_id
    updated["exchange_price_difference"] = difference
    return copy_record(updated)
