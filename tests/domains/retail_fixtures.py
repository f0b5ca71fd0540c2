"""Small hand-built retail data in the tau-bench format: 3 users, 6 orders, 3 products.

Ann Lee (ann_lee_1001, zip 10001) has a visa card, a gift card with 30.1 and PayPal; her
orders: #W0000001 pending (paid 40.2 by gift card, the T-Shirt 4000000001 twice),
#W0000002 delivered (paid 60.3 by card), #W0000003 pending (paid 49.5 by card).
Bob Ng (bob_ng_2002) has PayPal and a gift card with 0.2; his orders: #W0000004 pending,
#W0000005 delivered (paid by gift card), #W0000006 processed.
A second Ann Lee (ann_lee_3003) lives in zip 94110, Bob's zip, and has no orders.
"""

from __future__ import annotations

from typing import Any

from domains.environment import Environment, ToolResult
from domains.retail import RetailDomain
from domains.state import State, Tables

ANN, BOB, ANN_TWO = "ann_lee_1001", "bob_ng_2002", "ann_lee_3003"
BOTTLE, SHIRT, LAMP = "1111111111", "3333333333", "5555555555"
BOTTLE_500, BOTTLE_750, BOTTLE_1000 = "2000000001", "2000000002", "2000000003"
SHIRT_BLACK_M, SHIRT_WHITE_M, SHIRT_WHITE_L, SHIRT_RED_XL = (
    "4000000001",
    "4000000002",
    "4000000003",
    "4000000004",
)
LAMP_BLACK, LAMP_WHITE, LAMP_WHITE_LARGE = "6000000001", "6000000002", "6000000003"
ANN_CARD, ANN_GIFT, ANN_PAYPAL = "credit_card_1000001", "gift_card_1000002", "paypal_1000003"
BOB_PAYPAL, BOB_GIFT, ANN_TWO_CARD = "paypal_2000001", "gift_card_2000002", "credit_card_3000001"


def _variant(item_id: str, options: dict[str, str], price: float, available: bool = True) -> Any:
    return {"item_id": item_id, "options": options, "available": available, "price": price}


def _products() -> dict[str, Any]:
    return {
        BOTTLE: {
            "name": "Water Bottle",
            "product_id": BOTTLE,
            "variants": {
                BOTTLE_500: _variant(BOTTLE_500, {"capacity": "500ml", "color": "blue"}, 20.0),
                BOTTLE_750: _variant(BOTTLE_750, {"capacity": "750ml", "color": "blue"}, 20.4),
                BOTTLE_1000: _variant(
                    BOTTLE_1000, {"capacity": "1000ml", "color": "red"}, 30.0, available=False
                ),
            },
        },
        SHIRT: {
            "name": "T-Shirt",
            "product_id": SHIRT,
            "variants": {
                SHIRT_BLACK_M: _variant(SHIRT_BLACK_M, {"color": "black", "size": "M"}, 10.1),
                SHIRT_WHITE_M: _variant(SHIRT_WHITE_M, {"color": "white", "size": "M"}, 10.3),
                SHIRT_WHITE_L: _variant(SHIRT_WHITE_L, {"color": "white", "size": "L"}, 12),
                SHIRT_RED_XL: _variant(SHIRT_RED_XL, {"color": "red", "size": "XL"}, 45.0),
            },
        },
        LAMP: {
            "name": "Desk Lamp",
            "product_id": LAMP,
            "variants": {
                LAMP_BLACK: _variant(LAMP_BLACK, {"color": "black", "size": "small"}, 50.0),
                LAMP_WHITE: _variant(LAMP_WHITE, {"color": "white", "size": "small"}, 49.5),
                LAMP_WHITE_LARGE: _variant(
                    LAMP_WHITE_LARGE, {"color": "white", "size": "large"}, 45.25
                ),
            },
        },
    }


def _address(address1: str, city: str, state: str, zip_code: str) -> dict[str, str]:
    return {
        "address1": address1,
        "address2": "Suite 100",
        "city": city,
        "country": "USA",
        "state": state,
        "zip": zip_code,
    }


