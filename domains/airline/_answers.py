"""Patterns that end without a write: information the agent must say (answer), and requests
outside the tools' scope that go to a human agent (transfer)."""

from __future__ import annotations

import random

from domains.airline._booking import future_dates
from domains.airline._tasks import (
    CABIN_WORDS,
    AirlinePattern,
    city,
    describe_passenger,
    free_bags,
    opening,
    reservation_ids,
    trip,
    upcoming,
)
from domains.airline.generator import shift
from domains.airline.rules import segment_statuses
from domains.base import Task
from domains.environment import Environment
from domains.task_draft import TaskDraft

NO_CHANGES = "You do not want to change or book anything."


class BaggageAllowance(AirlinePattern):
    """How many checked bags a reservation carries for free."""

    name = "baggage_allowance"
    description = "the user asks how many checked bags their reservation includes for free"
    write_tools = ()
    ending = "answer"

    def candidates(self, env: Environment) -> list[str]:
        """Upcoming reservations."""
        return reservation_ids(env, upcoming)

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """User and reservation details; the allowance is the output."""
        found = opening(env, key)
        if found is None:
            return None
        reservation, user, draft = found
        free = free_bags(user, reservation["cabin"], len(reservation["passengers"]))
        if free == 0:
            return None
        draft.goals.append(
            f"You want to know how many checked bags, in total for all passengers, you can "
            f"take for free on {trip(reservation)}. {NO_CHANGES}"
        )
        draft.outputs.append(str(free))
        return draft.task(rng)


class CheapestDay(AirlinePattern):
    """Which of three days the direct flight of a route is the cheapest, in one cabin."""

    name = "cheapest_day_direct"
    description = (
        "the user asks on which of three days the direct flight between two cities is the "
        "cheapest in a cabin, and that fare"
    )
    write_tools = ()
    ending = "answer"
    days = 3

    def candidates(self, env: Environment) -> list[str]:
        """Every user."""
        return env.state.keys("users")

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """One direct-flight search per day; the lowest fare is the output."""
        user = env.state.get("users", key)
        flight = rng.choice([flight for _, flight in env.state.items("flights")])
        dates = future_dates(flight, "2024-05-28")
        if user is None or not dates:
            return None
        cabin = rng.choice(("economy", "business"))
        first = rng.choice(dates)
        searches = [
            {"origin": flight["origin"], "destination": flight["destination"], "date": day}
            for day in (shift(first, offset) for offset in range(self.days))
        ]
        fares = sorted(
            result["prices"][cabin]
            for search in searches
            for result in env.fork().call("search_direct_flight", search).value or []
        )
        if len(fares) < 2 or fares[0] == fares[1]:
            return None
        name = user["name"]
        draft = TaskDraft(key, f"You are {name['first_name']} {name['last_name']} (user id {key}).")
        draft.goals.append(
            f"You can fly from {city(flight['origin'])} to {city(flight['destination'])} on "
            f"{first} or one of the {self.days - 1} days after. You want to know on which day "
            f"the direct flight is the cheapest in {CABIN_WORDS[cabin]}, and its fare per "
            f"passenger. {NO_CHANGES}"
        )
        for search in searches:
            draft.call("search_direct_flight", **search)
        draft.outputs.append(str(fares[0]))
        return draft.task(rng)


class TotalPaid(AirlinePattern):
    """How much a reservation paid in total over its payments."""

    name = "reservation_total_paid"
    description = "the user asks how much they paid in total for a reservation paid in parts"
    write_tools = ()
    ending = "answer"

    def candidates(self, env: Environment) -> list[str]:
        """Reservations paid with several payments."""
        return reservation_ids(env, lambda r: len(r["payment_history"]) >= 2)

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """User and reservation details, a sum of the payments; the sum is the output."""
        found = opening(env, key)
        if found is None:
            return None
        reservation, _, draft = found
        amounts = [payment["amount"] for payment in reservation["payment_history"]]
        expression = " + ".join(str(amount) for amount in amounts)
        total = sum(amounts)
        if not isinstance(total, int):
            return None
        draft.goals.append(
            f"You paid for {trip(reservation)} with several payment methods and want to know "
            f"how much you paid in total. {NO_CHANGES}"
        )
        draft.call("calculate", expression=expression)
        draft.outputs.append(str(total))
        return draft.task(rng)


class TransferLostBaggage(AirlinePattern):
    """A checked bag lost on a flown segment: no tool handles it, so a human must."""

    name = "transfer_lost_baggage"
    description = "the user reports a checked bag lost on a landed flight: transfer to a human"
    write_tools = ()
    ending = "transfer"

    def candidates(self, env: Environment) -> list[str]:
        """Reservations with checked bags and a landed flight."""
        return reservation_ids(
            env,
            lambda r: r["total_baggages"] >= 1 and "landed" in segment_statuses(env, r),
        )

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """User and reservation details, then the transfer."""
        found = opening(env, key)
        if found is None:
            return None
        reservation, _, draft = found
        statuses = segment_statuses(env, reservation)
        segment = reservation["flights"][statuses.index("landed")]
        flight = f"flight {segment['flight_number']} on {segment['date']}"
        draft.goals.append(
            f"You checked a bag on {flight} from {city(segment['origin'])} to "
            f"{city(segment['destination'])}, part of {trip(reservation)}, and it never "
            "arrived. You want the airline to find it and deliver it to you; you want to speak "
            "to someone who can do that."
        )
        draft.call(
            "transfer_to_human_agents",
            summary=f"User {draft.user_id} reports a checked bag lost on {flight} "
            f"(reservation {key}) and wants it traced and delivered.",
        )
        return draft.task(rng)


class TransferSpecialAssistance(AirlinePattern):
    """Wheelchair assistance for a passenger: outside the tools, so a human must arrange it."""

    name = "transfer_special_assistance"
    description = "the user asks wheelchair assistance for a passenger: transfer to a human"
    write_tools = ()
    ending = "transfer"

    def candidates(self, env: Environment) -> list[str]:
        """Upcoming reservations."""
        return reservation_ids(env, upcoming)

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """User and reservation details, then the transfer."""
        found = opening(env, key)
        if found is None:
            return None
        reservation, _, draft = found
        passenger = rng.choice(reservation["passengers"])
        draft.goals.append(
            f"{describe_passenger(passenger)} travels on {trip(reservation)} and needs "
            "wheelchair assistance at every airport. You want it arranged; nothing else about "
            "the reservation should change."
        )
        draft.call(
            "transfer_to_human_agents",
            summary=f"User {draft.user_id} asks wheelchair assistance for "
            f"{passenger['first_name']} {passenger['last_name']} on reservation {key}.",
        )
        return draft.task(rng)
