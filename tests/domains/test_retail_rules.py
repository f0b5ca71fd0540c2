"""Retail policy rules R1-R5 and R7: each flags a violating trace and passes a compliant one."""

from __future__ import annotations

from typing import Any

import pytest
from retail_fixtures import (
    ANN,
    ANN_CARD,
    BOB,
    BOB_GIFT,
    BOTTLE_500,
    BOTTLE_750,
    BOTTLE_1000,
    NEW_ADDRESS,
    SHIRT_WHITE_M,
    retail_env,
)

from domains.base import PolicyRule
from domains.environment import Environment, ToolResult
from domains.retail.rules import (
    AuthenticatedUserOnly,
    LookupBeforeWrite,
    OneChangePerOrder,
    OrderReadBeforeWrite,
    SameProductSwaps,
    SubjectServed,
)

ANN_LOOKUP = ("find_user_id_by_email", {"email": "ann.lee@example.com"})
CANCEL_3 = ("cancel_pending_order", {"order_id": "#W0000003", "reason": "no longer needed"})
READ_1 = ("get_order_details", {"order_id": "#W0000001"})
READ_3 = ("get_order_details", {"order_id": "#W0000003"})


@pytest.fixture
def before() -> Environment:
    return retail_env()


def run(before: Environment, *calls: tuple[str, dict[str, Any]]) -> list[ToolResult]:
    return before.fork().run([{"name": name, "kwargs": kwargs} for name, kwargs in calls])


def swap(old: str, new: str) -> tuple[str, dict[str, Any]]:
    return (
        "modify_pending_order_items",
        {
            "order_id": "#W0000001",
            "item_ids": [old],
            "new_item_ids": [new],
            "payment_method_id": ANN_CARD,
        },
    )


def steps(rule: PolicyRule, trace: list[ToolResult], before: Environment) -> list[int | None]:
    return [violation.step for violation in rule.check(trace, before)]


def test_r1_flags_a_write_before_the_user_is_looked_up(before: Environment) -> None:
    trace = run(before, READ_3, CANCEL_3, ANN_LOOKUP)
    assert trace[1].ok
    assert steps(LookupBeforeWrite(), trace, before) == [1]


def test_r1_passes_a_write_after_the_lookup(before: Environment) -> None:
    trace = run(before, ANN_LOOKUP, READ_3, CANCEL_3)
    assert steps(LookupBeforeWrite(), trace, before) == []


def test_r1_needs_a_lookup_that_returned_this_user(before: Environment) -> None:
    bob = ("find_user_id_by_name_zip", {"first_name": "Bob", "last_name": "Ng", "zip": "94110"})
    move = ("modify_user_address", {"user_id": "ann_lee_1001", **NEW_ADDRESS})
    assert steps(LookupBeforeWrite(), run(before, bob, move), before) == [1]


def test_r2_flags_a_write_on_another_users_order(before: Environment) -> None:
    cancel_bobs = ("cancel_pending_order", {"order_id": "#W0000004", "reason": "no longer needed"})
    trace = run(before, ANN_LOOKUP, ("get_order_details", {"order_id": "#W0000004"}), cancel_bobs)
    violations = AuthenticatedUserOnly().check(trace, before)
    assert [(v.rule, v.step) for v in violations] == [("R2", 2)]
    assert "bob_ng_2002" in violations[0].message


def test_r2_flags_another_users_payment_method_even_when_the_tool_refuses(
    before: Environment,
) -> None:
    pay = ("modify_pending_order_payment", {"order_id": "#W0000003", "payment_method_id": BOB_GIFT})
    trace = run(before, ANN_LOOKUP, READ_3, pay)
    assert not trace[2].ok
    assert steps(AuthenticatedUserOnly(), trace, before) == [2]


def test_r2_passes_writes_on_the_authenticated_users_data(before: Environment) -> None:
    trace = run(before, ANN_LOOKUP, READ_1, swap(BOTTLE_500, BOTTLE_750), READ_3, CANCEL_3)
    assert steps(AuthenticatedUserOnly(), trace, before) == []


def test_r3_flags_a_write_after_the_items_were_modified(before: Environment) -> None:
    address = ("modify_pending_order_address", {"order_id": "#W0000001", **NEW_ADDRESS})
    trace = run(before, ANN_LOOKUP, READ_1, swap(BOTTLE_500, BOTTLE_750), address)
    violations = OneChangePerOrder().check(trace, before)
    assert [v.step for v in violations] == [3]
    assert "had its items modified" in violations[0].message


def test_r3_flags_a_second_item_modification(before: Environment) -> None:
    first, second = swap(BOTTLE_500, BOTTLE_750), swap(BOTTLE_750, BOTTLE_500)
    trace = run(before, ANN_LOOKUP, READ_1, first, second)
    assert steps(OneChangePerOrder(), trace, before) == [3]


def test_r3_allows_a_retry_after_a_failed_modification(before: Environment) -> None:
    failed, retried = swap(BOTTLE_500, BOTTLE_1000), swap(BOTTLE_500, BOTTLE_750)
    trace = run(before, ANN_LOOKUP, READ_1, failed, retried)
    assert [r.ok for r in trace[2:]] == [False, True]
    assert steps(OneChangePerOrder(), trace, before) == []


