"""Retail task patterns: each samples a fitting user or order and builds an executable task.

Ground-truth actions follow the tau-bench shape: the identity lookup first, then the reads an
agent needs (order, user or product details), then the write; composite patterns chain more.
Patterns whose `ending` is not `act` write nothing: the user asks what the policy forbids
(refuse), asks for facts (answer), or needs what no tool does (transfer).
"""

from __future__ import annotations

import random

from domains.base import Task
from domains.environment import Environment
from domains.retail._answers import (
    GiftCardBalance,
    OrderStatus,
    OrderTotal,
    TransferEmailChange,
    TransferMissingDelivery,
)
from domains.retail._checks import refund_method_allowed
from domains.retail._refusals import (
    RefuseCancellationOfShippedOrder,
    RefuseChangeOfProcessedItems,
    RefuseRefundToAnotherMethod,
)
from domains.retail._tasks import (
    REASON_PHRASES,
    RetailPattern,
    address_kwargs,
    describe_address,
    describe_item,
    describe_method,
    distinct_items,
    order_and_draft,
    order_ids,
    payment_options,
    start,
    swap_task,
)
from domains.retail.generator import random_address
from domains.retail.records import CANCEL_REASONS

__all__ = [
    "PATTERNS",
    "CancelOneReturnAnother",
    "CancelPendingOrder",
    "ExchangeDeliveredItems",
    "GiftCardBalance",
    "ModifyPendingOrderAddress",
    "ModifyPendingOrderItems",
    "ModifyPendingOrderPayment",
    "ModifyUserAddress",
    "OrderStatus",
    "OrderTotal",
    "OrderTotalThenAddress",
    "RefuseCancellationOfShippedOrder",
    "RefuseChangeOfProcessedItems",
    "RefuseRefundToAnotherMethod",
    "RetailPattern",
    "ReturnDeliveredItems",
    "TransferEmailChange",
    "TransferMissingDelivery",
]


class CancelPendingOrder(RetailPattern):
    """Cancel a pending order for an allowed reason."""

    name = "cancel_pending_order"
    description = "cancel a pending order for one of the two allowed reasons"
    write_tools = ("cancel_pending_order",)
    ending = "act"

    def candidates(self, env: Environment) -> list[str]:
        """Pending orders."""
        return order_ids(env, "pending")

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """Lookup, order details, cancellation."""
        found = order_and_draft(env, rng, key)
        if found is None:
            return None
        order, draft = found
        reason = rng.choice(CANCEL_REASONS)
        items = ", ".join(item["name"] for item in order["items"])
        draft.goals.append(
            f"You want to cancel your order {key} ({items}) because {REASON_PHRASES[reason]}."
        )
        draft.call("get_order_details", order_id=key)
        draft.call("cancel_pending_order", order_id=key, reason=reason)
        return draft.task(rng)


class ModifyPendingOrderItems(RetailPattern):
    """Swap items of a pending order for other variants, all in one call."""

    name = "modify_pending_order_items"
    description = "swap one or two items of a pending order for other variants, in one call"
    write_tools = ("modify_pending_order_items",)
    ending = "act"

    def candidates(self, env: Environment) -> list[str]:
        """Pending orders."""
        return order_ids(env, "pending")

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """Lookup, order details, product details, one modification with every item."""
        return swap_task(
            env,
            rng,
            key,
            tool="modify_pending_order_items",
            goal=f"For your pending order {key}, ",
            payment="Any price difference goes through {}.",
            round_difference=False,
        )


class ModifyPendingOrderAddress(RetailPattern):
    """Ship a pending order to a new address."""

    name = "modify_pending_order_address"
    description = "ship a pending order to a new address"
    write_tools = ("modify_pending_order_address",)
    ending = "act"

    def candidates(self, env: Environment) -> list[str]:
        """Pending orders."""
        return order_ids(env, "pending")

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """Lookup, order details, address change."""
        found = order_and_draft(env, rng, key)
        if found is None:
            return None
        _, draft = found
        address = random_address(rng)
        draft.goals.append(
            f"You want your pending order {key} shipped to {describe_address(address)} instead."
        )
        draft.call("get_order_details", order_id=key)
        draft.call("modify_pending_order_address", order_id=key, **address_kwargs(address))
        return draft.task(rng)


