"""Small hand-built airline data in the tau-bench format: 3 users, 8 flights, 5 reservations.

Ann Lee (ann_lee_1001, gold) holds a visa card, a gift card with 200 and a certificate of
250; her reservations: AAA111 (one way JFK-ORD, economy, 2 passengers, insured, HAT001 on
05-20 at 150) and BBB222 (round trip JFK-ORD, business, 1 passenger, booked 5 hours ago,
HAT001 05-20 kept at 420 while the fare is now 400, HAT002 05-25 at 380).
Bob Ng (bob_ng_2002, regular): CCC333 (round trip ORD-JFK, economy, first leg landed on 05-14)
and DDD444 (one way JFK-ORD, basic economy, HAT001 on 05-14 cancelled by the airline).
Cara Diaz (cara_diaz_3003, silver) already holds certificates 3221322 and 3221323; EEE555
(one way JFK-ORD, economy, 2 passengers) is on HAT001 today, which is delayed.

Flights: HAT001 JFK-ORD 08:00-10:00; HAT002 ORD-JFK 18:00-20:00; HAT003 JFK-LAX;
HAT004 ORD-LAX 11:00 (connects after HAT001); HAT005 ORD-LAX 09:30 (leaves before HAT001
lands); HAT006 JFK-DEN 22:00-01:00+1; HAT007 DEN-LAX 07:00 (05-20 fare 70, 05-21 fare 75);
HAT008 DEN-SFO with a record on 05-21 only.
"""

from __future__ import annotations

from typing import Any

from domains.airline import AirlineDomain
from domains.environment import Environment, ToolResult
from domains.state import State, Tables

ANN, BOB, CARA = "ann_lee_1001", "bob_ng_2002", "cara_diaz_3003"
ANN_CARD, ANN_GIFT, ANN_CERT = "credit_card_1000001", "gift_card_1000002", "certificate_1000003"
BOB_CARD, BOB_GIFT, BOB_CERT = "credit_card_2000001", "gift_card_2000002", "certificate_2000003"
CARA_CARD = "credit_card_3000001"
ANN_ME = {"first_name": "Ann", "last_name": "Lee", "dob": "1985-05-05"}
BEN = {"first_name": "Ben", "last_name": "Lee", "dob": "2010-02-02"}
BOB_ME = {"first_name": "Bob", "last_name": "Ng", "dob": "1970-07-07"}
CARA_ME = {"first_name": "Cara", "last_name": "Diaz", "dob": "1992-09-09"}
DAN = {"first_name": "Dan", "last_name": "Diaz", "dob": "1990-01-01"}


def available(seats: tuple[int, int, int], prices: tuple[int, int, int]) -> dict[str, Any]:
    """A bookable date record: seats and prices per cabin (basic economy, economy, business)."""
    cabins = ("basic_economy", "economy", "business")
    return {
        "status": "available",
        "available_seats": dict(zip(cabins, seats, strict=True)),
        "prices": dict(zip(cabins, prices, strict=True)),
    }


