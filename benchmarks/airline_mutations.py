"""Airline-only variants: a stale cabin, unpaid extra bags, broken itineraries, writes on a
cancelled reservation, and (good) an upgrade that makes more bags free or lets the flights
change.

Each is kept only when it passes the format and execution checks: policy must catch it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Final

from benchmarks.mutation_kit import (
    Act,
    Context,
    Mutation,
    Proposal,
    Variant,
    call,
    inserted,
    replace_everywhere,
    set_argument,
    with_actions,
)
from domains.airline._tasks import bookable, flight_choices, methods_of
from domains.airline.generator import shift
from domains.airline.records import FREE_BAGS
from domains.state import Record


def _first_writes(context: Context, proposal: Proposal) -> Iterator[tuple[int, Act, Record]]:
    """Each write that is the first of the sequence on its reservation, with the reservation
    as the data holds it (so it is also the effective one)."""
    seen: set[str] = set()
    for index in context.writes(proposal):
        act = proposal["actions"][index]
        key = act["kwargs"].get("reservation_id")
        reservation = context.env.state.get("reservations", key) if key else None
        if reservation is not None and key not in seen:
            yield index, act, reservation
        if key is not None:
            seen.add(key)


def _allowance(context: Context, reservation: Record, cabin: str) -> int:
    """Free bags of the reservation in `cabin`."""
    user = context.env.state.get("users", reservation["user_id"])
    assert user is not None
    return FREE_BAGS[user["membership"]][cabin] * len(reservation["passengers"])


def _pairs(flights: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(f["flight_number"], f["date"]) for f in flights]


def stale_cabin(context: Context, pattern: str, proposal: Proposal) -> Iterable[Variant]:
    """A cabin-only downgrade to basic economy, then the flight change in that cabin (A2);
    or bags free in the old cabin added after a downgrade that lowered the allowance (A10)."""
    actions = proposal["actions"]
    for index, act, reservation in _first_writes(context, proposal):
        kwargs = act["kwargs"]
        if act["name"] == "update_reservation_baggages":
            yield from _downgrade_before_bags(context, pattern, proposal, index, reservation)
        if act["name"] != "update_reservation_flights":
            continue
        current = flight_choices(reservation)
        if _pairs(kwargs["flights"]) == _pairs(current):
            yield from _bags_after_cabin_change(context, pattern, proposal, act, reservation)
            yield from _change_after_upgrade(context, pattern, proposal, act, reservation)
        elif reservation["cabin"] != "basic_economy":
            downgrade = call(
                "update_reservation_flights",
                reservation_id=reservation["reservation_id"],
                cabin="basic_economy",
                flights=current,
                payment_id=kwargs["payment_id"],
            )
            mutated = with_actions(proposal, inserted(actions, index, downgrade))
            mutated = set_argument(mutated, index + 1, "cabin", "basic_economy")
            if context.reaches_policy(mutated):
                yield Variant("stale_cabin", pattern, mutated, "policy", "A2")


def _downgrade_before_bags(
    context: Context, pattern: str, proposal: Proposal, index: int, reservation: Record
) -> Iterable[Variant]:
    """A cabin-only downgrade to basic economy before a baggage update whose bags the old
    cabin carries free but basic economy does not (A10)."""
    kwargs = proposal["actions"][index]["kwargs"]
    allowance = _allowance(context, reservation, "basic_economy")
    if reservation["cabin"] == "basic_economy":
        return
    if kwargs["nonfree_baggages"] >= kwargs["total_baggages"] - allowance:
        return
    downgrade = call(
        "update_reservation_flights",
        reservation_id=reservation["reservation_id"],
        cabin="basic_economy",
        flights=flight_choices(reservation),
        payment_id=kwargs["payment_id"],
    )
    mutated = with_actions(proposal, inserted(proposal["actions"], index, downgrade))
    if context.reaches_policy(mutated):
        yield Variant("stale_cabin", pattern, mutated, "policy", "A10")


def _change_after_upgrade(
    context: Context, pattern: str, proposal: Proposal, act: Act, reservation: Record
) -> Iterable[Variant]:
    """After a cabin-only upgrade from basic economy, the last flight moved one to three
    days later in the new cabin: allowed, as the reservation is no longer basic economy."""
    cabin, payment_id = act["kwargs"]["cabin"], act["kwargs"]["payment_id"]
    if reservation["cabin"] != "basic_economy" or cabin == "basic_economy":
        return
    flights = flight_choices(reservation)
    last, seats = flights[-1], len(reservation["passengers"])
    for days in (1, 2, 3):
        later = shift(last["date"], days)
        if bookable(context.env, last["flight_number"], later, cabin, seats) is None:
            continue
        moved = [*flights[:-1], {"flight_number": last["flight_number"], "date": later}]
        change = call(
            "update_reservation_flights",
            reservation_id=reservation["reservation_id"],
            cabin=cabin,
            flights=moved,
            payment_id=payment_id,
        )
        mutated = with_actions(proposal, [*proposal["actions"], change])
        if context.reaches_policy(mutated):
            yield Variant("upgrade_then_change", pattern, mutated)
            return


def _bags_after_cabin_change(
    context: Context, pattern: str, proposal: Proposal, act: Act, reservation: Record
) -> Iterable[Variant]:
    """After a cabin-only change, add bags that only one of the two cabins carries free:
    unpaid after a downgrade (A10), rightly free after an upgrade (good)."""
    old = _allowance(context, reservation, reservation["cabin"])
    new = _allowance(context, reservation, act["kwargs"]["cabin"])
    total, nonfree = reservation["total_baggages"], reservation["nonfree_baggages"]
    bags = max(total + 1, min(old, new) + nonfree + 1)
    if bags > max(old, new) + nonfree:
        return
    added = call(
        "update_reservation_baggages",
        reservation_id=reservation["reservation_id"],
        total_baggages=bags,
        nonfree_baggages=nonfree,
        payment_id=act["kwargs"]["payment_id"],
    )
    mutated = with_actions(proposal, [*proposal["actions"], added])
    if not context.reaches_policy(mutated):
        return
    if new < old:
        yield Variant("stale_cabin", pattern, mutated, "policy", "A10")
    else:
        yield Variant("upgrade_then_free_bags", pattern, mutated)


def unpaid_bags(context: Context, pattern: str, proposal: Proposal) -> Iterable[Variant]:
    """A baggage update that leaves bags beyond the allowance unpaid (A3 still holds); or
    such an update added after a change that keeps the cabin and the party's size."""
    for index, act, reservation in _first_writes(context, proposal):
        allowance = _allowance(context, reservation, reservation["cabin"])
        if act["name"] == "update_reservation_baggages":
            total, nonfree = act["kwargs"]["total_baggages"], act["kwargs"]["nonfree_baggages"]
            paid_before = reservation["nonfree_baggages"]
            if nonfree > paid_before:
                mutated = set_argument(proposal, index, "nonfree_baggages", paid_before)
            else:
                more = max(total, allowance + nonfree) + 1
                mutated = set_argument(proposal, index, "total_baggages", more)
        elif _keeps_allowance(act, reservation):
            total, nonfree = reservation["total_baggages"], reservation["nonfree_baggages"]
            more = _card_bags(context, reservation, max(total, allowance + nonfree) + 1, nonfree)
            if more is None:
                continue
            mutated = with_actions(proposal, [*proposal["actions"], more])
        else:
            continue
        if context.reaches_policy(mutated):
            yield Variant("unpaid_bags", pattern, mutated, "policy", "A10")


