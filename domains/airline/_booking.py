"""Booking task patterns: one way direct, one way with a stop, round trip with a split payment."""

from __future__ import annotations

import random

from domains.airline._tasks import (
    CABIN_WORDS,
    AirlinePattern,
    bookable,
    city,
    describe_method,
    describe_passenger,
    free_bags,
    hour,
    methods_of,
    start,
)
from domains.airline.records import CABINS, TODAY, Cabin, Money
from domains.airline.writes import BAG_PRICE, INSURANCE_PRICE
from domains.base import Task
from domains.environment import Environment
from domains.state import Record
from domains.task_draft import TaskDraft


def _party(rng: random.Random, user: Record) -> list[Record]:
    """The user and up to two of their saved passengers."""
    me = {**user["name"], "dob": user["dob"]}
    saved = user["saved_passengers"]
    return [me, *rng.sample(saved, rng.randint(0, min(2, len(saved))))]


def future_dates(flight: Record, latest: str = "2024-05-30") -> list[str]:
    """Bookable dates of a flight after the clock's date, up to `latest`."""
    return [
        day
        for day, record in flight["dates"].items()
        if TODAY < day <= latest and record["status"] == "available"
    ]


class _Booking:
    """The choices of a booking and the sentences describing them."""

    def __init__(self, rng: random.Random, user: Record, cabin: str, party: list[Record]) -> None:
        self.cabin = cabin
        self.party = party
        self.total_bags = rng.randint(0, len(party) + 1)
        self.nonfree = max(0, self.total_bags - free_bags(user, cabin, len(party)))
        self.insurance = rng.choice(("yes", "no"))

    def cost(self, prices: list[Money]) -> Money:
        """Fares for everyone, insurance and paid bags, summed as the booking tool does."""
        count = len(self.party)
        total: Money = 0
        for price in prices:
            total += price * count
        if self.insurance == "yes":
            total += INSURANCE_PRICE * count
        return total + BAG_PRICE * self.nonfree

    def goals(self) -> list[str]:
        """Who travels, in which cabin, with what bags and insurance."""
        others = [describe_passenger(p) for p in self.party[1:]]
        who = "for yourself" + (" and " + ", ".join(others) if others else " only")
        bags = f"{self.total_bags} checked bag{'s' if self.total_bags != 1 else ''} in total"
        wants = "want" if self.insurance == "yes" else "do not want"
        return [
            f"You travel {who}, in {CABIN_WORDS[self.cabin]}, with {bags}.",
            f"Your date of birth is {self.party[0]['dob']}. You {wants} travel insurance.",
        ]

    def call(
        self,
        draft: TaskDraft,
        route: tuple[str, str, str],
        legs: list[tuple[str, str]],
        payments: list[dict[str, Money | str]],
    ) -> None:
        """Append the booking action: `route` is origin, destination and flight type."""
        origin, destination, flight_type = route
        draft.call(
            "book_reservation",
            user_id=draft.user_id,
            origin=origin,
            destination=destination,
            flight_type=flight_type,
            cabin=self.cabin,
            flights=[{"flight_number": number, "date": day} for number, day in legs],
            passengers=[dict(p) for p in self.party],
            payment_methods=payments,
            total_baggages=self.total_bags,
            nonfree_baggages=self.nonfree,
            insurance=self.insurance,
        )


def _booking(
    rng: random.Random, env: Environment, user: Record, legs: list[tuple[str, str]]
) -> tuple[_Booking, list[Money]] | None:
    """A party and a cabin with enough seats on every leg, with the legs' fares; or None."""
    party = _party(rng, user)
    fares: dict[Cabin, list[Money]] = {}
    for cabin in CABINS:
        records = [bookable(env, number, day, cabin, len(party)) for number, day in legs]
        if all(record is not None for record in records):
            fares[cabin] = [record["prices"][cabin] for record in records if record is not None]
    if not fares:
        return None
    cabin = rng.choice(list(fares))
    return _Booking(rng, user, cabin, party), fares[cabin]


