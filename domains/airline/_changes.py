"""Task patterns on existing reservations: cancel, change flights or cabin, bags, passengers,
and compensation for flights the airline cancelled or delayed.
"""

from __future__ import annotations

import random

from domains.airline._tasks import (
    CABIN_WORDS,
    AirlinePattern,
    bookable,
    change_methods,
    city,
    compensation_eligible,
    describe_method,
    describe_passenger,
    disrupted_segment,
    flight_choices,
    free_bags,
    hour,
    opening,
    reservation_ids,
    trip,
    unflown,
    upcoming,
)
from domains.airline.generator import shift
from domains.airline.records import CABINS, Cabin, Money
from domains.airline.rules import booked_recently, segment_statuses
from domains.airline.writes import BAG_PRICE
from domains.base import Task
from domains.environment import Environment
from domains.state import Record


def _pick_method(rng: random.Random, user: Record, price: Money) -> str | None:
    """A credit card or a gift card that can pay a change of `price`."""
    options = change_methods(user, price)
    return rng.choice(options) if options else None


class CancelReservation(AirlinePattern):
    """Cancel a whole reservation that the policy allows to cancel."""

    name = "cancel_reservation"
    description = (
        "cancel an unflown reservation booked recently, in business, insured, "
        "or hit by an airline cancellation"
    )
    write_tools = ("cancel_reservation",)
    ending = "act"

    def candidates(self, env: Environment) -> list[str]:
        """Active, unflown reservations with a reason the policy accepts."""
        return reservation_ids(env, lambda r: unflown(env, r) and bool(self._reason(env, r)))

    @staticmethod
    def _reason(env: Environment, reservation: Record) -> str:
        """Why the user may cancel, in their words; empty when the policy refuses."""
        if "cancelled" in segment_statuses(env, reservation):
            return "the airline cancelled one of its flights"
        if booked_recently(reservation):
            return "you booked it by mistake less than a day ago"
        if reservation["cabin"] == "business":
            return "your plans changed"
        if reservation["insurance"] == "yes":
            return "you are sick and cannot travel (you have travel insurance)"
        return ""

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """User details, reservation details, cancellation."""
        found = opening(env, key)
        if found is None:
            return None
        reservation, _, draft = found
        draft.goals.append(
            f"You want to cancel {trip(reservation)} because {self._reason(env, reservation)}."
        )
        draft.call("cancel_reservation", reservation_id=key)
        return draft.task(rng)


class ChangeFlightDate(AirlinePattern):
    """Move the last flight of a reservation to a later date on the same daily flight."""

    name = "change_flight_date"
    description = "move the last direct flight of a trip one to three days later, same cabin"
    write_tools = ("update_reservation_flights",)
    ending = "act"

    def candidates(self, env: Environment) -> list[str]:
        """Upcoming economy or business reservations ending with a direct flight."""
        return reservation_ids(
            env,
            lambda r: r["cabin"] != "basic_economy" and upcoming(r) and self._last_direct(r),
        )

    @staticmethod
    def _last_direct(reservation: Record) -> bool:
        """The last flight alone makes the last part of the trip (one way, or the return)."""
        last = reservation["flights"][-1]
        home = reservation["origin"] if reservation["flight_type"] == "round_trip" else None
        start_of_leg = reservation["destination"] if home else reservation["origin"]
        end_of_leg = home or reservation["destination"]
        return bool(last["origin"] == start_of_leg and last["destination"] == end_of_leg)

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """User details, reservation details, direct search on the new date, flight update."""
        found = opening(env, key)
        if found is None:
            return None
        reservation, user, draft = found
        last = reservation["flights"][-1]
        new_day = shift(last["date"], rng.randint(1, 3))
        count, cabin = len(reservation["passengers"]), reservation["cabin"]
        record = bookable(env, last["flight_number"], new_day, cabin, count)
        if record is None:
            return None
        difference: Money = (record["prices"][cabin] - last["price"]) * count
        method_id = _pick_method(rng, user, difference)
        flight = env.state.get("flights", last["flight_number"])
        if method_id is None or flight is None:
            return None
        which = "return flight" if reservation["flight_type"] == "round_trip" else "flight"
        draft.goals.append(
            f"For {trip(reservation)}, you want to move your {which} from "
            f"{city(last['origin'])} to {city(last['destination'])} on {last['date']} to "
            f"{new_day}, on the flight at the same time "
            f"({hour(flight['scheduled_departure_time_est'])}) and in the same cabin."
        )
        draft.goals.append(f"Any price difference goes through {describe_method(user, method_id)}.")
        search = {"origin": last["origin"], "destination": last["destination"], "date": new_day}
        draft.call("search_direct_flight", **search)
        flights = flight_choices(reservation)
        flights[-1] = {"flight_number": last["flight_number"], "date": new_day}
        draft.call(
            "update_reservation_flights",
            reservation_id=key,
            cabin=cabin,
            flights=flights,
            payment_id=method_id,
        )
        return draft.task(rng)


