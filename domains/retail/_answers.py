"""Patterns that end without a write: facts the agent must say (answer), and requests no
tool serves, which go to a human agent (transfer)."""

from __future__ import annotations

import random
from typing import Final

from domains.base import Task
from domains.environment import Environment
from domains.retail._tasks import RetailPattern, order_and_draft, order_ids, start

NO_CHANGES: Final = "You do not want to change anything."


class OrderTotal(RetailPattern):
    """What the items of an order cost together."""

    name = "order_total"
    description = "the user asks the total price of the items in one of their orders"
    write_tools = ()
    ending = "answer"

    def candidates(self, env: Environment) -> list[str]:
        """Orders with more than one item."""
        return [key for key, order in env.state.items("orders") if len(order["items"]) > 1]

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """Lookup, order details, a sum of the prices; the calculated sum is the output."""
        found = order_and_draft(env, rng, key)
        if found is None:
            return None
        order, draft = found
        draft.goals.append(
            f"You want to know the total price of the items in your order {key}. {NO_CHANGES}"
        )
        draft.call("get_order_details", order_id=key)
        expression = " + ".join(str(item["price"]) for item in order["items"])
        draft.call("calculate", expression=expression)
        draft.outputs.append(env.fork().call("calculate", {"expression": expression}).output)
        return draft.task(rng)


class OrderStatus(RetailPattern):
    """Where an order stands: its status."""

    name = "order_status"
    description = "the user asks the status of one of their orders"
    write_tools = ()
    ending = "answer"

    def candidates(self, env: Environment) -> list[str]:
        """Every order."""
        return env.state.keys("orders")

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """Lookup and order details; the status is the output."""
        found = order_and_draft(env, rng, key)
        if found is None:
            return None
        order, draft = found
        draft.goals.append(f"You want to know the status of your order {key}. {NO_CHANGES}")
        draft.call("get_order_details", order_id=key)
        draft.outputs.append(order["status"])
        return draft.task(rng)


class GiftCardBalance(RetailPattern):
    """How much is left on the user's gift card."""

    name = "gift_card_balance"
    description = "the user asks the balance of their gift card"
    write_tools = ()
    ending = "answer"

    def candidates(self, env: Environment) -> list[str]:
        """Users with exactly one gift card."""
        return [
            key
            for key, user in env.state.items("users")
            if [m["source"] for m in user["payment_methods"].values()].count("gift_card") == 1
        ]

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """Lookup and user details; the balance is the output."""
        user, draft = env.state.get("users", key), start(env, rng, key)
        if user is None or draft is None:
            return None
        card = next(m for m in user["payment_methods"].values() if m["source"] == "gift_card")
        draft.goals.append(f"You want to know how much is left on your gift card. {NO_CHANGES}")
        draft.call("get_user_details", user_id=key)
        draft.outputs.append(str(card["balance"]))
        return draft.task(rng)


class TransferMissingDelivery(RetailPattern):
    """A delivered order that never arrived: no tool investigates it, so a human must."""

    name = "transfer_missing_delivery"
    description = "the user says a delivered order never arrived: transfer to a human"
    write_tools = ()
    ending = "transfer"

    def candidates(self, env: Environment) -> list[str]:
        """Delivered orders."""
        return order_ids(env, "delivered")

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """Lookup, order details, the transfer."""
        found = order_and_draft(env, rng, key)
        if found is None:
            return None
        order, draft = found
        draft.goals.append(
            f"Your order {key} shows as delivered, but the package never reached you. You want "
            "someone to investigate and send it again; you do not want a return or a refund."
        )
        draft.call("get_order_details", order_id=key)
        draft.call(
            "transfer_to_human_agents",
            summary=f"User {order['user_id']} says delivered order {key} never arrived and "
            "wants it investigated and sent again.",
        )
        return draft.task(rng)


class TransferEmailChange(RetailPattern):
    """A new email address for the account: no tool changes it, so a human must."""

    name = "transfer_email_change"
    description = "the user wants the email address of their account changed: transfer to a human"
    write_tools = ()
    ending = "transfer"

    def candidates(self, env: Environment) -> list[str]:
        """Every user."""
        return env.state.keys("users")

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """Lookup, the transfer."""
        user, draft = env.state.get("users", key), start(env, rng, key)
        if user is None or draft is None:
            return None
        first, last = user["name"]["first_name"], user["name"]["last_name"]
        email = f"{first}.{last}.{rng.randint(10, 99)}@example.net".lower()
        draft.goals.append(
            f"You want the email address of your account changed to {email}; nothing else."
        )
        draft.call(
            "transfer_to_human_agents",
            summary=f"User {key} wants the account email changed to {email}.",
        )
        return draft.task(rng)
