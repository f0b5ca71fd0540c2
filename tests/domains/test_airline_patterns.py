"""Airline task patterns: executable, policy-abiding tasks on the data they were sampled from."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from airline_fixtures import airline_env, airline_tables

from agents.blueprints.validation import validate
from domains.airline import AirlineDomain
from domains.airline.patterns import BaggageAllowance, RefuseCompensation
from domains.base import Task, TaskPattern
from domains.environment import Environment
from domains.state import State

DOMAIN = AirlineDomain()
SEEDS = range(5)


@pytest.fixture(scope="module")
def env() -> Environment:
    return DOMAIN.environment({"data": {"seed": 5}})


def _tasks(pattern: TaskPattern, env: Environment) -> list[Task]:
    tasks = [pattern.instantiate(env, random.Random(seed)) for seed in SEEDS]
    assert all(task is not None for task in tasks), pattern.name
    return [task for task in tasks if task is not None]


@pytest.mark.parametrize("pattern", DOMAIN.patterns, ids=lambda p: p.name)
def test_every_action_of_an_instantiated_task_succeeds_and_follows_the_rules(
    pattern: TaskPattern, env: Environment
) -> None:
    for task in _tasks(pattern, env):
        results = env.fork().run([action.model_dump() for action in task.actions])
        assert [r.output for r in results if not r.ok] == []
        if any(r.writes or r.name == "get_reservation_details" for r in results):
            assert results[0].name == "get_user_details" and results[0].value["name"]
        assert set(pattern.write_tools) <= {r.name for r in results if r.writes}
        assert all(r.changed for r in results if r.writes)
        assert DOMAIN.check_policy(results, env, task.user_id) == []


@pytest.mark.parametrize("pattern", DOMAIN.patterns, ids=lambda p: p.name)
def test_every_task_states_its_pattern_s_ending_and_passes_the_validators(
    pattern: TaskPattern, env: Environment
) -> None:
    for task in _tasks(pattern, env):
        assert task.ending == pattern.ending
        validation = validate(DOMAIN, env, task.model_dump())
        assert validation.passed, validation.reasons
        writes = [a.name for a in task.actions if a.name in DOMAIN.write_tools()]
        assert bool(writes) == (pattern.ending == "act") == bool(pattern.write_tools)
        if pattern.ending == "transfer":
            assert task.actions[-1].name == "transfer_to_human_agents"
        if pattern.ending == "answer":
            assert task.outputs


@pytest.mark.parametrize("pattern", DOMAIN.patterns, ids=lambda p: p.name)
def test_instructions_are_second_person_and_name_what_the_user_knows(
    pattern: TaskPattern, env: Environment
) -> None:
    for task in _tasks(pattern, env):
        assert task.instruction.startswith("You are ")
        assert task.user_id in task.instruction
        for action in task.actions:
            reservation_id = action.kwargs.get("reservation_id")
            assert reservation_id is None or reservation_id in task.instruction
            if action.name == "book_reservation":
                for passenger in action.kwargs["passengers"]:
                    assert passenger["dob"] in task.instruction


def test_the_same_seed_gives_the_same_task(env: Environment) -> None:
    for pattern in DOMAIN.patterns:
        first = pattern.instantiate(env, random.Random(42))
        assert first == pattern.instantiate(env, random.Random(42)), pattern.name


def test_patterns_cover_every_write_tool() -> None:
    covered = {name for pattern in DOMAIN.patterns for name in pattern.write_tools}
    assert covered == set(DOMAIN.write_tools())
    assert len(DOMAIN.patterns) >= 8


def test_every_pattern_states_its_ending_itself() -> None:
    assert [p.name for p in DOMAIN.patterns if "ending" not in vars(type(p))] == []


def test_patterns_cover_every_ending() -> None:
    endings = Counter(pattern.ending for pattern in DOMAIN.patterns)
    assert endings == {"act": 10, "refuse": 5, "transfer": 2, "answer": 3}


@pytest.mark.parametrize(("key", "free"), [("AAA111", "6"), ("BBB222", "3")])
def test_the_baggage_allowance_answer_is_membership_by_cabin_by_passengers(
    key: str, free: str
) -> None:
    # Ann is gold: 3 free bags each in economy (two passengers) and in business (one).
    task = BaggageAllowance().build(airline_env(), random.Random(0), key)
    assert task is not None and task.outputs == [free]


def test_compensation_is_refused_only_to_regular_uninsured_economy_travellers() -> None:
    # Bob is regular and DDD444 (basic economy, no insurance) lost its flight to a
    # cancellation; Cara's delayed EEE555 is out because she is silver.
    assert RefuseCompensation().candidates(airline_env()) == ["DDD444"]


def test_the_cheapest_day_answer_is_the_lowest_fare_the_searches_return(
    env: Environment,
) -> None:
    pattern = next(p for p in DOMAIN.patterns if p.name == "cheapest_day_direct")
    for task in _tasks(pattern, env):
        results = env.fork().run([a.model_dump() for a in task.actions])
        cabin = "economy" if "in economy" in task.instruction else "business"
        fares = [flight["prices"][cabin] for r in results for flight in r.value]
        assert task.outputs == [str(min(fares))]
        assert fares.count(min(fares)) == 1


def test_the_cabin_change_outputs_the_price_difference(env: Environment) -> None:
    pattern = next(p for p in DOMAIN.patterns if p.name == "change_cabin")
    for task in _tasks(pattern, env):
        before = env.state.get("reservations", task.actions[-1].kwargs["reservation_id"])
        after = env.fork().run([a.model_dump() for a in task.actions])[-1].value
        assert before is not None
        difference = after["payment_history"][len(before["payment_history"]) :]
        assert task.outputs == [str(abs(entry["amount"])) for entry in difference]


def test_the_split_payment_booking_empties_the_gift_card(env: Environment) -> None:
    pattern = next(p for p in DOMAIN.patterns if p.name == "book_round_trip_split_payment")
    for task in _tasks(pattern, env):
        gift = task.actions[-1].kwargs["payment_methods"][0]["payment_id"]
        after = env.fork()
        after.run([a.model_dump() for a in task.actions])
        user = after.state.get("users", task.user_id)
        assert user is not None and user["payment_methods"][gift]["amount"] == 0


@pytest.mark.parametrize(
    "name",
    [
        "book_direct_one_way",
        "book_one_stop_one_way",
        "cancel_reservation",
        "change_flight_date",
        "change_cabin",
        "add_baggage",
    ],
)
def test_patterns_work_on_the_small_fixture_data(name: str) -> None:
    small = airline_env()
    pattern = next(p for p in DOMAIN.patterns if p.name == name)
    tasks = [pattern.instantiate(small, random.Random(seed)) for seed in range(10)]
    assert any(task is not None for task in tasks)


def test_a_pattern_without_suitable_data_returns_none() -> None:
    tables = airline_tables()
    for reservation in tables["reservations"].values():
        reservation["status"] = "cancelled"
    no_active_trips = Environment(DOMAIN, State.from_tables(tables))
    for pattern in DOMAIN.patterns:
        if not pattern.name.startswith("book_") and pattern.name != "cheapest_day_direct":
            assert pattern.instantiate(no_active_trips, random.Random(0)) is None, pattern.name
