"""The assistant agent: the domain policy as system prompt, the domain's tools on a fork.

A model answer is a text reply or tool calls (`take_answer`); tool calls run on the episode's
environment (`run_calls`), and their errors go back to the model as error results, never as
exceptions. A protocol's assistant and environment roles take these steps one message at a
time; `Assistant` takes a whole turn for hosts that drive turns themselves.

The domain policies allow one tool call at a time. When a model asks for several in one
message (parallel tool calls), only the first runs by default; every other call of that
message is answered with `NOT_RUN`, an error result, so each call id has its answer and the
model can ask again. `sequential_calls=False` runs them all, in order.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple, Protocol

import orjson
from autogen_core import FunctionCall
from autogen_core.models import (
    AssistantMessage,
    CreateResult,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    LLMMessage,
    SystemMessage,
    UserMessage,
)
from autogen_core.tools import ToolSchema

from agents.dialogue.transcript import ChatMessage, EndReason, ToolCall, Transcript
from agents.models.gateway import CallContext, ModelGateway
from agents.models.openai_wire import WireView, kept_json
from agents.simulated.scenario import ScenarioJSON, SimScenario, scenario_json
from domains.base import Domain
from domains.environment import ERROR_PREFIX, Environment, ToolResult

NOT_RUN = f"{ERROR_PREFIX}one tool call at a time; this call was not run"
"""The result of a call after the first in one message, when calls run one at a time."""

_REFUSAL = re.compile(
    r"^\W*(i'?m sorry,?\s*(but\s*)?)?i\s+(can(?:no|')t|cannot|am unable to|won'?t)\s+"
    r"(help|assist)\s+with\s+(that|this)",
    re.IGNORECASE,
)


def tool_schemas(domain: Domain) -> list[ToolSchema]:
    """The domain's tools as autogen tool schemas ({name, description, parameters})."""
    schemas: list[ToolSchema] = []
    for found in domain.tools.values():
        function = found.schema()["function"]
        schemas.append(
            ToolSchema(
                name=function["name"],
                description=function["description"],
                parameters=function["parameters"],
            )
        )
    return schemas


def is_refusal(result: CreateResult) -> bool:
    """A content-filter stop, or a text that declines to help at all."""
    if result.finish_reason == "content_filter":
        return True
    return isinstance(result.content, str) and _REFUSAL.search(result.content) is not None


_SYSTEM_PROMPTS = 16
"""Distinct system prompts whose encoding is kept: a run's assistants share a few."""


@functools.lru_cache(maxsize=_SYSTEM_PROMPTS)
def _system_message(text: str) -> orjson.Fragment:
    """The system message, encoded once per run (one copy for every conversation)."""
    return kept_json({"role": "system", "content": text}, sort_keys=True)


def model_view(system: str, messages: Sequence[ChatMessage]) -> WireView:
    """The assistant's request from the transcript: consecutive tool results are grouped.

    It holds the transcript's messages, not their encoding: the wire messages are made when
    the request's key and body are (see `WireView`), and autogen's only for a client that
    reads them.
    """
    snapshot = list(messages)
    count, after_tool = 1, False
    for message in snapshot:
        is_tool = message.role == "tool"
        count += not (is_tool and after_tool)
        after_tool = is_tool
    return WireView(
        functools.partial(_wire_view, system, snapshot),
        count,
        functools.partial(_autogen_view, system, snapshot),
    )


def _wire_view(system: str, messages: list[ChatMessage]) -> list[dict[str, Any] | orjson.Fragment]:
    """The transcript as OpenAI chat messages, as `wire_messages` makes them from
    `_autogen_view` (each tool result its own message), without the autogen objects."""
    wire: list[dict[str, Any] | orjson.Fragment] = [_system_message(system)]
    wire.extend(map(_wire_message, messages))
    return wire


def _wire_message(message: ChatMessage) -> dict[str, Any]:
    if message.role == "user":
        return {"role": "user", "name": "user", "content": message.content}
    if message.role == "tool":
        return {
            "role": "tool",
            "tool_call_id": message.tool_call_id or "",
            "content": message.content,
        }
    if message.tool_calls:
        calls = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": _arguments_text(call)},
            }
            for call in message.tool_calls
        ]
        return {"role": "assistant", "content": None, "tool_calls": calls}
    return {"role": "assistant", "content": message.content}


