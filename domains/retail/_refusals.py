"""Refusal patterns: the user asks for something the retail policy forbids; nothing is written.

The ground truth is the reads that show the policy forbids it (the identity lookup, the
order, the user's payment methods); the user asks, insists once, and accepts the refusal.
"""

from __future__ import annotations

import random

from domains.base import Task
from domains.environment import Environment
from domains.retail._checks import refund_method_allowed
from domains.retail._tasks import (
    RetailPattern,
    alternatives,
    describe_item,
    describe_method,
    describe_options,
    distinct_items,
    order_and_draft,
    order_ids,
)
from domains.task_draft import INSIST_ONCE


class RefuseRefundToAnotherMethod(RetailPattern):
    """A return refunded to a method that is neither the original nor a gift card (policy 10)."""

    name = "refuse_refund_to_another_method"
    description = (
        "the user wants a return refunded to a payment method that is neither the order's "
        "original method nor a gift card: the agent refuses"
    )
    write_tools = ()
    ending = "refuse"

    def candidates(self, env: Environment) -> list[str]:
        """Delivered orders."""
        return order_ids(env, "delivered")

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """Lookup, the user's methods, the order (its original payment)."""
        found = order_and_draft(env, rng, key)
        if found is None:
            return None
        order, draft = found
        user = env.state.get("users", order["user_id"]) or {}
        refused = [
            method
            for method_id, method in user.get("payment_methods", {}).items()
            if not refund_method_allowed(order, method_id)
        ]
        if not refused:
            return None
        item = rng.choice(distinct_items(order))
        draft.goals.append(
            f"You want to return the {describe_item(item)} from your delivered order {key}, "
            f"with the refund paid to {describe_method(rng.choice(refused))}, and to no other "
            f"payment method. {INSIST_ONCE}"
        )
        draft.call("get_user_details", user_id=order["user_id"])
        draft.call("get_order_details", order_id=key)
        return draft.task(rng)


class RefuseChangeOfProcessedItems(RetailPattern):
    """Change an item of an order already processed (only pending orders change, policy 7)."""

    name = "refuse_change_of_processed_items"
    description = (
        "the user wants an item of a processed (no longer pending) order changed to another "
        "variant: the agent refuses"
    )
    write_tools = ()
    ending = "refuse"

    def candidates(self, env: Environment) -> list[str]:
        """Processed orders."""
        return order_ids(env, "processed")

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """Lookup and the order (its status)."""
        found = order_and_draft(env, rng, key)
        if found is None:
            return None
        order, draft = found
        swappable = [
            (item, options)
            for item in distinct_items(order)
            if (options := alternatives(env, item))
        ]
        if not swappable:
            return None
        item, variants = rng.choice(swappable)
        variant = rng.choice(variants)
        draft.goals.append(
            f"In your order {key}, you want your {describe_item(item)} changed to the one with "
            f"{describe_options(variant['options'])} before it ships. {INSIST_ONCE}"
        )
        draft.call("get_order_details", order_id=key)
        return draft.task(rng)


class RefuseCancellationOfShippedOrder(RetailPattern):
    """Cancel an order already processed or delivered (only pending orders cancel, policy 7)."""

    name = "refuse_cancellation_of_shipped_order"
    description = (
        "the user wants a processed or delivered order cancelled and will not return it: the "
        "agent refuses"
    )
    write_tools = ()
    ending = "refuse"

    def candidates(self, env: Environment) -> list[str]:
        """Processed and delivered orders."""
        return order_ids(env, "processed") + order_ids(env, "delivered")

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """Lookup and the order (its status)."""
        found = order_and_draft(env, rng, key)
        if found is None:
            return None
        _, draft = found
        draft.goals.append(
            f"You want your order {key} cancelled because you no longer need it. You do not "
            f"want to return or exchange anything. {INSIST_ONCE}"
        )
        draft.call("get_order_details", order_id=key)
        return draft.task(rng)
