"""Blueprint validators: each rejects its own kind of fault with a machine-readable reason,
and tasks whose right answer is not to act pass when their ending fits their actions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from library_domain import LibraryDomain

from agents.blueprints.validation import validate
from domains.base import PolicyRule, Violation
from domains.common_tools import transfer_to_human_agents
from domains.environment import Environment, ToolResult
from domains.tools import Tool


class FoundTheSubject(PolicyRule):
    """The test's subject rule: find_user returns the task's user."""

    name = "L2"
    description = "find_user returns the user the task is about"

    def check(
        self, trace: Sequence[ToolResult], before: Environment, subject: str | None = None
    ) -> list[Violation]:
        return [
            Violation(self.name, f"found {result.output!r}, not {subject!r}", index)
            for index, result in enumerate(trace)
            if subject is not None and result.name == "find_user" and result.ok
            if result.output != subject
        ]


class HelpDesk(LibraryDomain):
    """The library with a human help desk and a rule about the task's subject."""

    name = "helpdesk"

    @property
    def tools(self) -> Mapping[str, Tool[Any]]:
        return {**super().tools, "transfer_to_human_agents": transfer_to_human_agents}

    @property
    def rules(self) -> Sequence[PolicyRule]:
        return (*super().rules, FoundTheSubject())


@pytest.fixture
def env() -> Environment:
    return HelpDesk().environment()


def _proposal(
    *actions: tuple[str, dict[str, Any]], user: str = "u1", **fields: Any
) -> dict[str, Any]:
    return {
        "user_id": user,
        "instruction": "You are reader1@example.com and want book b2.",
        "actions": [{"name": name, "kwargs": kwargs} for name, kwargs in actions],
        "outputs": [],
        **fields,
    }


LOOKUP = ("find_user", {"email": "reader1@example.com"})
READ_B2 = ("get_book", {"book_id": "b2"})
BORROW_B2 = ("borrow_book", {"user_id": "u1", "book_id": "b2"})
GOOD = (LOOKUP, READ_B2, BORROW_B2)
TRANSFER = ("transfer_to_human_agents", {"summary": "wants a book the library does not hold"})


def test_a_correct_blueprint_passes_all_three_checks(env: Environment) -> None:
    result = validate(env.domain, env, _proposal(*GOOD))
    assert result.passed
    assert [r.check for r in result.results] == ["format", "execution", "policy"]
    assert result.blueprint is not None
    assert "b/books/b2" in result.execution.diff_text  # type: ignore[union-attr]
    assert '-  "available": true' in result.execution.diff_text  # type: ignore[union-attr]


def test_validation_never_touches_the_base_environment(env: Environment) -> None:
    before = env.fingerprint()
    validate(env.domain, env, _proposal(*GOOD))
    assert env.fingerprint() == before


# -- format -----------------------------------------------------------------------------------


def test_format_rejects_a_missing_field(env: Environment) -> None:
    proposal = _proposal(*GOOD)
    del proposal["instruction"]
    result = validate(env.domain, env, proposal)
    assert not result.passed
    assert result.reasons == ["schema: instruction: Field required"]


def test_format_rejects_an_unknown_tool(env: Environment) -> None:
    result = validate(env.domain, env, _proposal(("burn_book", {"book_id": "b1"}), *GOOD))
    assert result.reasons == ["unknown_tool: action 0 calls 'burn_book'"]


def test_format_rejects_arguments_that_do_not_fit_the_tool(env: Environment) -> None:
    result = validate(env.domain, env, _proposal(("get_book", {"book": "b1"}), *GOOD))
    assert result.reasons[0].startswith(
        "bad_arguments: action 0 (get_book): book_id: Field required"
    )


