"""The offline model client: an autogen `ChatCompletionClient` that plays scenarios."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import structlog
from autogen_core import CancellationToken, FunctionCall
from autogen_core.models import (
    ChatCompletionClient,
    CreateResult,
    LLMMessage,
    ModelCapabilities,
    ModelInfo,
    RequestUsage,
)
from autogen_core.tools import Tool, ToolSchema
from pydantic import BaseModel

from agents.scenario import SCENARIO_ARG, SimScenario
from agents.simulated._messages import assistant_turns, estimate_tokens, prompt_tokens, tool_schema
from agents.simulated._play import Played, play
from runtime.model_config import FaultName

_log = structlog.get_logger("agents.simulated")

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


class SimulatedChatCompletionClient(ChatCompletionClient):
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
        self._model = model
        self._faults = {role: dict(rates) for role, rates in (faults or {}).items()}
        self._model_info = model_info or SIMULATED_MODEL_INFO
        self._context_tokens = context_tokens
        self._total = RequestUsage(prompt_tokens=0, completion_tokens=0)

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
        self._total = RequestUsage(
            prompt_tokens=self._total.prompt_tokens + usage.prompt_tokens,
            completion_tokens=self._total.completion_tokens + usage.completion_tokens,
        )
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

    async def create_stream(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = (),
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] | None = None,
        cancellation_token: CancellationToken | None = None,
    ) -> AsyncGenerator[str | CreateResult, None]:
        """Stream the whole answer as its final result (there are no partial chunks)."""
        yield self.play(
            messages, tools=tools, json_output=json_output, extra_create_args=extra_create_args
        ).result

    async def close(self) -> None:
        """Nothing to release."""

    def actual_usage(self) -> RequestUsage:
        return self._total

    def total_usage(self) -> RequestUsage:
        return self._total

    def count_tokens(
        self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = ()
    ) -> int:
        return prompt_tokens(messages, tools)

    def remaining_tokens(
        self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = ()
    ) -> int:
        return self._context_tokens - prompt_tokens(messages, tools)

    @property
    def capabilities(self) -> ModelCapabilities:
        capabilities: ModelCapabilities = {
            "vision": self._model_info["vision"],
            "function_calling": self._model_info["function_calling"],
            "json_output": self._model_info["json_output"],
        }
        return capabilities

    @property
    def model_info(self) -> ModelInfo:
        return self._model_info


def completion_text(content: str | list[FunctionCall]) -> str:
    """An answer's text as completion tokens are counted (tool calls as name + arguments JSON)."""
    if isinstance(content, str):
        return content
    return json.dumps([{"name": c.name, "arguments": c.arguments} for c in content])