def _flight(
    number: str, route: str, times: str, dates: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    origin, destination = route.split("-")
    departure, arrival = times.split(" ")
    return number, {
        "flight_number": number,
        "origin": origin,
        "destination": destination,
        "scheduled_departure_time_est": departure,
        "scheduled_arrival_time_est": arrival,
        "dates": dates,
    }


def _flights() -> dict[str, Any]:
    landed = {
        "status": "landed",
        "actual_departure_time_est": "2024-05-14T18:05:00",
        "actual_arrival_time_est": "2024-05-14T20:01:00",
    }
    delayed = {
        "status": "delayed",
        "estimated_departure_time_est": "2024-05-15T17:00:00",
        "estimated_arrival_time_est": "2024-05-15T19:00:00",
    }
    return dict(
        [
            _flight(
                "HAT001",
                "JFK-ORD",
                "08:00:00 10:00:00",
                {
                    "2024-05-14": {"status": "cancelled"},
                    "2024-05-15": delayed,
                    "2024-05-20": available((5, 3, 2), (80, 150, 400)),
                    "2024-05-21": available((9, 9, 9), (90, 160, 450)),
                    "2024-05-22": {"status": "cancelled"},
                },
            ),
            _flight(
                "HAT002",
                "ORD-JFK",
                "18:00:00 20:00:00",
                {
                    "2024-05-14": landed,
                    "2024-05-21": available((9, 1, 9), (70, 110, 350)),
                    "2024-05-25": available((9, 9, 9), (70, 120, 380)),
                },
            ),
            _flight(
                "HAT003",
                "JFK-LAX",
                "09:00:00 12:00:00",
                {"2024-05-20": available((9, 9, 9), (100, 200, 600))},
            ),
            _flight(
                "HAT004",
                "ORD-LAX",
                "11:00:00 13:00:00",
                {"2024-05-20": available((9, 9, 9), (60, 110, 300))},
            ),
            _flight(
                "HAT005",
                "ORD-LAX",
                "09:30:00 11:30:00",
                {"2024-05-20": available((9, 9, 9), (65, 115, 310))},
            ),
            _flight(
                "HAT006",
                "JFK-DEN",
                "22:00:00 01:00:00+1",
                {
                    "2024-05-08": available((9, 9, 9), (90, 190, 500)),
                    "2024-05-20": available((9, 9, 9), (95, 195, 505)),
                },
            ),
            _flight(
                "HAT007",
                "DEN-LAX",
                "07:00:00 09:00:00",
                {
                    "2024-05-09": available((9, 9, 9), (70, 130, 330)),
                    "2024-05-20": available((9, 9, 9), (70, 130, 330)),
                    "2024-05-21": available((8, 8, 8), (75, 135, 335)),
                },
            ),
            _flight(
                "HAT008",
                "DEN-SFO",
                "08:00:00 10:00:00",
                {"2024-05-21": available((9, 9, 9), (50, 100, 200))},
            ),
        ]
    )


def _address(address1: str, city: str, state: str, zip_code: str) -> dict[str, str]:
    return {
        "address1": address1,
        "address2": "Suite 100",
        "city": city,
        "country": "USA",
        "state": state,
        "zip": zip_code,
    }


def _card(method_id: str, last_four: str) -> dict[str, Any]:
    return {"source": "credit_card", "brand": "visa", "last_four": last_four, "id": method_id}


def _balance(method_id: str, amount: int) -> dict[str, Any]:
    source = method_id.rsplit("_", 1)[0]
    return {"source": source, "amount": amount, "id": method_id}


def _user(
    me: dict[str, str], email: str, methods: list[dict[str, Any]], membership: str, **rest: Any
) -> dict[str, Any]:
    return {
        "name": {"first_name": me["first_name"], "last_name": me["last_name"]},
        "address": rest["address"],
        "email": email,
        "dob": me["dob"],
        "payment_methods": {method["id"]: method for method in methods},
        "saved_passengers": rest.get("saved", []),
        "membership": membership,
        "reservations": rest["reservations"],
    }


def _users() -> dict[str, Any]:
    return {
        ANN: _user(
            ANN_ME,
            "ann.lee@example.com",
            [_card(ANN_CARD, "1234"), _balance(ANN_GIFT, 200), _balance(ANN_CERT, 250)],
            "gold",
            address=_address("1 Main Street", "New York", "NY", "10001"),
            saved=[dict(BEN)],
            reservations=["AAA111", "BBB222"],
        ),
        BOB: _user(
            BOB_ME,
            "bob.ng@example.com",
            [_card(BOB_CARD, "5678"), _balance(BOB_GIFT, 10), _balance(BOB_CERT, 100)],
            "regular",
            address=_address("2 Elm Street", "Chicago", "IL", "60601"),
            reservations=["CCC333", "DDD444"],
        ),
        CARA: _user(
            CARA_ME,
            "cara.diaz@example.com",
            [
                _card(CARA_CARD, "9999"),
                _balance("certificate_3221322", 50),
                _balance("certificate_3221323", 50),
            ],
            "silver",
            address=_address("3 Oak Street", "Denver", "CO", "80202"),
            saved=[dict(DAN)],
            reservations=["EEE555"],
        ),
    }


def segment(number: str, route: str, day: str, price: int) -> dict[str, Any]:
    """A reservation's flight entry in the data files' key order."""
    origin, destination = route.split("-")
    return {
        "origin": origin,
        "destination": destination,
        "flight_number": number,
        "date": day,
        "price": price,
    }


def _reservation(key: str, user_id: str, trip: str, cabin: str, **rest: Any) -> dict[str, Any]:
    flight_type, route = trip.split(" ")
    origin, destination = route.split("-")
    return {
        "reservation_id": key,
        "user_id": user_id,
        "origin": origin,
        "destination": destination,
        "flight_type": flight_type,
        "cabin": cabin,
        "flights": rest["flights"],
        "passengers": rest["passengers"],
        "payment_history": rest["paid"],
        "created_at": rest["created_at"],
        "total_baggages": rest.get("bags", (0, 0))[0],
        "nonfree_baggages": rest.get("bags", (0, 0))[1],
        "insurance": rest.get("insurance", "no"),
    }


def _reservations() -> dict[str, Any]:
    rows = [
        _reservation(
            "AAA111",
            ANN,
            "one_way JFK-ORD",
            "economy",
            flights=[segment("HAT001", "JFK-ORD", "2024-05-20", 150)],
            passengers=[dict(ANN_ME), dict(BEN)],
            paid=[{"payment_id": ANN_CARD, "amount": 360}],
            created_at="2024-05-10T10:00:00",
            bags=(2, 0),
            insurance="yes",
        ),
        _reservation(
            "BBB222",
            ANN,
            "round_trip JFK-ORD",
            "business",
            flights=[
                segment("HAT001", "JFK-ORD", "2024-05-20", 420),
                segment("HAT002", "ORD-JFK", "2024-05-25", 380),
            ],
            passengers=[dict(ANN_ME)],
            paid=[{"payment_id": ANN_GIFT, "amount": 800}],
            created_at="2024-05-15T10:00:00",
            bags=(1, 0),
        ),
        _reservation(
            "CCC333",
            BOB,
            "round_trip ORD-JFK",
            "economy",
            flights=[
                segment("HAT002", "ORD-JFK", "2024-05-14", 120),
                segment("HAT001", "JFK-ORD", "2024-05-20", 150),
            ],
            passengers=[dict(BOB_ME)],
            paid=[{"payment_id": BOB_CARD, "amount": 270}],
            created_at="2024-05-01T08:00:00",
            bags=(1, 0),
        ),
        _reservation(
            "DDD444",
            BOB,
            "one_way JFK-ORD",
            "basic_economy",
            flights=[segment("HAT001", "JFK-ORD", "2024-05-14", 80)],
            passengers=[dict(BOB_ME)],
            paid=[{"payment_id": BOB_CARD, "amount": 80}],
            created_at="2024-05-01T09:00:00",
        ),
        _reservation(
            "EEE555",
            CARA,
            "one_way JFK-ORD",
            "economy",
            flights=[segment("HAT001", "JFK-ORD", "2024-05-15", 150)],
            passengers=[dict(CARA_ME), dict(DAN)],
            paid=[{"payment_id": CARA_CARD, "amount": 300}],
            created_at="2024-05-02T12:00:00",
        ),
    ]
    return {row["reservation_id"]: row for row in rows}


def airline_tables() -> Tables:
    """Fresh fixture tables (a new copy each call)."""
    return {"users": _users(), "flights": _flights(), "reservations": _reservations()}


def airline_env() -> Environment:
    """A base environment over the fixture tables (fork it to act)."""
    return Environment(AirlineDomain(), State.from_tables(airline_tables()))


def call(env: Environment, name: str, **kwargs: Any) -> ToolResult:
    """Call a tool with keyword arguments."""
    return env.call(name, kwargs)


def record(env: Environment, table: str, key: str) -> dict[str, Any]:
    """A record that must exist."""
    found = env.state.get(table, key)
    assert found is not None
    return found


def assert_error(env: Environment, result: ToolResult, message: str) -> None:
    """The call failed with exactly this message and changed nothing."""
    assert (result.ok, result.output) == (False, f"Error: {message}")
    assert env.diff() == []
