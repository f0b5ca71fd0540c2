"""A safe evaluator for the `calculate` tool: + - * / // ** and parentheses over decimal numbers.

The reference computes `float(eval(expression))` after a character check; this is a small
recursive-descent parser (never `eval`) that gives the same value or an error where Python
would: integers stay exact until a division or a float meets them, literals follow Python's
rules, operands are evaluated left to right. Nesting, length and integer size are bounded so
hostile input cannot exhaust the stack, memory or time (`9**9**9` fails at once).
"""

from __future__ import annotations

import math
import re
from typing import Final

from runtime.errors import ToolError

ALLOWED_CHARACTERS: Final = frozenset("0123456789+-*/(). ")
MAX_DEPTH: Final = 100
MAX_DIGITS: Final = 300
MAX_LENGTH: Final = 10_000
MAX_INT_BITS: Final = 10_000
_TOKEN: Final = re.compile(r" *(?:(\d+\.?\d*|\.\d+)|(\*\*|//|[-+*/()]))")

Number = int | float


def _tokens(expression: str) -> list[str]:
    """Numbers and operators (`**` and `//` only when written without a space), spaces dropped."""
    tokens: list[str] = []
    position = 0
    text = expression.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ToolError("invalid expression")
        tokens.append(match.group(1) or match.group(2))
        position = match.end()
    return tokens


def _number(token: str) -> Number:
    """A literal as Python reads it: `007` is refused, `00`, `0.5` and `010.5` are not."""
    if len(token) > MAX_DIGITS:
        raise ToolError("invalid expression: number too long")
    if "." in token:
        return float(token)
    if token[0] == "0" and token.strip("0"):
        raise ToolError(f"invalid expression: leading zeros in integer {token!r}")
    return int(token)


def _power(base: Number, exponent: Number) -> Number:
    """`base ** exponent` as Python computes it, refusing astronomically large integers."""
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
        bits = exponent * math.log2(abs(base))
        if bits > MAX_INT_BITS:
            raise ToolError("result too large")
    try:
        result: object = base**exponent
    except ZeroDivisionError as exc:
        raise ToolError("zero cannot be raised to a negative power") from exc
    if isinstance(result, (int, float)):
        return result
    raise ToolError("result is a complex number")


def _product(left: Number, right: Number) -> Number:
    """`left * right`, refusing integer products beyond `MAX_INT_BITS`."""
    if (
        isinstance(left, int)
        and isinstance(right, int)
        and left.bit_length() + right.bit_length() > MAX_INT_BITS
    ):
        raise ToolError("result too large")
    return left * right


def _quotient(operator: str, left: Number, right: Number) -> Number:
    """`left / right` or `left // right` (floor division: ints stay ints, floats floor)."""
    try:
        return left / right if operator == "/" else left // right
    except ZeroDivisionError as exc:
        raise ToolError("division by zero") from exc


class _Parser:
    """Python's grammar for these operators, evaluated while parsed.

    expr := term (('+'|'-') term)*;  term := factor (('*'|'/'|'//') factor)*;
    factor := ('+'|'-')* power;  power := atom ['**' factor];  atom := number | '(' expr ')'.
    So `**` is right-associative and binds tighter than a unary minus on its left
    (`-2**2 == -4`) but not on its right (`2**-1 == 0.5`).
    """

    def __init__(self, tokens: list[str]) -> None:
        self._tokens = tokens
        self._index = 0

    def _peek(self) -> str | None:
        return self._tokens[self._index] if self._index < len(self._tokens) else None

    def _take(self) -> str:
        token = self._peek()
        if token is None:
            raise ToolError("invalid expression: unexpected end")
        self._index += 1
        return token

    def parse(self) -> Number:
        value = self._expression(0)
        if self._peek() is not None:
            raise ToolError(f"invalid expression: unexpected {self._peek()!r}")
        return value

    def _expression(self, depth: int) -> Number:
        value = self._term(depth)
        while self._peek() in ("+", "-"):
            operator = self._take()
            right = self._term(depth)
            value = value + right if operator == "+" else value - right
        return value

    def _term(self, depth: int) -> Number:
        value = self._factor(depth)
        while self._peek() in ("*", "/", "//"):
            operator = self._take()
            right = self._factor(depth)
            value = _product(value, right) if operator == "*" else _quotient(operator, value, right)
        return value

    def _signs(self) -> bool:
        """Consume unary `+`/`-` signs; whether they negate."""
        negative = False
        while self._peek() in ("+", "-"):
            negative ^= self._take() == "-"
        return negative

    def _factor(self, depth: int) -> Number:
        negative = self._signs()
        value = self._power_chain(depth)
        return -value if negative else value

    def _power_chain(self, depth: int) -> Number:
        """`a ** ±b ** ±c ...`: atoms read left to right, then folded from the right.

        Iterative, so a long chain cannot exhaust the stack.
        """
        atoms = [self._atom(depth)]
        negations: list[bool] = []
        while self._peek() == "**":
            self._take()
            negations.append(self._signs())
            atoms.append(self._atom(depth))
        value = atoms.pop()
        while atoms:
            if negations.pop():
                value = -value
            value = _power(atoms.pop(), value)
        return value

    def _atom(self, depth: int) -> Number:
        token = self._take()
        if token == "(":
            if depth >= MAX_DEPTH:
                raise ToolError("invalid expression: too deeply nested")
            value = self._expression(depth + 1)
            if self._take() != ")":
                raise ToolError("invalid expression: missing ')'")
            return value
        if token[0].isdigit() or token[0] == ".":
            return _number(token)
        raise ToolError(f"invalid expression: unexpected {token!r}")


def evaluate(expression: str) -> float:
    """The value of an arithmetic expression as a float; invalid input raises `ToolError`."""
    if not all(char in ALLOWED_CHARACTERS for char in expression):
        raise ToolError("invalid characters in expression")
    if len(expression) > MAX_LENGTH:
        raise ToolError("invalid expression: too long")
    try:
        return float(_Parser(_tokens(expression)).parse())
    except OverflowError as exc:
        raise ToolError("result too large") from exc