class ModifyPendingOrderPayment(RetailPattern):
    """Pay a pending order with another payment method of the user."""

    name = "modify_pending_order_payment"
    description = "pay a pending order with another of the user's payment methods"
    write_tools = ("modify_pending_order_payment",)
    ending = "act"

    def candidates(self, env: Environment) -> list[str]:
        """Pending orders paid with exactly one payment."""
        return order_ids(env, "pending", lambda order: len(order["payment_history"]) == 1)

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """Lookup, user details, order details, payment change."""
        found = order_and_draft(env, rng, key)
        if found is None:
            return None
        order, draft = found
        payment = order["payment_history"][0]
        methods = [
            (method_id, method)
            for method_id, method in payment_options(env, order["user_id"], payment["amount"])
            if method_id != payment["payment_method_id"]
        ]
        if not methods:
            return None
        method_id, method = rng.choice(methods)
        draft.goals.append(f"You want to pay for your order {key} with {describe_method(method)}.")
        draft.call("get_user_details", user_id=order["user_id"])
        draft.call("get_order_details", order_id=key)
        draft.call("modify_pending_order_payment", order_id=key, payment_method_id=method_id)
        return draft.task(rng)


class ReturnDeliveredItems(RetailPattern):
    """Return items of a delivered order."""

    name = "return_delivered_order_items"
    description = (
        "return some items of a delivered order, refunded to the original method or a gift card"
    )
    write_tools = ("return_delivered_order_items",)
    ending = "act"

    def candidates(self, env: Environment) -> list[str]:
        """Delivered orders."""
        return order_ids(env, "delivered")

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """Lookup, order details, return request."""
        found = order_and_draft(env, rng, key)
        if found is None:
            return None
        order, draft = found
        user = env.state.get("users", order["user_id"]) or {}
        refund_to = [
            (method_id, method)
            for method_id, method in user.get("payment_methods", {}).items()
            if refund_method_allowed(order, method_id)
        ]
        if not refund_to:
            return None
        method_id, method = rng.choice(refund_to)
        items = distinct_items(order)
        chosen = rng.sample(items, rng.randint(1, len(items)))
        names = "; ".join(describe_item(item) for item in chosen)
        draft.goals.append(f"From your delivered order {key}, you want to return: {names}.")
        draft.goals.append(f"You want the refund on {describe_method(method)}.")
        draft.call("get_order_details", order_id=key)
        draft.call(
            "return_delivered_order_items",
            order_id=key,
            item_ids=[item["item_id"] for item in chosen],
            payment_method_id=method_id,
        )
        return draft.task(rng)


class ExchangeDeliveredItems(RetailPattern):
    """Exchange delivered items for other variants, all in one call."""

    name = "exchange_delivered_order_items"
    description = "exchange one or two delivered items for other variants, in one call"
    write_tools = ("exchange_delivered_order_items",)
    ending = "act"

    def candidates(self, env: Environment) -> list[str]:
        """Delivered orders."""
        return order_ids(env, "delivered")

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """Lookup, order details, product details, one exchange with every item."""
        return swap_task(
            env,
            rng,
            key,
            tool="exchange_delivered_order_items",
            goal=f"For your delivered order {key}, ",
            payment="Settle any price difference with {}.",
            round_difference=True,
        )


class ModifyUserAddress(RetailPattern):
    """Change the default address of the user."""

    name = "modify_user_address"
    description = "change the user's default address"
    write_tools = ("modify_user_address",)
    ending = "act"

    def candidates(self, env: Environment) -> list[str]:
        """Every user."""
        return env.state.keys("users")

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """Lookup, user details, address change."""
        draft = start(env, rng, key)
        if draft is None:
            return None
        address = random_address(rng)
        draft.goals.append(
            f"You moved to {describe_address(address)} and want your default address updated."
        )
        draft.call("get_user_details", user_id=key)
        draft.call("modify_user_address", user_id=key, **address_kwargs(address))
        return draft.task(rng)


