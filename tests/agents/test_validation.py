"""Blueprint validators: each rejects its own kind of fault with a machine-readable reason."""

from __future__ import annotations

from typing import Any

import pytest
from library_domain import LibraryDomain

from agents.validation import validate
from domains.environment import Environment


@pytest.fixture
def env() -> Environment:
    return LibraryDomain().environment()


def _proposal(*actions: tuple[str, dict[str, Any]], user: str = "u1") -> dict[str, Any]:
    return {
        "user_id": user,
        "instruction": "You are reader1@example.com and want book b2.",
        "actions": [{"name": name, "kwargs": kwargs} for name, kwargs in actions],
        "outputs": [],
    }


GOOD = (
    ("find_user", {"email": "reader1@example.com"}),
    ("get_book", {"book_id": "b2"}),
    ("borrow_book", {"user_id": "u1", "book_id": "b2"}),
)


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


def test_execution_rejects_a_failing_call(env: Environment) -> None:
    bad = (*GOOD[:2], ("borrow_book", {"user_id": "u1", "book_id": "b0"}))
    result = validate(env.domain, env, _proposal(*bad))
    assert [r.check for r in result.results] == ["format", "execution"]
    assert result.reasons == ["tool_error: action 2 (borrow_book): Error: book is not available"]


def test_execution_rejects_a_read_only_task(env: Environment) -> None:
    result = validate(env.domain, env, _proposal(*GOOD[:2]))
    assert result.reasons[0].startswith("no_write:")


def test_execution_rejects_a_repeated_call(env: Environment) -> None:
    result = validate(env.domain, env, _proposal(GOOD[0], *GOOD))
    assert result.reasons == ["repeated_call: action 1 repeats find_user"]


def test_policy_rejects_a_write_before_the_identity_lookup(env: Environment) -> None:
    result = validate(env.domain, env, _proposal(*GOOD[1:]))
    assert [r.passed for r in result.results] == [True, True, False]
    assert result.reasons == ["policy: L1 (action 1): user not looked up"]