def _autogen_view(system: str, messages: list[ChatMessage]) -> list[LLMMessage]:
    """The transcript as autogen messages, consecutive tool results as one message."""
    view: list[LLMMessage] = [SystemMessage(content=system)]
    results: list[ChatMessage] = []
    for message in messages:
        if message.role == "tool":
            results.append(message)
            continue
        if results:
            view.append(_results_message(results))
            results = []
        view.append(_llm_message(message))
    if results:
        view.append(_results_message(results))
    return view


def _results_message(results: list[ChatMessage]) -> FunctionExecutionResultMessage:
    """Consecutive tool results of the transcript as autogen's one message."""
    return FunctionExecutionResultMessage(
        content=[
            FunctionExecutionResult(
                content=message.content,
                call_id=message.tool_call_id or "",
                name=message.name or "",
                is_error=message.is_error,
            )
            for message in results
        ]
    )


def _llm_message(message: ChatMessage) -> LLMMessage:
    """A user or assistant transcript message as autogen's."""
    if message.role == "user":
        return UserMessage(content=message.content, source="user")
    if message.tool_calls:
        calls = [
            FunctionCall(id=c.id, name=c.name, arguments=_arguments_text(c))
            for c in message.tool_calls
        ]
        return AssistantMessage(content=calls, source="assistant")
    return AssistantMessage(content=message.content, source="assistant")


_ARGUMENTS = json.JSONEncoder(ensure_ascii=False)
"""`json.dumps(..., ensure_ascii=False)` without building an encoder per call: every request
re-encodes the arguments of each earlier call of its conversation."""


def _arguments_text(call: ToolCall) -> str:
    if call.invalid_arguments is not None:
        return call.invalid_arguments
    return _ARGUMENTS.encode(call.arguments)


def parse_call(call: FunctionCall, fallback_id: str) -> ToolCall:
    """A model's function call as a recorded tool call; bad JSON is kept verbatim."""
    call_id = call.id or fallback_id
    try:
        arguments: Any = json.loads(call.arguments) if call.arguments.strip() else {}
    except json.JSONDecodeError:
        arguments = None
    if not isinstance(arguments, dict):
        return ToolCall(id=call_id, name=call.name, invalid_arguments=call.arguments)
    return ToolCall(id=call_id, name=call.name, arguments=arguments)


@dataclass
class AssistantReply:
    """How an assistant turn ended: `end` is set when the conversation must stop."""

    end: EndReason | None = None
    error: str = ""


class TurnAssistant(Protocol):
    """An assistant that takes a whole turn itself (its tool calls included): for hosts
    that drive the turns, such as an autogen team. Our `Assistant` is one;
    `agents.bridges.autogen_assistant.AutogenAssistant` (an autogen `AssistantAgent`) another."""

    @property
    def system_prompt(self) -> str: ...

    @property
    def tools(self) -> Sequence[ToolSchema]: ...

    async def respond(self, transcript: Transcript) -> AssistantReply: ...


def take_answer(
    transcript: Transcript, result: CreateResult, next_id: Callable[[], str]
) -> list[ToolCall] | None:
    """Append the model's answer to the transcript: its text (then None), or its tool calls
    (returned; `next_id` names a call the model left without an id)."""
    if isinstance(result.content, str):
        transcript.messages.append(
            ChatMessage(role="assistant", content=result.content.strip(), reasoning=result.thought)
        )
        return None
    calls = [parse_call(call, next_id()) for call in result.content]
    transcript.messages.append(
        ChatMessage(role="assistant", tool_calls=calls, reasoning=result.thought)
    )
    return calls


