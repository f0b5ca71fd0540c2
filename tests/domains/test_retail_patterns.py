"""Retail task patterns: executable tasks on the data they were sampled from."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from retail_fixtures import ANN, BOB, retail_env, retail_tables

from agents.blueprints.validation import validate
from domains.base import Task, TaskPattern
from domains.environment import Environment
from domains.retail import RetailDomain
from domains.retail.patterns import (
    GiftCardBalance,
    OrderTotal,
    RefuseChangeOfProcessedItems,
    RefuseRefundToAnotherMethod,
)
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


def test_every_pattern_states_its_ending_itself() -> None:
    assert [p.name for p in DOMAIN.patterns if "ending" not in vars(type(p))] == []


def test_patterns_cover_every_ending() -> None:
    endings = Counter(pattern.ending for pattern in DOMAIN.patterns)
    assert endings == {"act": 9, "refuse": 3, "transfer": 2, "answer": 3}


@pytest.mark.parametrize(("key", "total"), [("#W0000001", "40.2"), ("#W0000002", "60.3")])
def test_the_order_total_answer_is_the_sum_of_the_item_prices(key: str, total: str) -> None:
    # #W0000001: 20.0 + 10.1 + 10.1; #W0000002: 50.0 + 10.3.
    task = OrderTotal().build(retail_env(), random.Random(0), key)
    assert task is not None and task.outputs == [total]


@pytest.mark.parametrize(("user_id", "balance"), [(ANN, "30.1"), (BOB, "0.2")])
def test_the_gift_card_answer_is_its_balance(user_id: str, balance: str) -> None:
    task = GiftCardBalance().build(retail_env(), random.Random(0), user_id)
    assert task is not None and task.outputs == [balance]


@pytest.mark.parametrize("key", ["#W0000002", "#W0000005"])
def test_the_refused_refund_goes_to_neither_the_original_method_nor_a_gift_card(
    key: str,
) -> None:
    # Ann paid #W0000002 by card and Bob #W0000005 by gift card: only PayPal is refused.
    task = RefuseRefundToAnotherMethod().build(retail_env(), random.Random(0), key)
    assert task is not None and "refund paid to your PayPal account" in task.instruction


def test_only_a_processed_order_s_items_are_refused_a_change() -> None:
    assert RefuseChangeOfProcessedItems().candidates(retail_env()) == ["#W0000006"]


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
    about_any_order_or_user = {
        "modify_user_address",
        "refuse_change_of_processed_items",
        "refuse_cancellation_of_shipped_order",
        "transfer_email_change",
        "order_total",
        "order_status",
        "gift_card_balance",
    }
    for pattern in DOMAIN.patterns:
        task = pattern.instantiate(no_open_orders, random.Random(0))
        assert (task is None) == (pattern.name not in about_any_order_or_user), pattern.name
