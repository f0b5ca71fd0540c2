"""Seeded synthetic retail data in the tau-bench format, at the spec's scale by default.

Only `random.Random(seed)` is used, so the same seed and scale give the same tables.
"""

from __future__ import annotations

import random
from typing import Final

from domains.retail._catalog import (
    CARD_BRANDS,
    CITIES,
    EMAIL_DOMAIN,
    FIRST_NAMES,
    LAST_NAMES,
    PRODUCTS,
    STREETS,
)
from domains.retail.records import CANCEL_REASONS
from domains.state import Record, Tables, copy_json

USERS: Final = 500
STATUS_COUNTS: Final = {"pending": 423, "delivered": 373, "processed": 102, "cancelled": 102}
AVAILABLE_SHARE: Final = 0.7
OWN_ADDRESS_SHARE: Final = 0.85
UNSHIPPED: Final = frozenset({"pending", "cancelled"})


class _Ids:
    """Unique random digit strings: product, item, payment and tracking ids never collide."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._used: set[str] = set()

    def draw(self, digits: int) -> str:
        while True:
            value = str(self._rng.randrange(10 ** (digits - 1), 10**digits))
            if value not in self._used:
                self._used.add(value)
                return value


def _scaled(count: int, scale: float) -> int:
    return max(1, round(count * scale))


def _option_table(spec: str) -> list[tuple[str, list[str]]]:
    """Parse `"color: red|blue; size: S|M"` into option names and their values."""
    table = []
    for part in spec.split("; "):
        option, values = part.split(": ")
        table.append((option, values.split("|")))
    return table


def _product(rng: random.Random, ids: _Ids, entry: tuple[str, str, int, int]) -> Record:
    name, spec, lowest, highest = entry
    table = _option_table(spec)
    combinations = 1
    for _, values in table:
        combinations *= len(values)
    picked = rng.sample(
        range(combinations), rng.randint(min(4, combinations), min(12, combinations))
    )
    variants: dict[str, Record] = {}
    for number in picked:
        options = {}
        for option, values in table:
            number, index = divmod(number, len(values))
            options[option] = values[index]
        item_id = ids.draw(10)
        variants[item_id] = {
            "item_id": item_id,
            "options": options,
            "available": rng.random() < AVAILABLE_SHARE,
            "price": round(rng.uniform(lowest, highest), 2),
        }
    unavailable = [variant for variant in variants.values() if not variant["available"]]
    for variant in unavailable[: 2 - (len(variants) - len(unavailable))]:
        variant["available"] = True
    return {"name": name, "product_id": ids.draw(10), "variants": variants}


def random_address(rng: random.Random) -> Record:
    """A US address in the data files' key order (address1, address2, city, country, ...)."""
    city, state, zip_prefix = rng.choice(CITIES).split(", ")
    return {
        "address1": f"{rng.randint(100, 999)} {rng.choice(STREETS)}",
        "address2": f"Suite {rng.randint(100, 999)}",
        "city": city,
        "country": "USA",
        "state": state,
        "zip": f"{zip_prefix}{rng.randint(0, 99):02d}",
    }


def _payment_methods(rng: random.Random, ids: _Ids) -> dict[str, Record]:
    count = rng.choices((1, 2, 3), weights=(45, 40, 15))[0]
    methods: dict[str, Record] = {}
    for source in rng.sample(("credit_card", "paypal", "gift_card"), count):
        method_id = f"{source}_{ids.draw(7)}"
        if source == "credit_card":
            brand, last_four = rng.choice(CARD_BRANDS), f"{rng.randint(0, 9999):04d}"
            methods[method_id] = {
                "source": source,
                "brand": brand,
                "last_four": last_four,
                "id": method_id,
            }
        elif source == "gift_card":
            cents = rng.random() < 0.5
            balance = round(rng.uniform(0, 250), 2) if cents else rng.randint(0, 250)
            methods[method_id] = {"source": source, "balance": balance, "id": method_id}
        else:
            methods[method_id] = {"source": source, "id": method_id}
    return methods


def _users(rng: random.Random, ids: _Ids, count: int) -> dict[str, Record]:
    users: dict[str, Record] = {}
    emails: set[str] = set()
    while len(users) < count:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        user_id = f"{first.lower()}_{last.lower()}_{rng.randint(1000, 9999)}"
        email = f"{first.lower()}.{last.lower()}{rng.randint(1000, 9999)}@{EMAIL_DOMAIN}"
        if user_id in users or email in emails:
            continue
        emails.add(email)
        users[user_id] = {
            "name": {"first_name": first, "last_name": last},
            "address": random_address(rng),
            "email": email,
            "payment_methods": _payment_methods(rng, ids),
            "orders": [],
        }
    return users


def _items(rng: random.Random, products: list[Record]) -> list[Record]:
    items: list[Record] = []
    for _ in range(rng.choices((1, 2, 3, 4, 5), weights=(25, 25, 20, 15, 15))[0]):
        if items and rng.random() < 0.05:
            items.append(copy_json(rng.choice(items)))
            continue
        product = rng.choice(products)
        variant = rng.choice(list(product["variants"].values()))
        items.append(
            {
                "name": product["name"],
                "product_id": product["product_id"],
                "item_id": variant["item_id"],
                "price": variant["price"],
                "options": copy_json(variant["options"]),
            }
        )
    return items


def _order(
    rng: random.Random, ids: _Ids, user_id: str, user: Record, status: str, products: list[Record]
) -> Record:
    order_id = f"#W{ids.draw(7)}"
    items = _items(rng, products)
    own_address = rng.random() < OWN_ADDRESS_SHARE
    fulfillments = []
    if status not in UNSHIPPED:
        item_ids = [item["item_id"] for item in items]
        fulfillments.append({"tracking_id": [ids.draw(12)], "item_ids": item_ids})
    method_id = rng.choice(list(user["payment_methods"]))
    amount = round(sum(item["price"] for item in items), 2)
    payment = {"transaction_type": "payment", "amount": amount, "payment_method_id": method_id}
    order: Record = {
        "order_id": order_id,
        "user_id": user_id,
        "address": copy_json(user["address"]) if own_address else random_address(rng),
        "items": items,
        "fulfillments": fulfillments,
        "status": status,
        "payment_history": [payment],
    }
    if status == "cancelled":
        order["payment_history"].append({**payment, "transaction_type": "refund"})
        order["cancel_reason"] = rng.choice(CANCEL_REASONS)
    return order


def generate(seed: int = 0, scale: float = 1.0) -> Tables:
    """Users, orders and products: 500 / 1,000 / 50 at scale 1 (products capped at 50)."""
    rng = random.Random(seed)
    ids = _Ids(rng)
    catalogue = rng.sample(PRODUCTS, min(len(PRODUCTS), max(3, round(len(PRODUCTS) * scale))))
    product_list = [_product(rng, ids, entry) for entry in catalogue]
    users = _users(rng, ids, _scaled(USERS, scale))
    user_ids = list(users)
    statuses = [s for s, count in STATUS_COUNTS.items() for _ in range(_scaled(count, scale))]
    rng.shuffle(statuses)
    orders: dict[str, Record] = {}
    for index, status in enumerate(statuses):
        user_id = user_ids[index] if index < len(user_ids) else rng.choice(user_ids)
        order = _order(rng, ids, user_id, users[user_id], status, product_list)
        orders[order["order_id"]] = order
        users[user_id]["orders"].append(order["order_id"])
    return {
        "users": users,
        "orders": orders,
        "products": {product["product_id"]: product for product in product_list},
    }
