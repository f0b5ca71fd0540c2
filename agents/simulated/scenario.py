"""Scripts the simulated backend plays: what a model would answer, reply by reply.

A scenario travels with each request (`extra_create_args["apigen_scenario"]`), so the
simulated client stays domain-agnostic: callers that know the domain write the script.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

SCENARIO_ARG = "apigen_scenario"
STOP_TOKEN = "###STOP###"
HUMAN_ROLES = frozenset({"human", "user"})


class SimToolCall(BaseModel):
    """One tool call a scripted reply makes."""

    model_config = ConfigDict(extra="forbid")

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class SimReply(BaseModel):
    """One scripted model turn: exactly one of `text`, `json_value` or `tool_calls`."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = None
    json_value: Any = None
    tool_calls: list[SimToolCall] | None = None
    reasoning: str | None = Field(
        default=None, description="json replies: a 'Reasoning: ...' line before the JSON"
    )
    confirmation: bool = Field(default=False, description="this text asks to confirm a write")
    final: bool = Field(default=False, description="the script ends after this reply")

    @model_validator(mode="after")
    def _exactly_one_kind(self) -> SimReply:
        kinds = [self.text is not None, self.json_value is not None, self.tool_calls is not None]
        if sum(kinds) != 1:
            raise ValueError("a reply needs exactly one of text, json_value, tool_calls")
        return self


class SimScenario(BaseModel):
    """The script for one role in one episode, and the seed its faults are drawn from."""

    model_config = ConfigDict(extra="forbid")

    role: str
    seed: int
    replies: list[SimReply] = Field(default_factory=list)
    stop_token: str = STOP_TOKEN
    closing: str | None = Field(
        default=None, description="the answer once the script is over (default by role)"
    )

    @property
    def human_like(self) -> bool:
        """Human-like roles end a conversation with the stop token."""
        return self.role in HUMAN_ROLES

    def closing_text(self) -> str:
        """What the role says once its script is exhausted."""
        if self.closing is not None:
            return self.closing
        if self.human_like:
            return self.stop_token
        return "Is there anything else I can help you with?"


ScenarioJSON = dict[str, Any]
"""A script in the JSON form it travels in with each request."""


ScenarioSource = SimScenario | ScenarioJSON | Callable[[], SimScenario | ScenarioJSON]
"""A script, or how to build it: the gateway builds it only for a model that plays scripts
(the simulator, or a `send_scenario` server), so real-model runs never build one."""


def scenario_json(scenario: ScenarioSource) -> ScenarioJSON:
    """The script as sent with a request; callers that send it on every call dump it once.

    Default-valued fields are left out, which keeps the many live episodes' scripts small.
    """
    if callable(scenario):
        scenario = scenario()
    if isinstance(scenario, SimScenario):
        return scenario.model_dump(mode="json", exclude_defaults=True)
    return scenario
