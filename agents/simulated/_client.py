"""The offline model client: an autogen `ChatCompletionClient` that plays scenarios."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from autogen_core import CancellationToken, FunctionCall
from autogen_core.models import CreateResult, LLMMessage, ModelInfo, RequestUsage
from autogen_core.tools import Tool, ToolSchema
from pydantic import BaseModel

from agents.models.chat_client_base import ChatClientBase
from agents.models.request_text import assistant_turns, estimate_tokens, prompt_tokens, tool_schema
from agents.simulated._play import Played, play
from agents.simulated.scenario import SCENARIO_ARG, SimScenario
from runtime.log import get_logger
from runtime.model_config import FaultName

_log = get_logger("agents.simulated")

SIMULATED_MODEL_INFO = ModelInfo(
    vision=False,
    function_calling=True,
    json_output=True,
    family="simulated",
    structured_output=True,
    multiple_system_messages=True,
)


@dataclass(frozen=True)
class SimOutcome:
    """A simulated result together with the faults injected into it."""

    result: CreateResult
    faults: tuple[FaultName, ...]


class SimulatedChatCompletionClient(ChatClientBase):
    """Seeded, offline and domain-agnostic: answers from the request's scenario, with faults.

    `faults` maps a role to fault rates.
    """

    def __init__(
        self,
        model: str = "simulated",
        *,
        faults: Mapping[str, Mapping[FaultName, float]] | None = None,
        model_info: ModelInfo | None = None,
        context_tokens: int = 128_000,
    ) -> None:
        super().__init__(
            model_info=model_info or SIMULATED_MODEL_INFO, context_tokens=context_tokens
        )
        self._model = model
        self._faults = {role: dict(rates) for role, rates in (faults or {}).items()}

    def play(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = (),
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] | None = None,
    ) -> SimOutcome:
        """Answer one request (synchronously: no I/O) and report the injected faults."""
        raw = (extra_create_args or {}).get(SCENARIO_ARG)
        if raw is None:
            played = Played("{}" if json_output else self._generic_text(), "stop", ())
            role = ""
        else:
            scenario = SimScenario.model_validate(raw)
            role = scenario.role
            names = {tool_schema(tool)["name"] for tool in tools}
            rates = self._faults.get(role, {})
            played = play(scenario, assistant_turns(messages), rates, names)
        usage = RequestUsage(
            prompt_tokens=prompt_tokens(messages, tools),
            completion_tokens=estimate_tokens(completion_text(played.content)),
        )
        self._add_usage(usage)
        if played.faults:
            _log.debug("sim.faults", model=self._model, role=role, faults=list(played.faults))
        result = CreateResult(
            finish_reason=played.finish_reason,
            content=played.content,
            usage=usage,
            cached=False,
        )
        return SimOutcome(result, played.faults)

    def _generic_text(self) -> str:
        return f"This is a simulated reply from {self._model}."

    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = (),
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] | None = None,
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        """Play the request's scenario (see `play`)."""
        return self.play(
            messages, tools=tools, json_output=json_output, extra_create_args=extra_create_args
        ).result


def completion_text(content: str | list[FunctionCall]) -> str:
    """An answer's text as completion tokens are counted (tool calls as name + arguments JSON)."""
    if isinstance(content, str):
        return content
    return json.dumps([{"name": c.name, "arguments": c.arguments} for c in content])