def _single_payment(rng: random.Random, user: Record, total: Money) -> str | None:
    """A credit card, or a gift card holding the total."""
    gifts = [
        key
        for key in methods_of(user, "gift_card")
        if user["payment_methods"][key]["amount"] >= total
    ]
    options = methods_of(user, "credit_card") + gifts
    return rng.choice(options) if options else None


def _unique_departure(results: list[Record], chosen: Record) -> bool:
    """No other search result leaves at the same time as `chosen`."""
    departure = chosen["scheduled_departure_time_est"]
    return sum(1 for r in results if r["scheduled_departure_time_est"] == departure) == 1


class BookDirectOneWay(AirlinePattern):
    """Book a one-way trip on a direct flight for the user and some saved passengers."""

    name = "book_direct_one_way"
    description = "book a one-way trip on a direct flight, paid with one method"
    write_tools = ("book_reservation",)
    ending = "act"

    def candidates(self, env: Environment) -> list[str]:
        """Every user."""
        return env.state.keys("users")

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """User details, direct search, booking."""
        user, draft = env.state.get("users", key), start(env, key)
        flight = rng.choice([flight for _, flight in env.state.items("flights")])
        dates = future_dates(flight)
        if user is None or draft is None or not dates:
            return None
        day = rng.choice(dates)
        search = {"origin": flight["origin"], "destination": flight["destination"], "date": day}
        results = env.fork().call("search_direct_flight", search).value or []
        chosen = next((r for r in results if r["flight_number"] == flight["flight_number"]), None)
        found = _booking(rng, env, user, [(flight["flight_number"], day)])
        if chosen is None or found is None or not _unique_departure(results, chosen):
            return None
        booking, fares = found
        total = booking.cost(fares)
        method_id = _single_payment(rng, user, total)
        if method_id is None:
            return None
        draft.goals.append(
            f"You want to book a one-way trip from {city(flight['origin'])} to "
            f"{city(flight['destination'])} on {day}, on the direct flight leaving at "
            f"{hour(chosen['scheduled_departure_time_est'])}."
        )
        draft.goals += booking.goals()
        draft.goals.append(f"You pay with {describe_method(user, method_id)}.")
        draft.call("search_direct_flight", **search)
        booking.call(
            draft,
            (flight["origin"], flight["destination"], "one_way"),
            [(flight["flight_number"], day)],
            [{"payment_id": method_id, "amount": total}],
        )
        return draft.task(rng)


class BookOneStopOneWay(AirlinePattern):
    """Book a one-way trip with one connection found by the one-stop search."""

    name = "book_one_stop_one_way"
    description = "book a one-way trip with a connection, paid with one method"
    write_tools = ("book_reservation",)
    ending = "act"

    def candidates(self, env: Environment) -> list[str]:
        """Every user."""
        return env.state.keys("users")

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """User details, one-stop search, booking of both legs."""
        user, draft = env.state.get("users", key), start(env, key)
        flights = [flight for _, flight in env.state.items("flights")]
        first = rng.choice(flights)
        onward = [
            f
            for f in flights
            if f["origin"] == first["destination"] and f["destination"] != first["origin"]
        ]
        dates = future_dates(first, "2024-05-29")
        if user is None or draft is None or not onward or not dates:
            return None
        search = {
            "origin": first["origin"],
            "destination": rng.choice(onward)["destination"],
            "date": rng.choice(dates),
        }
        pairs = env.fork().call("search_onestop_flight", search).value or []
        if not pairs:
            return None
        leg1, leg2 = rng.choice(pairs)
        legs = [(leg1["flight_number"], leg1["date"]), (leg2["flight_number"], leg2["date"])]
        found = _booking(rng, env, user, legs)
        same_start = [
            p
            for p in pairs
            if p[0]["scheduled_departure_time_est"] == leg1["scheduled_departure_time_est"]
            and p[0]["destination"] == leg1["destination"]
        ]
        if found is None or len(same_start) != 1:
            return None
        booking, fares = found
        total = booking.cost(fares)
        method_id = _single_payment(rng, user, total)
        if method_id is None:
            return None
        draft.goals.append(
            f"You want to book a one-way trip from {city(search['origin'])} to "
            f"{city(search['destination'])} leaving on {search['date']}, with one stop in "
            f"{city(leg1['destination'])}: the first flight leaves at "
            f"{hour(leg1['scheduled_departure_time_est'])}."
        )
        draft.goals += booking.goals()
        draft.goals.append(f"You pay with {describe_method(user, method_id)}.")
        draft.call("search_onestop_flight", **search)
        booking.call(
            draft,
            (search["origin"], search["destination"], "one_way"),
            legs,
            [{"payment_id": method_id, "amount": total}],
        )
        return draft.task(rng)


