"""Seeded synthetic airline data in the tau-bench format, at the spec's scale by default.

Flights fly daily on 2024-05-01..30: past dates landed (a few cancelled), the clock's date
landed, flying, on time, delayed or cancelled by the hour, later dates bookable. Only
`random.Random(seed)` is used, so the same seed and scale give the same tables.
"""

from __future__ import annotations

import random
import string
from datetime import date, datetime, timedelta
from typing import Final

from domains.airline._catalog import (
    CARD_BRANDS,
    CERTIFICATE_AMOUNTS,
    CITIES,
    EMAIL_DOMAIN,
    FIRST_NAMES,
    LAST_NAMES,
    STREETS,
)
from domains.airline.reads import AIRPORTS
from domains.airline.records import CABINS, CLOCK, CLOCK_TEXT, FREE_BAGS, TODAY
from domains.airline.writes import CERTIFICATE_IDS, NEW_RESERVATION_IDS
from domains.state import Record, Tables

USERS: Final = 500
ROUTES: Final = 150  # each flown both ways: 300 flights
RESERVATIONS: Final = 2000
DATES: Final = tuple(f"2024-05-{day:02d}" for day in range(1, 31))
PRICE_RANGES: Final = {"basic_economy": (50, 99), "economy": (100, 199), "business": (200, 1999)}
CANCELLED_SHARE: Final = 0.04
RECENT_SHARE: Final = 0.12
_ID_CHARACTERS: Final = string.ascii_uppercase + string.digits
_TIME: Final = "%Y-%m-%dT%H:%M:%S"


def _scaled(count: int, scale: float) -> int:
    return max(1, round(count * scale))


def shift(day: str, days: int) -> str:
    """The ISO date `days` after `day`."""
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


class _Ids:
    """Unique random ids: payment method digits and reservation codes never collide."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._used: set[str] = {*NEW_RESERVATION_IDS, *CERTIFICATE_IDS}

    def _fresh(self, candidate: str) -> bool:
        if candidate in self._used:
            return False
        self._used.add(candidate)
        return True

    def method(self, source: str) -> str:
        while True:
            candidate = f"{source}_{self._rng.randrange(1_000_000, 10_000_000)}"
            if self._fresh(candidate):
                return candidate

    def reservation(self) -> str:
        while True:
            candidate = "".join(self._rng.choices(_ID_CHARACTERS, k=6))
            if self._fresh(candidate):
                return candidate


def _cabin_price(rng: random.Random, cabin: str) -> int:
    """A fare in the cabin's range: business > economy > basic economy, always."""
    lowest, highest = PRICE_RANGES[cabin]
    return rng.randint(lowest, highest)


def _clock_time(day: str, time: str, minutes: int = 0) -> str:
    """`day` at a scheduled `HH:MM:SS[+1]` time, shifted by `minutes`, as an ISO datetime."""
    moment = datetime.fromisoformat(f"{day}T{time[:8]}") + timedelta(minutes=minutes)
    if time.endswith("+1"):
        moment += timedelta(days=1)
    return moment.strftime(_TIME)


def _date_record(rng: random.Random, flight: Record, day: str) -> Record:
    departure = flight["scheduled_departure_time_est"]
    arrival = flight["scheduled_arrival_time_est"]
    if day > TODAY:
        return {
            "status": "available",
            "available_seats": {cabin: rng.randint(0, 20) for cabin in CABINS},
            "prices": {cabin: _cabin_price(rng, cabin) for cabin in CABINS},
        }
    departed = day < TODAY or departure < CLOCK.strftime("%H:%M:%S")
    roll = rng.random()
    if roll < (0.03 if departed else 0.1):
        return {"status": "cancelled"}
    drift = rng.randint(-10, 40)
    if departed:
        actual_departure = _clock_time(day, departure, drift)
        actual_arrival = _clock_time(day, arrival, drift + rng.randint(-15, 15))
        if actual_arrival > CLOCK_TEXT:
            return {
                "status": "flying",
                "actual_departure_time_est": actual_departure,
                "estimated_arrival_time_est": actual_arrival,
            }
        return {
            "status": "landed",
            "actual_departure_time_est": actual_departure,
            "actual_arrival_time_est": actual_arrival,
        }
    delay = rng.randint(30, 240) if roll < 0.45 else 0
    return {
        "status": "delayed" if delay else "on time",
        "estimated_departure_time_est": _clock_time(day, departure, delay),
        "estimated_arrival_time_est": _clock_time(day, arrival, delay),
    }


def _schedule(rng: random.Random) -> tuple[str, str]:
    """A departure and arrival time; arrivals after midnight carry `+1`."""
    start = rng.randint(0, 23) * 60 + rng.choice((0, 30))
    end = start + rng.randint(2, 12) * 30
    arrival = f"{end // 60 % 24:02d}:{end % 60:02d}:00" + ("+1" if end >= 24 * 60 else "")
    return f"{start // 60:02d}:{start % 60:02d}:00", arrival