class OrderTotalThenAddress(RetailPattern):
    """Ask the total of a pending order (an output), then change its shipping address."""

    name = "order_total_then_address"
    description = "ask what a pending order costs, then change its shipping address"
    write_tools = ("modify_pending_order_address",)
    ending = "act"

    def candidates(self, env: Environment) -> list[str]:
        """Pending orders."""
        return order_ids(env, "pending")

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """Lookup, user and order details, a sum of the prices (the output), address change."""
        found = order_and_draft(env, rng, key)
        if found is None:
            return None
        order, draft = found
        user = env.state.get("users", order["user_id"]) or {}
        default = user.get("address")
        moves_home = default is not None and address_kwargs(default) != address_kwargs(
            order["address"]
        )
        address = default if moves_home and default else random_address(rng)
        where = "your default address" if moves_home else describe_address(address)
        draft.goals.append(
            f"First you want to know the total price of the items in your pending order {key}; "
            f"then you want it shipped to {where}."
        )
        draft.call("get_user_details", user_id=order["user_id"])
        draft.call("get_order_details", order_id=key)
        expression = " + ".join(str(item["price"]) for item in order["items"])
        total = env.fork().call("calculate", {"expression": expression})
        draft.call("calculate", expression=expression)
        draft.outputs.append(total.output)
        draft.call("modify_pending_order_address", order_id=key, **address_kwargs(address))
        return draft.task(rng)


class CancelOneReturnAnother(RetailPattern):
    """Cancel a pending order and return a delivered one in the same conversation."""

    name = "cancel_one_return_another"
    description = "cancel a pending order and return every item of a delivered one"
    write_tools = ("cancel_pending_order", "return_delivered_order_items")
    ending = "act"

    def candidates(self, env: Environment) -> list[str]:
        """Users with both a pending and a delivered order."""
        orders = [order for _, order in env.state.items("orders")]
        pending = {order["user_id"] for order in orders if order["status"] == "pending"}
        delivered = {order["user_id"] for order in orders if order["status"] == "delivered"}
        both = pending & delivered
        return [key for key in env.state.keys("users") if key in both]

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """Lookup, user details, then each order read before its write."""
        user = env.state.get("users", key)
        draft = start(env, rng, key)
        if user is None or draft is None:
            return None
        mine = [env.state.get("orders", order_id) for order_id in user["orders"]]
        pending = [order for order in mine if order and order["status"] == "pending"]
        delivered = [order for order in mine if order and order["status"] == "delivered"]
        if not pending or not delivered:
            return None
        cancel, back = rng.choice(pending), rng.choice(delivered)
        original = back["payment_history"][0]["payment_method_id"]
        if original not in user["payment_methods"]:
            return None
        reason = rng.choice(CANCEL_REASONS)
        draft.goals.append(
            f"You want to cancel your pending order {cancel['order_id']} because "
            f"{REASON_PHRASES[reason]}, and to return everything in your delivered order "
            f"{back['order_id']}, refunded to the original payment method."
        )
        draft.call("get_user_details", user_id=key)
        draft.call("get_order_details", order_id=cancel["order_id"])
        draft.call("cancel_pending_order", order_id=cancel["order_id"], reason=reason)
        draft.call("get_order_details", order_id=back["order_id"])
        draft.call(
            "return_delivered_order_items",
            order_id=back["order_id"],
            item_ids=[item["item_id"] for item in back["items"]],
            payment_method_id=original,
        )
        return draft.task(rng)


PATTERNS: tuple[RetailPattern, ...] = (
    CancelPendingOrder(),
    ModifyPendingOrderItems(),
    ModifyPendingOrderAddress(),
    ModifyPendingOrderPayment(),
    ReturnDeliveredItems(),
    ExchangeDeliveredItems(),
    ModifyUserAddress(),
    OrderTotalThenAddress(),
    CancelOneReturnAnother(),
    RefuseRefundToAnotherMethod(),
    RefuseChangeOfProcessedItems(),
    RefuseCancellationOfShippedOrder(),
    TransferMissingDelivery(),
    TransferEmailChange(),
    OrderTotal(),
    OrderStatus(),
    GiftCardBalance(),
)
