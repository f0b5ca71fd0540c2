"""The airline tools that only read: profiles, reservations, airports, flight search, helpers."""

from __future__ import annotations

from typing import Final

from pydantic import Field

from domains.airline._checks import (
    copy_record,
    flight_fields,
    reservation_record,
    user_record,
)
from domains.state import Record, State, copy_json
from domains.tools import NoArgs, ToolArgs, tool
from runtime.errors import ToolError

AIRPORTS: Final = {
    "SFO": "San Francisco",
    "JFK": "New York",
    "LAX": "Los Angeles",
    "ORD": "Chicago",
    "DFW": "Dallas",
    "DEN": "Denver",
    "SEA": "Seattle",
    "ATL": "Atlanta",
    "MIA": "Miami",
    "BOS": "Boston",
    "PHX": "Phoenix",
    "IAH": "Houston",
    "LAS": "Las Vegas",
    "MCO": "Orlando",
    "EWR": "Newark",
    "CLT": "Charlotte",
    "MSP": "Minneapolis",
    "DTW": "Detroit",
    "PHL": "Philadelphia",
    "LGA": "LaGuardia",
}
_DATE = "The date of the flight in the format 'YYYY-MM-DD', such as '2024-05-01'."


class UserIdArgs(ToolArgs):
    user_id: str = Field(description="The user id, such as 'sara_doe_496'.")


class ReservationIdArgs(ToolArgs):
    reservation_id: str = Field(description="The reservation id, such as '8JX2WO'.")


class SearchArgs(ToolArgs):
    origin: str = Field(description="The origin city airport in three letters, such as 'JFK'.")
    destination: str = Field(
        description="The destination city airport in three letters, such as 'LAX'."
    )
    date: str = Field(description=_DATE)


@tool()
def get_user_details(state: State, args: UserIdArgs) -> Record:
    """Get the details of a user: profile, payment methods, saved passengers, reservations."""
    return copy_record(user_record(state, args.user_id))


@tool()
def get_reservation_details(state: State, args: ReservationIdArgs) -> Record:
    """Get the details of a reservation: flights, passengers, payments, baggage, insurance."""
    return copy_record(reservation_record(state, args.reservation_id))


@tool()
def list_all_airports(state: State, args: NoArgs) -> dict[str, str]:
    """List all airports (IATA code) and their cities."""
    return dict(AIRPORTS)


def _with_date_record(flight: Record, record: Record) -> Record:
    """The flight's fields without `dates`, merged with one date's record."""
    merged = flight_fields(flight)
    merged.update(copy_json(record))
    return merged


@tool()
def search_direct_flight(state: State, args: SearchArgs) -> list[Record]:
    """Search direct flights between two cities on a specific date."""
    found = []
    for _, flight in state.items("flights"):
        if flight["origin"] != args.origin or flight["destination"] != args.destination:
            continue
        record = flight["dates"].get(args.date)
        if record is not None and record["status"] == "available":
            found.append(_with_date_record(flight, record))
    return found


def _next_day(date: str) -> str:
    """`2024-05-` and the day number plus one, unpadded: the tau-bench rule, kept as it is."""
    try:
        day = int(date[-2:])
    except ValueError as exc:
        raise ToolError(f"invalid date {date!r}") from exc
    return f"2024-05-{day + 1}"


@tool()
def search_onestop_flight(state: State, args: SearchArgs) -> list[list[Record]]:
    """Search one-stop flights between two cities, leaving on a specific date.

    The second leg leaves the next day when the first one arrives after midnight.
    """
    flights = [flight for _, flight in state.items("flights")]
    found = []
    for first in flights:
        if first["origin"] != args.origin:
            continue
        for second in flights:
            if (
                second["destination"] != args.destination
                or first["destination"] != second["origin"]
            ):
                continue
            arrival = first["scheduled_arrival_time_est"]
            second_date = _next_day(args.date) if "+1" in arrival else args.date
            if arrival > second["scheduled_departure_time_est"]:
                continue
            first_record = first["dates"].get(args.date)
            second_record = second["dates"].get(second_date)
            if first_record is None or second_record is None:
                continue
            if first_record["status"] != "available" or second_record["status"] != "available":
                continue
            shown = second["dates"].get(args.date)
            if shown is None:
                raise ToolError(f"flight {second['flight_number']} has no record on {args.date}")
            leg1 = {**_with_date_record(first, first_record), "date": args.date}
            leg2 = {**_with_date_record(second, shown), "date": second_date}
            found.append([leg1, leg2])
    return found