def _flights(rng: random.Random, routes: int) -> dict[str, Record]:
    airports = list(AIRPORTS)
    pairs = [(a, b) for i, a in enumerate(airports) for b in airports[i + 1 :]]
    chosen = rng.sample(pairs, min(routes, len(pairs)))
    numbers = rng.sample(range(1, 2 * len(chosen) + 1), 2 * len(chosen))
    flights: dict[str, Record] = {}
    for index, (a, b) in enumerate(chosen):
        for offset, (origin, destination) in enumerate(((a, b), (b, a))):
            number = f"HAT{numbers[2 * index + offset]:03d}"
            departure, arrival = _schedule(rng)
            flight: Record = {
                "flight_number": number,
                "origin": origin,
                "destination": destination,
                "scheduled_departure_time_est": departure,
                "scheduled_arrival_time_est": arrival,
                "dates": {},
            }
            flight["dates"] = {day: _date_record(rng, flight, day) for day in DATES}
            flights[number] = flight
    return dict(sorted(flights.items()))


def _person(rng: random.Random) -> Record:
    birth = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 20_000))
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    return {"first_name": first, "last_name": last, "dob": birth.isoformat()}


def _address(rng: random.Random) -> Record:
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
    sources = ["credit_card"] * rng.choice((0, 1, 1, 2)) + ["gift_card"] * rng.choice((0, 0, 1, 2))
    sources += ["certificate"] * rng.choice((0, 0, 1, 2))
    if "credit_card" not in sources and "gift_card" not in sources:
        sources.append("credit_card")
    rng.shuffle(sources)
    methods: dict[str, Record] = {}
    for source in sources:
        method_id = ids.method(source)
        if source == "credit_card":
            methods[method_id] = {
                "source": source,
                "brand": rng.choice(CARD_BRANDS),
                "last_four": f"{rng.randint(0, 9999):04d}",
                "id": method_id,
            }
        else:
            amount = (
                rng.randint(0, 300) if source == "gift_card" else rng.choice(CERTIFICATE_AMOUNTS)
            )
            methods[method_id] = {"source": source, "amount": amount, "id": method_id}
    return methods


def _users(rng: random.Random, ids: _Ids, count: int) -> dict[str, Record]:
    users: dict[str, Record] = {}
    while len(users) < count:
        person = _person(rng)
        first, last = person["first_name"], person["last_name"]
        user_id = f"{first.lower()}_{last.lower()}_{rng.randint(1000, 9999)}"
        if user_id in users:
            continue
        users[user_id] = {
            "name": {"first_name": first, "last_name": last},
            "address": _address(rng),
            "email": f"{first.lower()}.{last.lower()}{rng.randint(1000, 9999)}@{EMAIL_DOMAIN}",
            "dob": person["dob"],
            "payment_methods": _payment_methods(rng, ids),
            "saved_passengers": [_person(rng) for _ in range(rng.choice((0, 1, 1, 2, 3)))],
            "membership": rng.choices(("regular", "silver", "gold"), weights=(4, 3, 3))[0],
            "reservations": [],
        }
    return users


class _Network:
    """Flights by origin, to draw direct and one-stop itineraries that the searches would find."""

    def __init__(self, flights: dict[str, Record]) -> None:
        self.flights = flights
        self.by_origin: dict[str, list[Record]] = {}
        for flight in flights.values():
            self.by_origin.setdefault(flight["origin"], []).append(flight)

    def connections(self, first: Record, avoid: str) -> list[Record]:
        """Second legs after `first` under the one-stop search's time rule, not back to `avoid`."""
        arrival = first["scheduled_arrival_time_est"]
        return [
            second
            for second in self.by_origin.get(first["destination"], [])
            if second["destination"] != avoid and arrival <= second["scheduled_departure_time_est"]
        ]

    def legs(self, rng: random.Random, first: Record, day: str) -> list[tuple[Record, str]]:
        """`first` on `day`, sometimes followed by a connection (the next day after `+1`)."""
        onward = self.connections(first, first["origin"])
        second_day = shift(day, 1) if "+1" in first["scheduled_arrival_time_est"] else day
        if onward and rng.random() < 0.4 and second_day in DATES:
            return [(first, day), (rng.choice(onward), second_day)]
        return [(first, day)]

    def route(
        self, rng: random.Random, origin: str, destination: str, day: str
    ) -> list[tuple[Record, str]] | None:
        """A direct or one-stop itinerary from origin to destination leaving on `day`."""
        options: list[list[tuple[Record, str]]] = []
        for first in self.by_origin.get(origin, []):
            if first["destination"] == destination:
                options.append([(first, day)])
                continue
            second_day = shift(day, 1) if "+1" in first["scheduled_arrival_time_est"] else day
            for second in self.connections(first, origin):
                if second["destination"] == destination and second_day in DATES:
                    options.append([(first, day), (second, second_day)])
        return rng.choice(options) if options else None


