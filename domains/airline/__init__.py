"""The airline domain (tau-bench compatible): users, flights and reservations of an airline."""

from __future__ import annotations

from typing import Any, Final

from domains.airline.generator import generate
from domains.airline.graph import API_GRAPH
from domains.airline.patterns import PATTERNS
from domains.airline.reads import (
    get_reservation_details,
    get_user_details,
    list_all_airports,
    search_direct_flight,
    search_onestop_flight,
)
from domains.airline.records import SCHEMAS
from domains.airline.rules import RULES
from domains.airline.writes import (
    book_reservation,
    cancel_reservation,
    send_certificate,
    update_reservation_baggages,
    update_reservation_flights,
    update_reservation_passengers,
)
from domains.base import SubjectContext
from domains.common_tools import calculate, think, transfer_to_human_agents
from domains.environment import Environment
from domains.packaged import PackagedDomain
from domains.state import Record, Tables, copy_json
from domains.tools import Tool

__all__ = ["TOOLS", "AirlineDomain"]

TOOLS: Final[tuple[Tool[Any], ...]] = (
    get_user_details,
    get_reservation_details,
    list_all_airports,
    search_direct_flight,
    search_onestop_flight,
    calculate,
    book_reservation,
    cancel_reservation,
    update_reservation_baggages,
    update_reservation_flights,
    update_reservation_passengers,
    send_certificate,
    think,
    transfer_to_human_agents,
)
MAX_CONTEXT_RESERVATIONS: Final = 10


class AirlineDomain(PackagedDomain):
    """An airline: book, change and cancel reservations under a fare and refund policy."""

    name = "airline"

    package = __name__
    write_vocabulary = {
        "book_reservation": ("book", "reserv"),
        "cancel_reservation": ("cancel",),
        "update_reservation_baggages": ("bag", "luggage"),
        "update_reservation_flights": ("flight", "cabin", "upgrad", "downgrad", "resched"),
        "update_reservation_passengers": ("passenger", "travel", "name"),
        "send_certificate": ("certificate", "compensat", "voucher"),
    }
    tool_list = TOOLS
    rule_list = RULES  # the spec's A-rules; A7 is checked on conversations (trajectory policy)
    graph = API_GRAPH
    pattern_list = PATTERNS
    schemas = SCHEMAS

    def generate(self, seed: int, scale: float) -> Tables:
        return generate(seed, scale)

    def subject_context(self, env: Environment, subject_id: str) -> SubjectContext:
        """The user, their latest reservations, and those flights' records on the dates flown."""
        user = env.state.get("users", subject_id)
        if user is None:
            return SubjectContext(subject_id)
        reservations: dict[str, Record] = {}
        for reservation_id in user["reservations"][-MAX_CONTEXT_RESERVATIONS:]:
            reservation = env.state.get("reservations", reservation_id)
            if reservation is not None:
                reservations[reservation_id] = reservation
        flights: dict[str, Record] = {}
        for reservation in reservations.values():
            for segment in reservation["flights"]:
                flight = env.state.get("flights", segment["flight_number"])
                if flight is None or segment["date"] not in flight["dates"]:
                    continue
                entry = flights.setdefault(
                    segment["flight_number"],
                    {**{k: v for k, v in flight.items() if k != "dates"}, "dates": {}},
                )
                entry["dates"][segment["date"]] = flight["dates"][segment["date"]]
        records = {"user": user, "reservations": reservations, "flights": flights}
        return SubjectContext(subject_id, copy_json(records))
