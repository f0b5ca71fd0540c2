"""`calculate` accepts the arithmetic the reference accepts, and computes it as Python would.

The reference is `str(round(float(eval(expression)), 2))` after a character check; ours
parses instead of evaluating code. Hand-computed cases first, then a property comparing our
evaluator with Python's own `eval` (allowed here, in a test, on generated arithmetic only).
"""

from __future__ import annotations

import time
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domains.arithmetic import MAX_INT_BITS, evaluate
from domains.common_tools import calculate
from domains.retail import RetailDomain
from runtime.errors import ToolError

ENV = RetailDomain().environment()


def _calculate(expression: str) -> str:
    return ENV.call("calculate", {"expression": expression}).output


@pytest.mark.parametrize(
    ("expression", "output"),
    [
        ("2 ** 3", "8.0"),
        ("2**3**2", "512.0"),  # right-associative: 2 ** 9
        ("-2**2", "-4.0"),  # the power binds tighter than a minus on its left
        ("(-2) ** 2", "4.0"),
        ("2 ** -1", "0.5"),  # ...but not than a minus on its right
        ("2 ** -2 ** 2", "0.06"),  # 2 ** -(2 ** 2) = 1/16 = 0.0625
        ("-2 ** -2", "-0.25"),
        ("- - 2 ** 2", "4.0"),
        ("2 ** 0.5", "1.41"),
        ("9 ** 0.5", "3.0"),
        ("0 ** 0", "1.0"),
        ("100 * 1.05 ** 2", "110.25"),
        ("3 * 2 ** 2", "12.0"),
        ("7 // 2", "3.0"),
        ("-7 // 2", "-4.0"),  # floor, not truncation
        ("7.5 // 2", "3.0"),
        ("-7.5 // 2", "-4.0"),
        ("2 // -3", "-1.0"),
        ("2 ** 10 // 3", "341.0"),  # 1024 // 3
        ("7 // 2 * 2", "6.0"),  # same precedence as *, left to right
        ("2 ** 62 + 1 - 2 ** 62", "1.0"),  # integers stay exact until converted
        ("2 ** 9000 / 2 ** 8999", "2.0"),
        ("0", "0.0"),
        ("00", "0.0"),
        ("0.5", "0.5"),
        ("00.5", "0.5"),
        ("010.5", "10.5"),
        ("0.010", "0.01"),
        ("010.", "10.0"),
        ("1**" * 3000 + "2", "1.0"),  # a long power chain does not exhaust the stack
    ],
)
def test_calculate_computes_powers_and_floor_division_as_python(
    expression: str, output: str
) -> None:
    assert _calculate(expression) == output


@pytest.mark.parametrize(
    ("expression", "error"),
    [
        ("010", "invalid expression: leading zeros in integer '010'"),
        ("007", "invalid expression: leading zeros in integer '007'"),
        ("1 + 00 + 09", "invalid expression: leading zeros in integer '09'"),
        ("2 ** * 3", "invalid expression: unexpected '*'"),
        ("2 * * 3", "invalid expression: unexpected '*'"),
        ("2***3", "invalid expression: unexpected '*'"),
        ("2 / / 3", "invalid expression: unexpected '/'"),
        ("2 **", "invalid expression: unexpected end"),
        ("0 ** -1", "zero cannot be raised to a negative power"),
        ("0.0 ** -1.5", "zero cannot be raised to a negative power"),
        ("(-8) ** (1/3)", "result is a complex number"),
        ("(-2) ** 0.5", "result is a complex number"),
        ("1 // 0", "division by zero"),
        ("1.5 // 0.0", "division by zero"),
        ("10.0 ** 400", "result too large"),  # a float overflow, as in Python
        ("10 ** 400", "result too large"),  # an exact integer, too large for a float
        ("2 ** 2 ** 2 ** 2 ** 2", "result too large"),  # 2 ** 65536
        ("(2 ** 5000) * (2 ** 5001)", "result too large"),
    ],
)
def test_calculate_rejects_what_python_rejects(expression: str, error: str) -> None:
    assert _calculate(expression) == f"Error: {error}"


@pytest.mark.parametrize("expression", ["9**9**9", "9 ** 9 ** 9 ** 9", "(10 ** 300) ** 10 ** 300"])
def test_an_astronomical_integer_power_fails_fast(expression: str) -> None:
    started = time.monotonic()
    with pytest.raises(ToolError, match="result too large"):
        evaluate(expression)
    assert time.monotonic() - started < 0.5


def test_integer_results_are_bounded_in_bits() -> None:
    assert evaluate(f"2 ** {MAX_INT_BITS - 1} // 2 ** {MAX_INT_BITS - 2}") == 2.0
    with pytest.raises(ToolError, match="result too large"):
        evaluate(f"2 ** {MAX_INT_BITS + 1}")


def test_the_tool_description_mentions_powers_and_floor_division() -> None:
    argument = calculate.schema()["function"]["parameters"]["properties"]["expression"]
    for text in (calculate.description, argument["description"]):
        assert "**" in text and "//" in text


# -- compared with Python ----------------------------------------------------------------


def _ours(expression: str) -> str | None:
    """Our output, "error", or None when our size guard refused (Python might not finish)."""
    try:
        return str(round(evaluate(expression), 2))
    except ToolError as exc:
        return None if "too large" in str(exc) else "error"


def _reference(expression: str) -> str:
    """The reference: `str(round(float(eval(expression)), 2))`, any exception an error."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "'int' object is not callable" for "2(3)"
            return str(round(float(eval(expression)), 2))
    except Exception:
        return "error"


literals = st.one_of(
    st.integers(0, 99).map(str),
    st.decimals(0, 99, places=2).map(str),
    st.from_regex(r"\d{1,3}(\.\d{0,3})?|\.\d{1,3}", fullmatch=True),  # 007, 010.5, 1., .5
)
spaces = st.sampled_from(["", " ", "  "])


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(
        children, spaces, st.sampled_from(["+", "-", "*", "/", "//", "**"]), spaces, children
    ).map("".join)
    unary = st.tuples(st.sampled_from(["-", "+", "- -", "--"]), spaces, children).map("".join)
    return st.one_of(binary, unary, children.map(lambda inner: f"({inner})"))


expressions = st.recursive(literals, _combine, max_leaves=8)


@settings(max_examples=400, deadline=None)
@given(expressions)
def test_well_formed_expressions_evaluate_as_python_evaluates_them(expression: str) -> None:
    ours = _ours(expression)
    if ours is not None:
        assert ours == _reference(expression), expression


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="0123456789+-*/(). ", max_size=14))
def test_any_allowed_text_is_accepted_or_refused_as_python_does(expression: str) -> None:
    ours = _ours(expression)
    if ours is not None:
        assert ours == _reference(expression), expression