def _segment(rng: random.Random, flight: Record, day: str, cabin: str) -> Record:
    """A reservation's flight entry (tau-bench key order), priced from the date when bookable."""
    record = flight["dates"][day]
    price = record["prices"][cabin] if record["status"] == "available" else _cabin_price(rng, cabin)
    return {
        "origin": flight["origin"],
        "destination": flight["destination"],
        "flight_number": flight["flight_number"],
        "date": day,
        "price": price,
    }


def _itinerary(rng: random.Random, network: _Network) -> tuple[str, str, list[tuple[Record, str]]]:
    """Trip type, destination and legs: outbound, and for round trips a return days later."""
    while True:
        first = rng.choice(list(network.flights.values()))
        outbound = network.legs(rng, first, rng.choice(DATES[:-1]))
        origin, destination = first["origin"], outbound[-1][0]["destination"]
        if rng.random() < 0.5:
            return "one_way", destination, outbound
        back_day = shift(outbound[-1][1], rng.randint(1, 7))
        if back_day in DATES:
            back = network.route(rng, destination, origin, back_day)
            if back is not None:
                return "round_trip", destination, outbound + back


def _created_at(rng: random.Random, first_day: str) -> str:
    """A booking time before the clock: within the last 24 hours for some future trips."""
    if first_day >= TODAY and rng.random() < RECENT_SHARE:
        return (CLOCK - timedelta(minutes=rng.randint(5, 23 * 60))).strftime(_TIME)
    latest = min(CLOCK - timedelta(hours=25), datetime.fromisoformat(first_day))
    return (latest - timedelta(seconds=rng.randrange(0, 14 * 86_400))).strftime(_TIME)


def _payments(rng: random.Random, user: Record, cost: int) -> list[Record]:
    """One payment of the cost, or a gift card part and a credit card part."""
    methods = user["payment_methods"]
    cards = [key for key, m in methods.items() if m["source"] == "credit_card"]
    gifts = [key for key, m in methods.items() if m["source"] == "gift_card"]
    if cards and gifts and cost > 1 and rng.random() < 0.2:
        part = rng.randint(1, cost - 1)
        return [
            {"payment_id": rng.choice(gifts), "amount": part},
            {"payment_id": rng.choice(cards), "amount": cost - part},
        ]
    return [{"payment_id": rng.choice(cards + gifts), "amount": cost}]


def _reservation(
    rng: random.Random, ids: _Ids, user_id: str, user: Record, network: _Network
) -> Record:
    flight_type, destination, legs = _itinerary(rng, network)
    cabin = rng.choice(CABINS)
    count = rng.choices((1, 2, 3, 4, 5), weights=(40, 30, 18, 8, 4))[0]
    me = {"first_name": user["name"]["first_name"], "last_name": user["name"]["last_name"]}
    people = [{**me, "dob": user["dob"]}] if rng.random() < 0.8 else []
    people += user["saved_passengers"]
    while len(people) < count:
        people.append(_person(rng))
    segments = [_segment(rng, flight, day, cabin) for flight, day in legs]
    insurance = "yes" if rng.random() < 0.4 else "no"
    total_bags = rng.randint(0, 2 * count)
    nonfree = max(0, total_bags - FREE_BAGS[user["membership"]][cabin] * count)
    cost = sum(segment["price"] for segment in segments) * count + 50 * nonfree
    cost += 30 * count if insurance == "yes" else 0
    reservation: Record = {
        "reservation_id": ids.reservation(),
        "user_id": user_id,
        "origin": legs[0][0]["origin"],
        "destination": destination,
        "flight_type": flight_type,
        "cabin": cabin,
        "flights": segments,
        "passengers": [dict(person) for person in people[:count]],
        "payment_history": _payments(rng, user, cost),
        "created_at": _created_at(rng, legs[0][1]),
        "total_baggages": total_bags,
        "nonfree_baggages": nonfree,
        "insurance": insurance,
    }
    if rng.random() < CANCELLED_SHARE:
        refunds = [{**p, "amount": -p["amount"]} for p in reservation["payment_history"]]
        reservation["payment_history"].extend(refunds)
        reservation["status"] = "cancelled"
    return reservation


def generate(seed: int = 0, scale: float = 1.0) -> Tables:
    """Users, flights and reservations: 500 / 300 / 2,000 at scale 1."""
    rng = random.Random(seed)
    ids = _Ids(rng)
    network = _Network(_flights(rng, max(2, round(ROUTES * scale))))
    users = _users(rng, ids, _scaled(USERS, scale))
    user_ids = list(users)
    reservations: dict[str, Record] = {}
    for index in range(_scaled(RESERVATIONS, scale)):
        user_id = user_ids[index] if index < len(user_ids) else rng.choice(user_ids)
        reservation = _reservation(rng, ids, user_id, users[user_id], network)
        reservations[reservation["reservation_id"]] = reservation
        users[user_id]["reservations"].append(reservation["reservation_id"])
    return {"users": users, "flights": network.flights, "reservations": reservations}
