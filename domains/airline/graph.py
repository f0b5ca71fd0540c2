"""The airline API dependency graph: which tool's outputs feed which tool's inputs (spec §4)."""

from __future__ import annotations

from typing import Final

from domains.base import ApiGraph

_EDGES: Final = (
    ("get_user_details", "get_reservation_details"),
    ("get_user_details", "book_reservation"),
    ("list_all_airports", "search_direct_flight"),
    ("list_all_airports", "search_onestop_flight"),
    ("search_direct_flight", "book_reservation"),
    ("search_onestop_flight", "book_reservation"),
    ("search_direct_flight", "update_reservation_flights"),
    ("search_onestop_flight", "update_reservation_flights"),
    ("get_reservation_details", "update_reservation_flights"),
    ("get_reservation_details", "update_reservation_baggages"),
    ("get_reservation_details", "update_reservation_passengers"),
    ("get_reservation_details", "cancel_reservation"),
    ("get_reservation_details", "send_certificate"),
    ("get_reservation_details", "search_direct_flight"),
)
# "any -> calculate": every other tool's numbers can feed a calculation.
_FEED_CALCULATE: Final = (
    "get_user_details",
    "get_reservation_details",
    "list_all_airports",
    "search_direct_flight",
    "search_onestop_flight",
    "book_reservation",
    "cancel_reservation",
    "update_reservation_baggages",
    "update_reservation_flights",
    "update_reservation_passengers",
    "send_certificate",
    "think",
    "transfer_to_human_agents",
)

API_GRAPH: Final = ApiGraph(_EDGES + tuple((name, "calculate") for name in _FEED_CALCULATE))
