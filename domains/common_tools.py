"""Tools every shipped domain offers alike: safe arithmetic, thinking aloud, human handoff."""

from __future__ import annotations

from typing import Final

from pydantic import Field

from domains.arithmetic import evaluate
from domains.state import State
from domains.tools import ToolArgs, tool

TRANSFER_MESSAGE: Final = "Transfer successful"


class ExpressionArgs(ToolArgs):
    expression: str = Field(
        description="An arithmetic expression with numbers, + - * / // ** ( ) and spaces, "
        "such as '2 * (3.5 + 4)' or '100 * 1.05 ** 2'."
    )


class ThoughtArgs(ToolArgs):
    thought: str = Field(description="A thought to think about.")


class SummaryArgs(ToolArgs):
    summary: str = Field(description="A summary of the user's issue.")


@tool()
def calculate(state: State, args: ExpressionArgs) -> str:
    """Calculate the result of an arithmetic expression, rounded to 2 decimal places.

    Numbers, + - * / and parentheses, with ** for powers and // for floor division.
    """
    return str(round(evaluate(args.expression), 2))


@tool()
def think(state: State, args: ThoughtArgs) -> str:
    """Think about something without obtaining new information or changing anything.

    Use it when complex reasoning is needed; the thought is only logged.
    """
    return ""


@tool()
def transfer_to_human_agents(state: State, args: SummaryArgs) -> str:
    """Transfer the user to a human agent, with a summary of the issue.

    Only when the user explicitly asks for a human, or the request cannot be handled with
    the available tools under the policy.
    """
    return TRANSFER_MESSAGE
