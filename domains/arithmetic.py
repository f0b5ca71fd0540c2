"""A safe evaluator for the `calculate` tool: + - * / and parentheses over decimal numbers.

A small recursive-descent parser (never `eval`): integers stay exact until a division, as in
Python; nesting is bounded so hostile input cannot exhaust the stack.
"""

from __future__ import annotations

import re
from typing import Final

from runtime.errors import ToolError

ALLOWED_CHARACTERS: Final = frozenset("0123456789+-*/(). ")
MAX_DEPTH: Final = 100
MAX_DIGITS: Final = 300
MAX_LENGTH: Final = 10_000
_TOKEN: Final = re.compile(r" *(?:(\d+\.?\d*|\.\d+)|([-+*/()]))")

Number = int | float


def _tokens(expression: str) -> list[str]:
    """Numbers and operator characters, spaces dropped."""
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


class _Parser:
    """expr := term (+|- term)*; term := factor (*|/ factor)*; factor := (+|-)* atom."""

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
            sign = 1 if self._take() == "+" else -1
            value = value + sign * self._term(depth)
        return value

    def _term(self, depth: int) -> Number:
        value = self._factor(depth)
        while self._peek() in ("*", "/"):
            if self._take() == "*":
                value = value * self._factor(depth)
            else:
                divisor = self._factor(depth)
                if divisor == 0:
                    raise ToolError("division by zero")
                value = value / divisor
        return value

    def _factor(self, depth: int) -> Number:
        negative = False
        while self._peek() in ("+", "-"):
            negative ^= self._take() == "-"
        value = self._atom(depth)
        return -value if negative else value

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
            if len(token) > MAX_DIGITS:
                raise ToolError("invalid expression: number too long")
            return float(token) if "." in token else int(token)
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
