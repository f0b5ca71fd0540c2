"""Pydantic models of the retail tables, used to validate loaded JSON record by record.

Validation is strict (no coercion: a price given as "3.5" is refused) and money fields accept
`int | float` so a loaded file keeps its number types; the raw dicts, not these models, are
the state.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from domains.data import PersonName, StrictRecord

Money = int | float
Options = dict[str, str]

OrderStatus = Literal[
    "pending",
    "processed",
    "delivered",
    "cancelled",
    "pending (item modified)",
    "return requested",
    "exchange requested",
]
CANCEL_REASONS = ("no longer needed", "ordered by mistake")


class Address(StrictRecord):
    """A postal address; zip is a string in the data, an int only if a tool call stored one.

    The address tools keep an integer zip as given, as the reference does.
    """

    address1: str
    address2: str
    city: str
    country: str
    state: str
    zip: str | int


class CreditCard(StrictRecord):
    """A credit card payment method."""

    source: Literal["credit_card"]
    brand: str
    last_four: str
    id: str


class Paypal(StrictRecord):
    """A PayPal payment method."""

    source: Literal["paypal"]
    id: str


class GiftCard(StrictRecord):
    """A gift card payment method with its balance."""

    source: Literal["gift_card"]
    balance: Money
    id: str


PaymentMethod = Annotated[CreditCard | Paypal | GiftCard, Field(discriminator="source")]


class UserRecord(StrictRecord):
    """A record of `users.json`."""

    name: PersonName
    address: Address
    email: str
    payment_methods: dict[str, PaymentMethod]
    orders: list[str]

    @model_validator(mode="after")
    def _method_ids_name_their_source(self) -> UserRecord:
        """Tools tell gift cards by id and by source: the two must agree."""
        for key, method in self.payment_methods.items():
            if method.id != key or not key.startswith(f"{method.source}_"):
                raise ValueError(
                    f"payment method {key!r} needs id {key!r} and a {method.source}_ prefix"
                )
        return self


class OrderItem(StrictRecord):
    """One line of an order."""

    name: str
    product_id: str
    item_id: str
    price: Money
    options: Options


class Fulfillment(StrictRecord):
    """A shipment: its tracking ids and the items it carries."""

    tracking_id: list[str]
    item_ids: list[str]


class Transaction(StrictRecord):
    """A payment or refund of an order."""

    transaction_type: Literal["payment", "refund"]
    amount: Money
    payment_method_id: str


class OrderRecord(StrictRecord):
    """A record of `orders.json`, with the optional fields the write tools add."""

    order_id: str
    user_id: str
    address: Address
    items: list[OrderItem]
    fulfillments: list[Fulfillment]
    status: OrderStatus
    payment_history: list[Transaction]
    cancel_reason: str | None = None
    return_items: list[str] | None = None
    return_payment_method_id: str | None = None
    exchange_items: list[str] | None = None
    exchange_new_items: list[str] | None = None
    exchange_payment_method_id: str | None = None
    exchange_price_difference: Money | None = None


class Variant(StrictRecord):
    """One purchasable variant of a product."""

    item_id: str
    options: Options
    available: bool
    price: Money


class ProductRecord(StrictRecord):
    """A record of `products.json`."""

    name: str
    product_id: str
    variants: dict[str, Variant]


SCHEMAS: dict[str, type[BaseModel]] = {
    "users": UserRecord,
    "orders": OrderRecord,
    "products": ProductRecord,
}