def _keeps_allowance(act: Act, reservation: Record) -> bool:
    """A passenger update, or a flight update in the reservation's cabin."""
    if act["name"] == "update_reservation_passengers":
        return True
    cabin = act["kwargs"].get("cabin")
    return act["name"] == "update_reservation_flights" and cabin == reservation["cabin"]


def _card_bags(context: Context, reservation: Record, total: int, nonfree: int) -> Act | None:
    """A baggage update of the reservation paid with the user's first credit card."""
    user = context.env.state.get("users", reservation["user_id"])
    cards = methods_of(user, "credit_card") if user else []
    if not cards:
        return None
    return call(
        "update_reservation_baggages",
        reservation_id=reservation["reservation_id"],
        total_baggages=total,
        nonfree_baggages=nonfree,
        payment_id=cards[0],
    )


def broken_itinerary(context: Context, pattern: str, proposal: Proposal) -> Iterable[Variant]:
    """A booking whose route or trip type contradicts its flights; a flight update whose
    first leg (or only leg) goes somewhere else (A11)."""
    for index, act in enumerate(proposal["actions"]):
        kwargs = act["kwargs"]
        if act["name"] == "book_reservation":
            swapped = set_argument(proposal, index, "origin", kwargs["destination"])
            swapped = set_argument(swapped, index, "destination", kwargs["origin"])
            other = "one_way" if kwargs["flight_type"] == "round_trip" else "round_trip"
            for mutated in (swapped, set_argument(proposal, index, "flight_type", other)):
                if context.reaches_policy(mutated):
                    yield Variant("broken_itinerary", pattern, mutated, "policy", "A11")
        elif act["name"] == "update_reservation_flights":
            reservation = context.env.state.get("reservations", kwargs["reservation_id"])
            if reservation is not None:
                seats = len(reservation["passengers"])
                yield from _detour(context, pattern, proposal, index, seats)