class BookRoundTripSplitPayment(AirlinePattern):
    """Book a direct round trip, paying with a whole gift card and a credit card for the rest."""

    name = "book_round_trip_split_payment"
    description = "book a direct round trip paid with a gift card's balance plus a credit card"
    write_tools = ("book_reservation",)
    ending = "act"

    def candidates(self, env: Environment) -> list[str]:
        """Users with a credit card and a gift card holding some money."""
        return [
            key
            for key, user in env.state.items("users")
            if methods_of(user, "credit_card")
            and any(user["payment_methods"][g]["amount"] > 0 for g in methods_of(user, "gift_card"))
        ]

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """User details, a direct search each way, booking with two payments."""
        user, draft = env.state.get("users", key), start(env, key)
        flight = rng.choice([flight for _, flight in env.state.items("flights")])
        dates = future_dates(flight, "2024-05-27")
        if user is None or draft is None or not dates:
            return None
        out_day = rng.choice(dates)
        back_day = f"2024-05-{int(out_day[-2:]) + rng.randint(1, 3):02d}"
        there = {"origin": flight["origin"], "destination": flight["destination"], "date": out_day}
        back = {"origin": flight["destination"], "destination": flight["origin"], "date": back_day}
        results = env.fork().call("search_direct_flight", there).value or []
        returns = env.fork().call("search_direct_flight", back).value or []
        going = next((r for r in results if r["flight_number"] == flight["flight_number"]), None)
        if going is None or not returns or not _unique_departure(results, going):
            return None
        coming = rng.choice(returns)
        legs = [(going["flight_number"], out_day), (coming["flight_number"], back_day)]
        found = _booking(rng, env, user, legs)
        if found is None or not _unique_departure(returns, coming):
            return None
        booking, fares = found
        total = booking.cost(fares)
        gifts = [
            g
            for g in methods_of(user, "gift_card")
            if 0 < user["payment_methods"][g]["amount"] < total
        ]
        if not gifts:
            return None
        gift = rng.choice(gifts)
        card = rng.choice(methods_of(user, "credit_card"))
        part: Money = user["payment_methods"][gift]["amount"]
        draft.goals.append(
            f"You want to book a round trip from {city(flight['origin'])} to "
            f"{city(flight['destination'])}: out on {out_day} on the direct flight leaving at "
            f"{hour(going['scheduled_departure_time_est'])}, back on {back_day} on the direct "
            f"flight leaving at {hour(coming['scheduled_departure_time_est'])}."
        )
        draft.goals += booking.goals()
        draft.goals.append(
            f"You want to use the whole balance of {describe_method(user, gift)} and pay the "
            f"rest with {describe_method(user, card)}."
        )
        draft.call("search_direct_flight", **there)
        draft.call("search_direct_flight", **back)
        payments: list[dict[str, Money | str]] = [
            {"payment_id": gift, "amount": part},
            {"payment_id": card, "amount": total - part},
        ]
        booking.call(draft, (flight["origin"], flight["destination"], "round_trip"), legs, payments)
        return draft.task(rng)