def run_calls(
    env: Environment,
    calls: Sequence[ToolCall],
    *,
    sequential: bool,
    transfer_tools: Collection[str],
    executed: list[ExecutedCall] | None = None,
) -> tuple[list[ChatMessage], bool]:
    """Each call's result (only the first runs when `sequential`: the others get `NOT_RUN`),
    and whether a transfer to a human agent succeeded. Calls that reach `env` are appended
    to `executed` when given (the policy check reads them instead of replaying the calls)."""
    results: list[ChatMessage] = []
    transferred = False
    for index, call in enumerate(calls):
        if index and sequential:
            results.append(_not_run(call))
            continue
        result = _execute(env, call, executed)
        results.append(result)
        transferred |= call.name in transfer_tools and not result.is_error
    return results, transferred


def _execute(env: Environment, call: ToolCall, executed: list[ExecutedCall] | None) -> ChatMessage:
    if call.invalid_arguments is not None:
        output = f"{ERROR_PREFIX}arguments are not a JSON object: {call.invalid_arguments}"
        ok = False
    else:
        result = env.call(call.name, call.arguments)
        output, ok = result.output, result.ok
        if executed is not None:
            executed.append(ExecutedCall.of(call, result))
    return ChatMessage(
        role="tool", content=output, tool_call_id=call.id, name=call.name, is_error=not ok
    )


class ExecutedCall(NamedTuple):
    """A call of the conversation as the environment ran it: its id and its result.

    Kept by a live episode until its policy check, so a JSON record or list (a read tool's
    record copy, often a few KB) is not kept: its output is that value as JSON, decoded
    again by `full_result` when the check reads it. Other values (text, tuples, objects a
    class-adapter tool returns) are kept as they are, so the rules see them unchanged.
    """

    call_id: str
    result: ToolResult
    value_in_output: bool = False

    @classmethod
    def of(cls, call: ToolCall, result: ToolResult) -> ExecutedCall:
        """The lean record of `call` run as `result` (its arguments are the call's own)."""
        if type(result.value) not in (dict, list):
            return cls(call.id, result)  # a text value is the output itself
        return cls(call.id, replace(result, arguments=call.arguments, value=None), True)

    def full_result(self) -> ToolResult:
        """The result as the environment returned it, value included."""
        if not self.value_in_output:
            return self.result
        return replace(self.result, value=json.loads(self.result.output))


def _not_run(call: ToolCall) -> ChatMessage:
    return ChatMessage(
        role="tool", content=NOT_RUN, tool_call_id=call.id, name=call.name, is_error=True
    )


@dataclass
class Assistant:
    """One episode's assistant taking whole turns on `env` (a fork of the phase's base
    environment), for hosts that drive the turns (see `TurnAssistant`); a protocol's
    assistant and environment roles take the same steps one message at a time."""

    gateway: ModelGateway
    model: str
    system_prompt: str
    tools: list[ToolSchema]
    env: Environment
    scenario: SimScenario | ScenarioJSON | None  # None: the model plays no scripts
    call: CallContext
    timeout_s: float
    max_tool_steps: int = 10
    transfer_tools: Collection[str] = ("transfer_to_human_agents",)
    sequential_calls: bool = True
    _calls: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.scenario is not None:  # sent with every call: dump it once
            self.scenario = scenario_json(self.scenario)

    async def respond(self, transcript: Transcript) -> AssistantReply:
        """One turn: call tools until the model answers in text; append every message."""
        for _ in range(self.max_tool_steps + 1):
            result = await self.gateway.create(
                self.model,
                model_view(self.system_prompt, transcript.messages),
                tools=self.tools,
                scenario=self.scenario,
                call=self.call,
                timeout_s=self.timeout_s,
            )
            calls = take_answer(transcript, result, self._next_id)
            if calls is None:
                return AssistantReply("refusal" if is_refusal(result) else None)
            results, transferred = run_calls(
                self.env,
                calls,
                sequential=self.sequential_calls,
                transfer_tools=self.transfer_tools,
            )
            transcript.messages.extend(results)
            if transferred:
                return AssistantReply(end="transfer")
        return AssistantReply(
            end="tool_steps", error=f"no text answer after {self.max_tool_steps} tool steps"
        )

    def _next_id(self) -> str:
        self._calls += 1
        return f"call_{self._calls}"