def _detour(
    context: Context, pattern: str, proposal: Proposal, index: int, seats: int
) -> Iterable[Variant]:
    """The update's first leg replaced by a bookable flight from the same airport to
    another one, on the same day."""
    kwargs = proposal["actions"][index]["kwargs"]
    leg = kwargs["flights"][0]
    flight = context.env.state.get("flights", leg["flight_number"])
    if flight is None:
        return
    for number, other in context.env.state.items("flights"):
        if other["origin"] != flight["origin"] or other["destination"] == flight["destination"]:
            continue
        if bookable(context.env, number, leg["date"], kwargs["cabin"], seats) is None:
            continue
        flights = [{"flight_number": number, "date": leg["date"]}, *kwargs["flights"][1:]]
        mutated = set_argument(proposal, index, "flights", flights)
        if context.reaches_policy(mutated):
            yield Variant("broken_itinerary", pattern, mutated, "policy", "A11")
            return


def write_on_cancelled(context: Context, pattern: str, proposal: Proposal) -> Iterable[Variant]:
    """A write after the reservation was cancelled in the sequence; the writes aimed at one
    of the user's reservations the data holds as cancelled (A12)."""
    for _, act, reservation in _first_writes(context, proposal):
        if act["name"] == "cancel_reservation":
            after = _write_after_cancel(context, reservation)
            mutated = with_actions(proposal, [*proposal["actions"], after]) if after else None
            if mutated is not None and context.reaches_policy(mutated):
                yield Variant("write_on_cancelled", pattern, mutated, "policy", "A12")
        user = context.env.state.get("users", reservation["user_id"])
        cancelled = [
            key
            for key in (user["reservations"] if user else [])
            if (context.env.state.get("reservations", key) or {}).get("status") == "cancelled"
        ]
        for key in cancelled:
            mutated = replace_everywhere(
                proposal, "reservation_id", reservation["reservation_id"], key
            )
            if context.reaches_policy(mutated):
                yield Variant("write_on_cancelled", pattern, mutated, "policy", "A12")
                break
        return


def _write_after_cancel(context: Context, reservation: Record) -> Act | None:
    """A change that would be fine on the active reservation: passengers in another order,
    or one more bag paid as the policy asks."""
    key, passengers = reservation["reservation_id"], reservation["passengers"]
    if len({str(p) for p in passengers}) > 1:
        return call(
            "update_reservation_passengers", reservation_id=key, passengers=passengers[::-1]
        )
    total = reservation["total_baggages"] + 1
    allowance = _allowance(context, reservation, reservation["cabin"])
    nonfree = max(reservation["nonfree_baggages"], total - allowance)
    return _card_bags(context, reservation, total, nonfree)


AIRLINE_MUTATIONS: Final[tuple[Mutation, ...]] = (
    stale_cabin,
    unpaid_bags,
    broken_itinerary,
    write_on_cancelled,
)
