"""Helpers the retail task patterns share: sampling subjects, identity actions, phrasing."""

from __future__ import annotations

import random
from collections.abc import Callable

from domains.base import Task
from domains.environment import Environment
from domains.retail._checks import can_pay, price_difference
from domains.retail.records import Money
from domains.state import Record
from domains.task_draft import SampledPattern, TaskDraft

REASON_PHRASES = {
    "no longer needed": "you no longer need it",
    "ordered by mistake": "you ordered it by mistake",
}


class RetailPattern(SampledPattern):
    """A retail task pattern: candidates are order or user ids."""


def start(env: Environment, rng: random.Random, user_id: str) -> TaskDraft | None:
    """A draft opening with an identity lookup that really returns this user (email or name+zip)."""
    user = env.state.get("users", user_id)
    if user is None:
        return None
    first, last = user["name"]["first_name"], user["name"]["last_name"]
    zip_code = user["address"]["zip"]
    options = [
        (
            f"You are {first} {last}, and your email is {user['email']}.",
            "find_user_id_by_email",
            {"email": user["email"]},
        ),
        (
            f"You are {first} {last}, living in zip code {zip_code}; "
            "you do not remember your email address.",
            "find_user_id_by_name_zip",
            {"first_name": first, "last_name": last, "zip": zip_code},
        ),
    ]
    rng.shuffle(options)
    probe = env.fork()
    for intro, name, kwargs in options:
        if probe.call(name, kwargs).output == user_id:
            draft = TaskDraft(user_id, intro)
            draft.call(name, **kwargs)
            return draft
    return None


def order_ids(
    env: Environment, status: str, keep: Callable[[Record], bool] | None = None
) -> list[str]:
    """Ids of the orders with this status (and satisfying `keep`), in table order."""
    return [
        order_id
        for order_id, order in env.state.items("orders")
        if order["status"] == status and (keep is None or keep(order))
    ]


def describe_options(options: Record) -> str:
    """`capacity 750ml, color red`."""
    return ", ".join(f"{name} {value}" for name, value in options.items())


def describe_item(item: Record) -> str:
    """`Water Bottle (capacity 750ml, color red)`: how a user names an item they bought."""
    return f"{item['name']} ({describe_options(item['options'])})"


def describe_method(method: Record) -> str:
    """How a user names one of their payment methods."""
    if method["source"] == "credit_card":
        return f"your {method['brand']} credit card ending in {method['last_four']}"
    if method["source"] == "paypal":
        return "your PayPal account"
    return "your gift card"


def describe_address(address: Record) -> str:
    """An address on one line, as a user would say it."""
    second = f", {address['address2']}" if address["address2"] else ""
    return (
        f"{address['address1']}{second}, {address['city']}, {address['state']} "
        f"{address['zip']}, {address['country']}"
    )


def address_kwargs(address: Record) -> dict[str, str]:
    """The six address arguments in the tools' order."""
    keys = ("address1", "address2", "city", "state", "country", "zip")
    return {key: address[key] for key in keys}


def distinct_items(order: Record) -> list[Record]:
    """The first line of each distinct item id, in order."""
    seen: dict[str, Record] = {}
    for item in order["items"]:
        seen.setdefault(item["item_id"], item)
    return list(seen.values())


def alternatives(env: Environment, item: Record) -> list[Record]:
    """Available variants of the item's product other than the item itself."""
    product = env.state.get("products", item["product_id"])
    if product is None:
        return []
    return [
        variant
        for item_id, variant in product["variants"].items()
        if variant["available"] and item_id != item["item_id"]
    ]


def read_products(draft: TaskDraft, items: list[Record]) -> None:
    """One get_product_details per distinct product of `items`, in order."""
    for product_id in dict.fromkeys(item["product_id"] for item in items):
        draft.call("get_product_details", product_id=product_id)


def order_and_draft(
    env: Environment, rng: random.Random, order_id: str
) -> tuple[Record, TaskDraft] | None:
    """The order and a draft that opens with its owner's identity lookup."""
    order = env.state.get("orders", order_id)
    draft = start(env, rng, order["user_id"]) if order is not None else None
    if order is None or draft is None:
        return None
    return order, draft


def payment_options(env: Environment, user_id: str, amount: Money) -> list[tuple[str, Record]]:
    """The user's payment methods able to pay `amount` (gift cards must cover it)."""
    user = env.state.get("users", user_id)
    return [
        (method_id, method)
        for method_id, method in (user["payment_methods"] if user else {}).items()
        if can_pay(method, amount)
    ]


def pick_swaps(
    env: Environment, rng: random.Random, order: Record
) -> tuple[list[Record], list[Record]] | None:
    """One or two distinct items of the order and, for each, another available variant."""
    swappable = [
        (item, found) for item in distinct_items(order) if (found := alternatives(env, item))
    ]
    if not swappable:
        return None
    chosen = rng.sample(swappable, rng.randint(1, min(2, len(swappable))))
    return [item for item, _ in chosen], [rng.choice(found) for _, found in chosen]


def swap_goals(old: list[Record], new: list[Record]) -> str:
    """`you want to change your X (...) to the one with ...`, pair by pair."""
    changes = [
        f"your {describe_item(item)} to the one with {describe_options(variant['options'])}"
        for item, variant in zip(old, new, strict=True)
    ]
    return "you want to change " + "; and ".join(changes) + "."


def swap_task(
    env: Environment,
    rng: random.Random,
    key: str,
    *,
    tool: str,
    goal: str,
    payment: str,
    round_difference: bool,
) -> Task | None:
    """An item swap (modification or exchange) in one call, paid with a method that covers it.

    The exchange tool checks the difference rounded to cents, the modification unrounded.
    """
    found = order_and_draft(env, rng, key)
    swaps = pick_swaps(env, rng, found[0]) if found else None
    if found is None or swaps is None:
        return None
    (order, draft), (old, new) = found, swaps
    old_ids, new_ids = [item["item_id"] for item in old], [v["item_id"] for v in new]
    difference = price_difference(env.state, order, old_ids, new_ids)
    methods = payment_options(
        env, order["user_id"], round(difference, 2) if round_difference else difference
    )
    if not methods:
        return None
    method_id, method = rng.choice(methods)
    draft.goals.append(goal + swap_goals(old, new))
    draft.goals.append(payment.format(describe_method(method)))
    draft.call("get_order_details", order_id=key)
    read_products(draft, old)
    draft.call(
        tool,
        order_id=key,
        item_ids=old_ids,
        new_item_ids=new_ids,
        payment_method_id=method_id,
    )
    return draft.task(rng)