def _users() -> dict[str, Any]:
    return {
        ANN: {
            "name": {"first_name": "Ann", "last_name": "Lee"},
            "address": _address("1 Main Street", "New York", "NY", "10001"),
            "email": "ann.lee@example.com",
            "payment_methods": {
                ANN_CARD: {
                    "source": "credit_card",
                    "brand": "visa",
                    "last_four": "1234",
                    "id": ANN_CARD,
                },
                ANN_GIFT: {"source": "gift_card", "balance": 30.1, "id": ANN_GIFT},
                ANN_PAYPAL: {"source": "paypal", "id": ANN_PAYPAL},
            },
            "orders": ["#W0000001", "#W0000002", "#W0000003"],
        },
        BOB: {
            "name": {"first_name": "Bob", "last_name": "Ng"},
            "address": _address("2 Elm Street", "San Francisco", "CA", "94110"),
            "email": "Bob.Ng@Example.com",
            "payment_methods": {
                BOB_PAYPAL: {"source": "paypal", "id": BOB_PAYPAL},
                BOB_GIFT: {"source": "gift_card", "balance": 0.2, "id": BOB_GIFT},
            },
            "orders": ["#W0000004", "#W0000005", "#W0000006"],
        },
        ANN_TWO: {
            "name": {"first_name": "Ann", "last_name": "Lee"},
            "address": _address("3 Oak Street", "San Francisco", "CA", "94110"),
            "email": "ann.lee@example.org",
            "payment_methods": {
                ANN_TWO_CARD: {
                    "source": "credit_card",
                    "brand": "amex",
                    "last_four": "9999",
                    "id": ANN_TWO_CARD,
                }
            },
            "orders": [],
        },
    }


def _item(product: dict[str, Any], item_id: str) -> dict[str, Any]:
    variant = product["variants"][item_id]
    return {
        "name": product["name"],
        "product_id": product["product_id"],
        "item_id": item_id,
        "price": variant["price"],
        "options": dict(variant["options"]),
    }


def _order(
    order_id: str,
    user: dict[str, Any],
    user_id: str,
    status: str,
    items: list[Any],
    paid: tuple[float, str],
) -> dict[str, Any]:
    shipped = status not in ("pending", "cancelled")
    fulfillments = (
        [{"tracking_id": ["123456789012"], "item_ids": [item["item_id"] for item in items]}]
        if shipped
        else []
    )
    return {
        "order_id": order_id,
        "user_id": user_id,
        "address": dict(user["address"]),
        "items": items,
        "fulfillments": fulfillments,
        "status": status,
        "payment_history": [
            {"transaction_type": "payment", "amount": paid[0], "payment_method_id": paid[1]}
        ],
    }


def retail_tables() -> Tables:
    """Fresh fixture tables (a new copy each call)."""
    products, users = _products(), _users()
    bottle, shirt, lamp = products[BOTTLE], products[SHIRT], products[LAMP]
    ann, bob = users[ANN], users[BOB]
    orders = [
        _order(
            "#W0000001",
            ann,
            ANN,
            "pending",
            [_item(bottle, BOTTLE_500), _item(shirt, SHIRT_BLACK_M), _item(shirt, SHIRT_BLACK_M)],
            (40.2, ANN_GIFT),
        ),
        _order(
            "#W0000002",
            ann,
            ANN,
            "delivered",
            [_item(lamp, LAMP_BLACK), _item(shirt, SHIRT_WHITE_M)],
            (60.3, ANN_CARD),
        ),
        _order("#W0000003", ann, ANN, "pending", [_item(lamp, LAMP_WHITE)], (49.5, ANN_CARD)),
        _order("#W0000004", bob, BOB, "pending", [_item(shirt, SHIRT_BLACK_M)], (10.1, BOB_PAYPAL)),
        _order("#W0000005", bob, BOB, "delivered", [_item(shirt, SHIRT_BLACK_M)], (10.1, BOB_GIFT)),
        _order("#W0000006", bob, BOB, "processed", [_item(bottle, BOTTLE_750)], (20.4, BOB_PAYPAL)),
    ]
    return {
        "users": users,
        "orders": {order["order_id"]: order for order in orders},
        "products": products,
    }


def retail_env() -> Environment:
    """A base environment over the fixture tables (fork it to act)."""
    return Environment(RetailDomain(), State.from_tables(retail_tables()))


NEW_ADDRESS = {  # in the tools' key order
    "address1": "9 Pine Lane",
    "address2": "",
    "city": "Austin",
    "state": "TX",
    "country": "USA",
    "zip": "78701",
}


def call(env: Environment, name: str, **kwargs: Any) -> ToolResult:
    """Call a tool with keyword arguments."""
    return env.call(name, kwargs)


def order(env: Environment, order_id: str) -> dict[str, Any]:
    """An order that must exist."""
    found = env.state.get("orders", order_id)
    assert found is not None
    return found


def balance(env: Environment, user_id: str, method_id: str) -> Any:
    """A gift card's current balance."""
    user = env.state.get("users", user_id)
    assert user is not None
    return user["payment_methods"][method_id]["balance"]


def assert_error(env: Environment, result: ToolResult, message: str) -> None:
    """The call failed with exactly this message and changed nothing."""
    assert (result.ok, result.output) == (False, f"Error: {message}")
    assert env.diff() == []


def payment(kind: str, amount: Any, method_id: str) -> dict[str, Any]:
    """A payment_history entry."""
    return {"transaction_type": kind, "amount": amount, "payment_method_id": method_id}
