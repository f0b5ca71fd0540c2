"""The retail API dependency graph: which tool's outputs feed which tool's inputs (spec §4)."""

from __future__ import annotations

from domains.base import ApiGraph

API_GRAPH = ApiGraph(
    (
        ("find_user_id_by_email", "get_user_details"),
        ("find_user_id_by_name_zip", "get_user_details"),
        ("get_user_details", "get_order_details"),
        ("get_user_details", "modify_user_address"),
        ("get_user_details", "modify_pending_order_payment"),
        ("get_order_details", "get_product_details"),
        ("get_order_details", "cancel_pending_order"),
        ("get_order_details", "modify_pending_order_address"),
        ("get_order_details", "modify_pending_order_payment"),
        ("get_order_details", "return_delivered_order_items"),
        ("get_product_details", "modify_pending_order_items"),
        ("get_product_details", "exchange_delivered_order_items"),
        ("list_all_product_types", "get_product_details"),
        ("get_order_details", "calculate"),
    )
)