class ChangeCabin(AirlinePattern):
    """Change the cabin of a whole upcoming reservation, keeping its flights."""

    name = "change_cabin"
    description = (
        "change the cabin of every flight of an upcoming reservation; say the price difference"
    )
    write_tools = ("update_reservation_flights",)
    ending = "act"

    def candidates(self, env: Environment) -> list[str]:
        """Upcoming reservations."""
        return reservation_ids(env, upcoming)

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """User details, reservation details, a direct search per flight, flight update."""
        found = opening(env, key)
        if found is None:
            return None
        reservation, user, draft = found
        count = len(reservation["passengers"])
        options: dict[Cabin, Money] = {}
        for cabin in CABINS:
            records = [
                bookable(env, segment["flight_number"], segment["date"], cabin, count)
                for segment in reservation["flights"]
            ]
            fares = [record["prices"][cabin] for record in records if record is not None]
            if cabin != reservation["cabin"] and len(fares) == len(records):
                new_total: Money = 0
                for fare in fares:
                    new_total += fare * count
                old_total = sum(segment["price"] for segment in reservation["flights"]) * count
                options[cabin] = new_total - old_total
        if not options:
            return None
        cabin = rng.choice(list(options))
        method_id = _pick_method(rng, user, options[cabin])
        if method_id is None:
            return None
        draft.goals.append(
            f"You want to change {trip(reservation)} to {CABIN_WORDS[cabin]} for every flight "
            f"and every passenger, keeping the same flights. First ask how much the change "
            f"costs (or refunds) in total."
        )
        draft.goals.append(f"Pay or get refunded with {describe_method(user, method_id)}.")
        for segment in reservation["flights"]:
            search = {
                "origin": segment["origin"],
                "destination": segment["destination"],
                "date": segment["date"],
            }
            draft.call("search_direct_flight", **search)
        draft.call(
            "update_reservation_flights",
            reservation_id=key,
            cabin=cabin,
            flights=flight_choices(reservation),
            payment_id=method_id,
        )
        if options[cabin]:
            draft.outputs.append(str(abs(options[cabin])))
        return draft.task(rng)


class AddBaggage(AirlinePattern):
    """Add checked bags to an upcoming reservation, paying for those beyond the allowance."""

    name = "add_baggage"
    description = "add one to three checked bags to an upcoming reservation"
    write_tools = ("update_reservation_baggages",)
    ending = "act"

    def candidates(self, env: Environment) -> list[str]:
        """Upcoming reservations."""
        return reservation_ids(env, upcoming)

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """User details, reservation details, baggage update."""
        found = opening(env, key)
        if found is None:
            return None
        reservation, user, draft = found
        added = rng.randint(1, 3)
        total = reservation["total_baggages"] + added
        allowance = free_bags(user, reservation["cabin"], len(reservation["passengers"]))
        nonfree = max(reservation["nonfree_baggages"], total - allowance)
        price = BAG_PRICE * (nonfree - reservation["nonfree_baggages"])
        method_id = _pick_method(rng, user, price)
        if method_id is None:
            return None
        bags = f"{added} checked bag{'s' if added > 1 else ''}"
        draft.goals.append(f"You want to add {bags} to {trip(reservation)}.")
        draft.goals.append(f"If there is a fee, you pay with {describe_method(user, method_id)}.")
        draft.call(
            "update_reservation_baggages",
            reservation_id=key,
            total_baggages=total,
            nonfree_baggages=nonfree,
            payment_id=method_id,
        )
        if price:
            draft.outputs.append(str(price))
        return draft.task(rng)