@pytest.mark.parametrize(
    ("actions", "fields", "reason"),
    [
        ((LOOKUP, READ_B2), {"ending": "act"}, "ending 'act' but no action writes"),
        (GOOD, {"ending": "refuse"}, "ending 'refuse' but action 2 (borrow_book) writes"),
        (
            (LOOKUP, READ_B2),
            {"ending": "answer"},
            "ending 'answer' but no outputs (the facts the agent must say)",
        ),
        (
            (LOOKUP,),
            {"ending": "transfer"},
            "ending 'transfer' but no action transfers to a human agent",
        ),
        (
            (LOOKUP, TRANSFER),
            {"ending": "refuse"},
            "ending 'refuse' but action 1 transfers to a human agent (that ending is 'transfer')",
        ),
    ],
    ids=[
        "act-without-write",
        "refuse-with-write",
        "answer-without-outputs",
        "transfer-without-transfer",
        "refuse-that-transfers",
    ],
)
def test_format_rejects_a_stated_ending_the_actions_contradict(
    env: Environment,
    actions: tuple[tuple[str, dict[str, Any]], ...],
    fields: dict[str, Any],
    reason: str,
) -> None:
    result = validate(env.domain, env, _proposal(*actions, **fields))
    assert [r.check for r in result.results] == ["format"]
    assert result.reasons == [f"ending_mismatch: {reason}"]


# -- execution --------------------------------------------------------------------------------


def test_execution_rejects_a_failing_write(env: Environment) -> None:
    bad = (*GOOD[:2], ("borrow_book", {"user_id": "u1", "book_id": "b0"}))
    result = validate(env.domain, env, _proposal(*bad))
    assert [r.check for r in result.results] == ["format", "execution"]
    assert result.reasons == ["tool_error: action 2 (borrow_book): Error: book is not available"]


def test_execution_rejects_a_repeated_write(env: Environment) -> None:
    result = validate(env.domain, env, _proposal(*GOOD, BORROW_B2))
    assert result.reasons == [
        "repeated_call: action 3 repeats borrow_book",
        "tool_error: action 3 (borrow_book): Error: book is not available",
    ]


def test_a_failed_read_before_the_right_one_passes(env: Environment) -> None:
    wrong = ("get_book", {"book_id": "b99"})
    result = validate(env.domain, env, _proposal(LOOKUP, wrong, *GOOD[1:]))
    assert result.execution is not None and not result.execution.trace[1].ok
    assert result.passed, result.reasons


def test_a_failed_identity_lookup_before_the_right_one_passes(env: Environment) -> None:
    wrong = ("find_user", {"email": "nobody@example.com"})
    assert validate(env.domain, env, _proposal(wrong, *GOOD)).passed


def test_a_repeated_read_passes(env: Environment) -> None:
    assert validate(env.domain, env, _proposal(LOOKUP, READ_B2, READ_B2, BORROW_B2)).passed


# -- tasks that do not act --------------------------------------------------------------------


def test_a_refusal_with_reads_only_passes(env: Environment) -> None:
    result = validate(env.domain, env, _proposal(LOOKUP, READ_B2, ending="refuse"))
    assert result.passed, result.reasons
    assert result.execution is not None and result.execution.diff_text == ""


def test_a_task_without_ending_writes_or_outputs_counts_as_a_refusal(env: Environment) -> None:
    result = validate(env.domain, env, _proposal(LOOKUP, READ_B2))
    assert result.passed and result.blueprint is not None
    assert result.blueprint.resolved_ending(env.domain.write_tools()) == "refuse"


def test_an_answer_with_outputs_passes(env: Environment) -> None:
    proposal = _proposal(LOOKUP, READ_B2, ending="answer", outputs=["Book 2"])
    assert validate(env.domain, env, proposal).passed


def test_a_transfer_passes_with_its_transfer_call(env: Environment) -> None:
    assert validate(env.domain, env, _proposal(LOOKUP, TRANSFER, ending="transfer")).passed


def test_a_transfer_with_arguments_the_tool_refuses_fails_format(env: Environment) -> None:
    broken = ("transfer_to_human_agents", {"reason": "no summary"})
    result = validate(env.domain, env, _proposal(LOOKUP, broken, ending="transfer"))
    assert result.reasons[0].startswith("bad_arguments: action 1 (transfer_to_human_agents)")


# -- policy -----------------------------------------------------------------------------------


def test_policy_rejects_a_write_before_the_identity_lookup(env: Environment) -> None:
    result = validate(env.domain, env, _proposal(*GOOD[1:]))
    assert [r.passed for r in result.results] == [True, True, False]
    assert result.reasons == ["policy: L1 (action 1): user not looked up"]
    assert result.results[2].detail == {"rules": ["L1"]}


def test_policy_rules_judge_the_blueprint_s_user(env: Environment) -> None:
    result = validate(env.domain, env, _proposal(*GOOD, user="u2"))
    assert result.reasons == ["policy: L2 (action 0): found 'u1', not 'u2'"]
