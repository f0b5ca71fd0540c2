"""The retail domain (tau-bench compatible): users, orders and products of an online store."""

from __future__ import annotations

from typing import Any, Final

from domains.base import SubjectContext
from domains.common_tools import calculate, think, transfer_to_human_agents
from domains.environment import Environment
from domains.packaged import PackagedDomain
from domains.retail.generator import generate
from domains.retail.graph import API_GRAPH
from domains.retail.patterns import PATTERNS
from domains.retail.reads import (
    find_user_id_by_email,
    find_user_id_by_name_zip,
    get_order_details,
    get_product_details,
    get_user_details,
    list_all_product_types,
)
from domains.retail.records import SCHEMAS
from domains.retail.rules import RULES
from domains.retail.writes import (
    cancel_pending_order,
    exchange_delivered_order_items,
    modify_pending_order_address,
    modify_pending_order_items,
    modify_pending_order_payment,
    modify_user_address,
    return_delivered_order_items,
)
from domains.state import Record, Tables, copy_json
from domains.tools import Tool

__all__ = ["TOOLS", "RetailDomain"]

TOOLS: Final[tuple[Tool[Any], ...]] = (
    find_user_id_by_email,
    find_user_id_by_name_zip,
    get_user_details,
    get_order_details,
    get_product_details,
    list_all_product_types,
    calculate,
    cancel_pending_order,
    modify_pending_order_address,
    modify_pending_order_payment,
    modify_pending_order_items,
    return_delivered_order_items,
    exchange_delivered_order_items,
    modify_user_address,
    think,
    transfer_to_human_agents,
)
MAX_CONTEXT_ORDERS: Final = 10
MAX_CONTEXT_PRODUCTS: Final = 10


class RetailDomain(PackagedDomain):
    """An online store: authenticate users, then cancel, modify, return or exchange orders."""

    name = "retail"

    package = __name__
    write_vocabulary = {
        "cancel_pending_order": ("cancel",),
        "modify_pending_order_address": ("address", "ship"),
        "modify_user_address": ("address",),
        "modify_pending_order_payment": ("payment", "pay", "card", "paypal", "method"),
        "modify_pending_order_items": ("item", "modif", "swap", "replac", "switch"),
        "return_delivered_order_items": ("return", "refund"),
        "exchange_delivered_order_items": ("exchang", "swap", "replac", "switch"),
    }
    tool_list = TOOLS
    rule_list = RULES  # the spec's R-rules; R6 is checked on conversations (trajectory policy)
    graph = API_GRAPH
    pattern_list = PATTERNS
    schemas = SCHEMAS

    def generate(self, seed: int, scale: float) -> Tables:
        return generate(seed, scale)

    def subject_context(self, env: Environment, subject_id: str) -> SubjectContext:
        """The user, their latest orders and the products those orders hold (each capped)."""
        user = env.state.get("users", subject_id)
        if user is None:
            return SubjectContext(subject_id)
        orders: dict[str, Record] = {}
        for order_id in user["orders"][-MAX_CONTEXT_ORDERS:]:
            order = env.state.get("orders", order_id)
            if order is not None:
                orders[order_id] = order
        products: dict[str, Record] = {}
        for order in orders.values():
            for item in order["items"]:
                product = env.state.get("products", item["product_id"])
                if product is not None and len(products) < MAX_CONTEXT_PRODUCTS:
                    products[item["product_id"]] = product
        records = {"user": user, "orders": orders, "products": products}
        return SubjectContext(subject_id, copy_json(records))
