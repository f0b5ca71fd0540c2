"""A safe evaluator for the `calculate` tool: + - * / and parentheses over decimal numbers.

The expression is parsed by `ast.parse(mode="eval")` and the tree walked with a whitelist of
node types (never `eval`); the length cap bounds the tree depth.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import Final

from runtime.errors import ToolError

ALLOWED_CHARACTERS: Final = frozenset("0123456789+-*/(). ")
MAX_LENGTH: Final = 500

Number = int | float
_BINARY: Final[dict[type[ast.operator], Callable[[Number, Number], Number]]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def _value(node: ast.expr) -> Number:
    """The value of a whitelisted expression node."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd | ast.USub):
        operand = _value(node.operand)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _value(node.left), _value(node.right)
        if isinstance(node.op, ast.Div) and right == 0:
            raise ToolError("division by zero")
        return _BINARY[type(node.op)](left, right)
    raise ToolError("invalid expression: only + - * / and parentheses are allowed")


def evaluate(expression: str) -> float:
    """The value of an arithmetic expression as a float; invalid input raises `ToolError`."""
    if not all(char in ALLOWED_CHARACTERS for char in expression):
        raise ToolError("invalid characters in expression")
    if len(expression) > MAX_LENGTH:
        raise ToolError("invalid expression: too long")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
        return float(_value(tree.body))
    except SyntaxError as exc:
        raise ToolError("invalid expression") from exc
    except (OverflowError, RecursionError, ValueError) as exc:
        raise ToolError("result too large") from exc