class ChangePassenger(AirlinePattern):
    """Replace one passenger of an upcoming reservation by someone else."""

    name = "change_passenger"
    description = "replace one passenger of an upcoming reservation with another person"
    write_tools = ("update_reservation_passengers",)
    ending = "act"

    def candidates(self, env: Environment) -> list[str]:
        """Upcoming reservations."""
        return reservation_ids(env, upcoming)

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """User details, reservation details, passenger update."""
        found = opening(env, key)
        if found is None:
            return None
        reservation, user, draft = found
        passengers = [dict(p) for p in reservation["passengers"]]
        newcomers = [p for p in user["saved_passengers"] if p not in passengers]
        if not newcomers:
            return None
        index = rng.randrange(len(passengers))
        old, new = passengers[index], dict(rng.choice(newcomers))
        passengers[index] = new
        draft.goals.append(
            f"On {trip(reservation)}, {describe_passenger(old)} cannot travel; you want "
            f"{describe_passenger(new)} to fly instead."
        )
        draft.call("update_reservation_passengers", reservation_id=key, passengers=passengers)
        return draft.task(rng)


class CompensateCancelledFlight(AirlinePattern):
    """A certificate of $100 per passenger for a flight the airline cancelled."""

    name = "compensate_cancelled_flight"
    description = "send an eligible user $100 per passenger for a flight the airline cancelled"
    write_tools = ("send_certificate",)
    ending = "act"

    def candidates(self, env: Environment) -> list[str]:
        """Eligible reservations with a cancelled flight."""
        return reservation_ids(
            env,
            lambda r: (
                disrupted_segment(env, r, "cancelled") is not None and compensation_eligible(env, r)
            ),
        )

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """User details, reservation details, certificate."""
        found = opening(env, key)
        segment = disrupted_segment(env, found[0], "cancelled") if found else None
        if found is None or segment is None:
            return None
        reservation, _, draft = found
        count = len(reservation["passengers"])
        draft.goals.append(
            f"Your flight {segment['flight_number']} from {city(segment['origin'])} to "
            f"{city(segment['destination'])} on {segment['date']}, part of "
            f"{trip(reservation)}, was cancelled by the airline. You are upset and ask for "
            f"compensation for the {count} passenger{'s' if count > 1 else ''}."
        )
        draft.call("send_certificate", user_id=reservation["user_id"], amount=100 * count)
        return draft.task(rng)


class CancelDelayedTrip(AirlinePattern):
    """Cancel a trip with a delayed flight, then get $50 per passenger as a gesture."""

    name = "cancel_delayed_trip"
    description = "cancel a cancellable trip whose flight is delayed, then send $50 per passenger"
    write_tools = ("cancel_reservation", "send_certificate")
    ending = "act"

    def candidates(self, env: Environment) -> list[str]:
        """Unflown, eligible reservations with a delayed flight, recent or in business."""
        return reservation_ids(
            env,
            lambda r: (
                unflown(env, r)
                and disrupted_segment(env, r, "delayed") is not None
                and (booked_recently(r) or r["cabin"] == "business")
                and compensation_eligible(env, r)
            ),
        )

    def build(self, env: Environment, rng: random.Random, key: str) -> Task | None:
        """User details, reservation details, cancellation, certificate."""
        found = opening(env, key)
        segment = disrupted_segment(env, found[0], "delayed") if found else None
        if found is None or segment is None:
            return None
        reservation, _, draft = found
        count = len(reservation["passengers"])
        draft.goals.append(
            f"Your flight {segment['flight_number']} today from {city(segment['origin'])} "
            f"is delayed, so you want to cancel {trip(reservation)}. Once it is cancelled, "
            f"you ask for compensation for the delay."
        )
        draft.call("cancel_reservation", reservation_id=key)
        draft.call("send_certificate", user_id=reservation["user_id"], amount=50 * count)
        return draft.task(rng)
