"""The retail tools that only read: identity lookups, record details, catalogue, helpers."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, WithJsonSchema

from domains.retail._checks import copy_record, order_record, product_record, user_record
from domains.state import Record, State
from domains.tools import NoArgs, ToolArgs, exact_types, tool
from runtime.errors import ToolError

Zip = Annotated[
    str | int,
    exact_types(str, int, expected="a valid string"),
    WithJsonSchema({"type": "string"}),
]
"""A zip code: a string, or an integer kept as one (the reference tolerates it; models are
told it is a string). An integer never equals a zip of the data, which are strings."""


class EmailArgs(ToolArgs):
    email: str = Field(description="The user's email, such as 'something@example.com'.")


class NameZipArgs(ToolArgs):
    first_name: str = Field(description="The first name of the user, such as 'John'.")
    last_name: str = Field(description="The last name of the user, such as 'Doe'.")
    zip: Zip = Field(description="The zip code of the user, such as '12345'.")


class UserIdArgs(ToolArgs):
    user_id: str = Field(description="The user id, such as 'sara_doe_496'.")


class OrderIdArgs(ToolArgs):
    order_id: str = Field(
        description="The order id, such as '#W0000000' (note the '#' at the beginning)."
    )


class ProductIdArgs(ToolArgs):
    product_id: str = Field(
        description="The product id, such as '6086499569'. Not the same as an item id."
    )


@tool()
def find_user_id_by_email(state: State, args: EmailArgs) -> str:
    """Find a user id by email. If the user is not found, the function returns an error."""
    user_id = state.find("users", _email, args.email.lower())
    if user_id is None:
        raise ToolError("user not found")
    return user_id


@tool()
def find_user_id_by_name_zip(state: State, args: NameZipArgs) -> str:
    """Find a user id by first name, last name and zip code.

    Try the email lookup first; use this one when the user cannot give or remember an email.
    """
    wanted = (args.first_name.lower(), args.last_name.lower(), args.zip)
    user_id = state.find("users", _name_zip, wanted)
    if user_id is None:
        raise ToolError("user not found")
    return user_id


def _email(user: Record) -> str:
    """What a user is found by email by: the address, case aside."""
    return str(user["email"]).lower()


def _name_zip(user: Record) -> tuple[str, str, str]:
    """What a user is found by name and zip by: the names case aside, the zip as it is."""
    name = user["name"]
    return (name["first_name"].lower(), name["last_name"].lower(), user["address"]["zip"])


@tool()
def get_user_details(state: State, args: UserIdArgs) -> Record:
    """Get the details of a user: name, address, email, payment methods and orders."""
    return copy_record(user_record(state, args.user_id))


@tool()
def get_order_details(state: State, args: OrderIdArgs) -> Record:
    """Get the status and details of an order: items, address, fulfillments, payments."""
    return copy_record(order_record(state, args.order_id))


@tool()
def get_product_details(state: State, args: ProductIdArgs) -> Record:
    """Get a product's inventory details: every variant with its options, availability, price."""
    return copy_record(product_record(state, args.product_id))


@tool()
def list_all_product_types(state: State, args: NoArgs) -> dict[str, Any]:
    """List the name and product id of every product type, sorted by name."""
    by_name = {product["name"]: product["product_id"] for _, product in state.items("products")}
    return dict(sorted(by_name.items()))
