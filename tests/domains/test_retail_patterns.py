"""Retail task patterns: executable tasks on the data they were sampled from."""

from __future__ import annotations

import random

import pytest
from retail_fixtures import retail_env, retail_tables

from domains.base import Task, TaskPattern
from domains.environment import Environment
from domains.retail import RetailDomain
from domains.state import State

DOMAIN = RetailDomain()
SEEDS = range(6)
IDENTITY = {"find_user_id_by_email", "find_user_id_by_name_zip"}


@pytest.fixture(scope="module")
def env() -> Environment:
    return DOMAIN.environment({"data": {"seed": 5}})


def _tasks(pattern: TaskPattern, env: Environment) -> list[Task]:
    tasks = [pattern.instantiate(env, random.Random(seed)) for seed in SEEDS]
    assert all(task is not None for task in tasks), pattern.name
    return [task for task in tasks if task is not None]


@pytest.mark.parametrize("pattern", DOMAIN.patterns, ids=lambda p: p.name)
def test_every_action_of_an_instantiated_task_succeeds(
    pattern: TaskPattern, env: Environment
) -> None:
    for task in _tasks(pattern, env):
        results = env.fork().run([action.model_dump() for action in task.actions])
        assert [r.output for r in results if not r.ok] == []
        assert results[0].name in IDENTITY and results[0].output == task.user_id
        assert set(pattern.write_tools) <= {r.name for r in results if r.writes}
        assert all(r.changed for r in results if r.writes)


@pytest.mark.parametrize("pattern", DOMAIN.patterns, ids=lambda p: p.name)
def test_instantiated_tasks_follow_the_policy_rules(pattern: TaskPattern, env: Environment) -> None:
    for task in _tasks(pattern, env):
        results = env.fork().run([action.model_dump() for action in task.actions])
        assert DOMAIN.check_policy(results, env) == []


@pytest.mark.parametrize("pattern", DOMAIN.patterns, ids=lambda p: p.name)
def test_instructions_are_second_person_and_name_the_order(
    pattern: TaskPattern, env: Environment
) -> None:
    for task in _tasks(pattern, env):
        assert task.instruction.startswith("You are ")
        for action in task.actions:
            order_id = action.kwargs.get("order_id")
            assert order_id is None or order_id in task.instruction


def test_the_same_seed_gives_the_same_task(env: Environment) -> None:
    for pattern in DOMAIN.patterns:
        first = pattern.instantiate(env, random.Random(42))
        assert first == pattern.instantiate(env, random.Random(42))


def test_patterns_cover_every_write_tool() -> None:
    covered = {name for pattern in DOMAIN.patterns for name in pattern.write_tools}
    assert covered == set(DOMAIN.write_tools())
    assert len(DOMAIN.patterns) >= 8


def test_the_order_total_pattern_outputs_the_calculated_total(env: Environment) -> None:
    pattern = next(p for p in DOMAIN.patterns if p.name == "order_total_then_address")
    for task in _tasks(pattern, env):
        results = env.fork().run([action.model_dump() for action in task.actions])
        calculated = next(r for r in results if r.name == "calculate")
        order = env.state.get("orders", task.actions[-1].kwargs["order_id"])
        assert order is not None
        assert task.outputs == [calculated.output]
        assert float(calculated.output) == round(sum(item["price"] for item in order["items"]), 2)


def test_patterns_work_on_the_small_fixture_data() -> None:
    small = retail_env()
    for pattern in DOMAIN.patterns:
        task = pattern.instantiate(small, random.Random(0))
        assert task is not None, pattern.name
        assert all(r.ok for r in small.fork().run([a.model_dump() for a in task.actions]))


def test_a_pattern_without_suitable_data_returns_none() -> None:
    tables = retail_tables()
    for order in tables["orders"].values():
        order["status"] = "processed"
    no_open_orders = Environment(DOMAIN, State.from_tables(tables))
    for pattern in DOMAIN.patterns:
        task = pattern.instantiate(no_open_orders, random.Random(0))
        assert (task is None) == (pattern.name != "modify_user_address"), pattern.name