def test_r3_passes_an_address_change_before_the_item_modification(before: Environment) -> None:
    address = ("modify_pending_order_address", {"order_id": "#W0000001", **NEW_ADDRESS})
    trace = run(before, ANN_LOOKUP, READ_1, address, swap(BOTTLE_500, BOTTLE_750))
    assert steps(OneChangePerOrder(), trace, before) == []


def test_r4_flags_an_order_write_without_reading_the_order(before: Environment) -> None:
    trace = run(before, ANN_LOOKUP, READ_1, CANCEL_3)
    assert steps(OrderReadBeforeWrite(), trace, before) == [2]


def test_r4_passes_after_reading_that_order(before: Environment) -> None:
    trace = run(before, ANN_LOOKUP, READ_3, CANCEL_3)
    assert steps(OrderReadBeforeWrite(), trace, before) == []


def test_r4_ignores_user_writes(before: Environment) -> None:
    move = ("modify_user_address", {"user_id": "ann_lee_1001", **NEW_ADDRESS})
    assert steps(OrderReadBeforeWrite(), run(before, ANN_LOOKUP, move), before) == []


def test_r5_flags_a_swap_to_another_product_or_an_unavailable_variant(
    before: Environment,
) -> None:
    trace = run(
        before,
        ANN_LOOKUP,
        READ_1,
        swap(BOTTLE_500, SHIRT_WHITE_M),
        swap(BOTTLE_500, BOTTLE_1000),
    )
    violations = SameProductSwaps().check(trace, before)
    assert [v.step for v in violations] == [2, 3]
    assert "not a variant of Water Bottle" in violations[0].message
    assert "not available" in violations[1].message


def test_r5_passes_a_swap_to_an_available_variant_of_the_same_product(
    before: Environment,
) -> None:
    trace = run(before, ANN_LOOKUP, READ_1, swap(BOTTLE_500, BOTTLE_750))
    assert steps(SameProductSwaps(), trace, before) == []


def test_r7_says_nothing_without_a_subject(before: Environment) -> None:
    trace = run(before, ANN_LOOKUP, READ_3, CANCEL_3)
    assert SubjectServed().check(trace, before) == []


def test_r7_flags_a_task_that_names_one_user_and_serves_another(before: Environment) -> None:
    trace = run(before, ANN_LOOKUP, READ_3, CANCEL_3)
    assert [str(v) for v in SubjectServed().check(trace, before, BOB)] == [
        "R7 (action 0): find_user_id_by_email returns 'ann_lee_1001', but the task is about "
        "'bob_ng_2002'",
        "R7 (action 2): cancel_pending_order touches order #W0000003 of 'ann_lee_1001', not the "
        "task's user 'bob_ng_2002'",
    ]


def test_r7_flags_a_lookup_that_finds_a_namesake(before: Environment) -> None:
    # The other Ann Lee lives in Bob's zip code.
    namesake = (
        "find_user_id_by_name_zip",
        {"first_name": "Ann", "last_name": "Lee", "zip": "94110"},
    )
    trace = run(before, namesake, ANN_LOOKUP, READ_3, CANCEL_3)
    assert [(v.step, v.message) for v in SubjectServed().check(trace, before, ANN)] == [
        (0, "find_user_id_by_name_zip returns 'ann_lee_3003', but the task is about 'ann_lee_1001'")
    ]


def test_r7_passes_a_lookup_that_failed_before_the_right_one(before: Environment) -> None:
    unknown = ("find_user_id_by_email", {"email": "ann@nowhere.example.com"})
    trace = run(before, unknown, ANN_LOOKUP, READ_3, CANCEL_3)
    assert not trace[0].ok
    assert SubjectServed().check(trace, before, ANN) == []


def test_r7_flags_a_payment_method_and_a_profile_of_another_user(before: Environment) -> None:
    pay = ("modify_pending_order_payment", {"order_id": "#W0000003", "payment_method_id": BOB_GIFT})
    move = ("modify_user_address", {"user_id": BOB, **NEW_ADDRESS})
    trace = run(before, ANN_LOOKUP, READ_3, pay, move)
    assert [(v.step, v.message) for v in SubjectServed().check(trace, before, ANN)] == [
        (
            2,
            "modify_pending_order_payment uses 'gift_card_2000002', not a payment method of "
            "'ann_lee_1001'",
        ),
        (
            3,
            "modify_user_address touches the record of 'bob_ng_2002', not the task's user "
            "'ann_lee_1001'",
        ),
    ]


def test_the_domain_passes_the_subject_to_its_rules(before: Environment) -> None:
    trace = run(before, ANN_LOOKUP, READ_3, CANCEL_3)
    assert [v.rule for v in before.domain.check_policy(trace, before, BOB)] == ["R7", "R7"]
    assert before.domain.check_policy(trace, before, ANN) == []


def test_the_domain_checks_every_rule_in_order(before: Environment) -> None:
    trace = run(before, CANCEL_3)
    rules = [v.rule for v in before.domain.check_policy(trace, before)]
    assert rules == ["R1", "R4"]
