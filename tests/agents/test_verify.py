"""Verifying trajectories: final state against the replayed ground truth, outputs, endings."""

from __future__ import annotations

import pytest
from library_domain import LibraryDomain

from agents.dialogue.verify import (
    missing_outputs,
    normalize_text,
    output_mentioned,
    verify_trajectory,
)
from domains.base import Action
from domains.environment import Environment

GROUND_TRUTH = [
    Action(name="find_user", kwargs={"email": "reader1@example.com"}),
    Action(name="get_book", kwargs={"book_id": "b2"}),
    Action(name="borrow_book", kwargs={"user_id": "u1", "book_id": "b2"}),
]


@pytest.fixture
def base() -> Environment:
    return LibraryDomain().environment()


def test_equivalent_order_of_reads_and_extra_reads_are_accepted(base: Environment) -> None:
    actual = base.fork()
    actual.call("get_book", {"book_id": "b2"})
    actual.call("get_user", {"user_id": "u1"})
    actual.call("find_user", {"email": "reader1@example.com"})
    actual.call("get_book", {"book_id": "b5"})
    actual.call("borrow_book", {"user_id": "u1", "book_id": "b2"})
    verdict = verify_trajectory(base, GROUND_TRUTH, [], actual, [])
    assert verdict.accepted
    assert verdict.state_ok is True
    assert verdict.expected_fingerprint == verdict.actual_fingerprint
    assert verdict.reasons == []


def test_a_wrong_write_is_a_state_mismatch_naming_the_records(base: Environment) -> None:
    actual = base.fork()
    actual.call("find_user", {"email": "reader1@example.com"})
    actual.call("borrow_book", {"user_id": "u1", "book_id": "b3"})
    verdict = verify_trajectory(base, GROUND_TRUTH, [], actual, [])
    assert not verdict.accepted
    assert verdict.reasons == [
        "state_mismatch: books/b2 (missing), books/b3 (unexpected), users/u1 (different)"
    ]
    by_address = {(m.table, m.key): m for m in verdict.mismatches}
    assert by_address[("books", "b2")].expected == {"title": "Book 2", "available": False}
    assert by_address[("books", "b2")].actual == {"title": "Book 2", "available": True}
    assert by_address[("users", "u1")].actual["loans"] == ["b3"]  # type: ignore[index]


def test_a_conversation_that_wrote_nothing_misses_every_change(base: Environment) -> None:
    verdict = verify_trajectory(base, GROUND_TRUTH, [], base.fork(), [])
    assert [str(m) for m in verdict.mismatches] == ["books/b2 (missing)", "users/u1 (missing)"]


def test_state_check_can_be_switched_off(base: Environment) -> None:
    verdict = verify_trajectory(base, GROUND_TRUTH, [], base.fork(), [], check_state=False)
    assert verdict.accepted
    assert verdict.state_ok is None


def test_a_failing_ground_truth_call_is_noted(base: Environment) -> None:
    actions = [Action(name="get_book", kwargs={"book_id": "nope"})]
    verdict = verify_trajectory(base, actions, [], base.fork(), [])
    assert verdict.accepted
    assert verdict.replay_errors == ["0: get_book: Error: book not found"]


@pytest.mark.parametrize(
    ("output", "said"),
    [
        ("$1,234.50", "The total is 1234.5 dollars."),
        ("1234.5", "You paid $1,234.50 in total."),
        ("1234", "That comes to $1,234.00."),
        ("Book Two", "you borrowed   BOOK\n two today"),
        ("#W1234567", "Order #w1234567 is cancelled."),
    ],
)
def test_outputs_match_after_normalisation(output: str, said: str) -> None:
    assert output_mentioned(output, said)


@pytest.mark.parametrize(
    ("output", "said"),
    [
        ("12", "The total is 123."),
        ("1234.5", "The total is 1234.56."),
        ("1234", "The total is 1234.5."),
        ("ab", "a b"),
    ],
)
def test_outputs_do_not_match_inside_other_tokens(output: str, said: str) -> None:
    assert not output_mentioned(output, said)


def test_normalisation_handles_money_case_and_space() -> None:
    assert normalize_text("  Total:\t$1,234,567.10 USD ") == "total: 1234567.1 usd"


def test_missing_outputs_are_reasons(base: Environment) -> None:
    said = ["Your balance is $10.00.", "Anything else?"]
    verdict = verify_trajectory(base, [], ["10", "Book 2"], base.fork(), said, check_state=False)
    assert not verdict.accepted
    assert verdict.outputs_ok is False
    assert verdict.reasons == ["missing_output: Book 2"]


def test_an_output_may_be_in_any_assistant_message() -> None:
    assert missing_outputs(["10", "b2"], ["first b2", "then 10"]) == []


def test_an_unfinished_conversation_is_rejected_when_endings_are_required(
    base: Environment,
) -> None:
    actual = base.fork()
    actual.run([a.model_dump() for a in GROUND_TRUTH])
    verdict = verify_trajectory(
        base, GROUND_TRUTH, [], actual, [], end="refusal", endings=("stop", "transfer")
    )
    assert verdict.state_ok
    assert verdict.reasons == ["unfinished: the conversation ended by refusal"]
    assert verify_trajectory(base, GROUND_TRUTH, [], actual, [], end="refusal").accepted
