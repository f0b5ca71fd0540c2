"""autogen-agentchat as a role of ours: an autogen `AssistantAgent` as the episode's assistant.

`AutogenAssistant` implements what `converse` asks of an assistant (`system_prompt`,
`tools`, `respond(transcript)`), with the domain's tools as autogen tools bound to the
episode's environment fork: arguments are validated by each tool's pydantic model inside
`Environment.call`, never evaluated. `GatewayChatCompletionClient` lets any autogen agent
talk through our model gateway (limits, retries, cache, recorded calls, simulated scripts).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import aclosing
from typing import Any, Literal

import anyio
from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.base import Response
from autogen_agentchat.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    TextMessage,
    ToolCallExecutionEvent,
    ToolCallRequestEvent,
    ToolCallSummaryMessage,
)
from autogen_core import CancellationToken, FunctionCall
from autogen_core.models import (
    ChatCompletionClient,
    CreateResult,
    LLMMessage,
    RequestUsage,
)
from autogen_core.tools import BaseTool, Tool, ToolSchema
from pydantic import BaseModel

from agents.dialogue.assistant import AssistantReply, is_refusal, parse_call
from agents.dialogue.transcript import ChatMessage, ToolCall, Transcript
from agents.models.chat_client_base import ChatClientBase
from agents.models.gateway import CallContext, ModelGateway
from agents.simulated.scenario import ScenarioJSON, SimScenario, scenario_json
from domains.environment import Environment
from runtime.errors import ModelError

DEFAULT_TRANSFER_TOOLS = ("transfer_to_human_agents",)


class ToolCallFailed(Exception):
    """A domain tool's error result, raised so that autogen marks the call as an error."""


class EnvironmentTool(BaseTool[BaseModel, Any]):
    """One domain tool as an autogen tool, run by `env.call` on the episode's fork.

    The schema is the domain tool's own; `run_json` hands the raw arguments to `env.call`,
    which validates them with the tool's pydantic model and records the call.
    """

    def __init__(self, env: Environment, name: str) -> None:
        found = env.domain.tools[name]
        return_type: Any = str
        super().__init__(found.args_model, return_type, name, found.description)
        self._env = env
        self._function: dict[str, Any] = found.schema()["function"]

    @property
    def schema(self) -> ToolSchema:
        """The same schema our own assistant sends for this tool."""
        return ToolSchema(
            name=self._function["name"],
            description=self._function["description"],
            parameters=self._function["parameters"],
        )

    async def run(self, args: BaseModel, cancellation_token: CancellationToken) -> str:
        """Run with already parsed arguments (autogen's own entry point)."""
        return await self.run_json(args.model_dump(exclude_unset=True), cancellation_token)

    async def run_json(
        self,
        args: Mapping[str, Any],
        cancellation_token: CancellationToken,
        call_id: str | None = None,
    ) -> str:
        """Call the tool on the fork; an error result is raised as `ToolCallFailed`."""
        result = self._env.call(self.name, dict(args))
        if not result.ok:
            raise ToolCallFailed(result.output)
        return result.output


def environment_tools(env: Environment) -> list[EnvironmentTool]:
    """Every tool of `env`'s domain, bound to `env`."""
    return [EnvironmentTool(env, name) for name in env.domain.tools]


class GatewayChatCompletionClient(ChatClientBase):
    """An autogen model client that sends every request through our `ModelGateway`.

    `scenario` reaches simulated models (the script they play) and `call` labels the
    recorded calls; the gateway owns the real clients, so `close` releases nothing.
    """

    def __init__(
        self,
        gateway: ModelGateway,
        model: str,
        *,
        scenario: SimScenario | ScenarioJSON | None = None,
        call: CallContext | None = None,
        timeout_s: float | None = None,
    ) -> None:
        super().__init__(model_info=gateway.model_info(model), context_tokens=128_000)
        self._gateway = gateway
        self._model = model
        plays = gateway.plays_scripts(model)
        self._scenario = scenario_json(scenario) if scenario and plays else None  # dumped once
        self._call = call or CallContext()
        self._timeout_s = timeout_s
        self._last = RequestUsage(prompt_tokens=0, completion_tokens=0)

    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = (),
        tool_choice: Tool | Literal["auto", "required", "none"] = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] = {},
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        """One completion through the gateway (bounded by `timeout_s` when set)."""
        with anyio.fail_after(self._timeout_s):
            result = await self._gateway.create(
                self._model,
                messages,
                tools=tools,
                tool_choice=tool_choice,
                json_output=json_output,
                scenario=self._scenario,
                call=self._call,
                extra=extra_create_args or None,
            )
        self._last = result.usage
        self._add_usage(result.usage)
        return result

    def actual_usage(self) -> RequestUsage:
        """The last answer's usage."""
        return self._last


class AutogenAssistant:
    """An autogen `AssistantAgent` (any model client) playing our assistant role.

    It holds the domain's tools bound to `env`; each `respond` feeds the new user turns to
    the agent and records its tool calls, tool results and answer in the transcript, with the
    same endings as our `Assistant`: a successful transfer tool call, a refusal, or no text
    answer after `max_tool_steps` tool rounds. `agent` is the autogen agent itself.
    """

    def __init__(
        self,
        model_client: ChatCompletionClient,
        env: Environment,
        system_prompt: str,
        *,
        name: str = "assistant",
        max_tool_steps: int = 10,
        transfer_tools: Collection[str] = DEFAULT_TRANSFER_TOOLS,
        turn_timeout_s: float | None = None,
    ) -> None:
        tools = environment_tools(env)
        agent_tools: list[BaseTool[Any, Any] | Callable[..., Any]] = [*tools]
        self.env = env
        self.transfer_tools = frozenset(transfer_tools)
        self.turn_timeout_s = turn_timeout_s
        self._system_prompt = system_prompt
        self._tools = [tool.schema for tool in tools]
        self._seen = 0
        self._fallback_ids = 0
        self.agent = AssistantAgent(
            name,
            model_client,
            tools=agent_tools,
            system_message=system_prompt,
            reflect_on_tool_use=False,
            max_tool_iterations=max_tool_steps + 1,
        )
        self.max_tool_steps = max_tool_steps

    @property
    def system_prompt(self) -> str:
        return self._system_prompt

    @property
    def tools(self) -> list[ToolSchema]:
        return self._tools

    async def reset(self) -> None:
        """Forget the conversation: the agent's model context and the transcript position."""
        await self.agent.on_reset(CancellationToken())
        self._seen = 0

    async def respond(self, transcript: Transcript) -> AssistantReply:
        """One turn of the autogen agent; every message it produces goes to the transcript."""
        new = [
            TextMessage(content=m.content, source="user")
            for m in transcript.messages[self._seen :]
            if m.role == "user"
        ]
        try:
            with anyio.fail_after(self.turn_timeout_s):
                reply = await self._run(new, transcript)
        except (ModelError, TimeoutError):
            raise
        except Exception as exc:
            name = type(exc).__name__
            raise ModelError(f"autogen:{self.agent.name}", f"{name}: {exc}") from exc
        finally:
            self._seen = len(transcript.messages)
        return reply

    async def _run(self, new: list[TextMessage], transcript: Transcript) -> AssistantReply:
        stream = self.agent.on_messages_stream(new, CancellationToken())
        async with aclosing(stream):
            async for event in stream:
                if isinstance(event, Response):
                    return self._final(event.chat_message, transcript)
                if self._record(event, transcript):
                    return AssistantReply(end="transfer")
        raise ModelError(f"autogen:{self.agent.name}", "the agent ended without a response")

    def _record(self, event: BaseAgentEvent | BaseChatMessage, transcript: Transcript) -> bool:
        """Append a tool request or its results; True when a transfer tool succeeded."""
        if isinstance(event, ToolCallRequestEvent):
            calls = [self._parse(call) for call in event.content]
            transcript.messages.append(ChatMessage(role="assistant", tool_calls=calls))
        elif isinstance(event, ToolCallExecutionEvent):
            for result in event.content:
                transcript.messages.append(
                    ChatMessage(
                        role="tool",
                        content=result.content,
                        tool_call_id=result.call_id,
                        name=result.name,
                        is_error=bool(result.is_error),
                    )
                )
            return any(r.name in self.transfer_tools and not r.is_error for r in event.content)
        return False

    def _parse(self, call: FunctionCall) -> ToolCall:
        self._fallback_ids += 1
        return parse_call(call, f"call_{self._fallback_ids}")

    def _final(self, message: BaseChatMessage, transcript: Transcript) -> AssistantReply:
        if isinstance(message, ToolCallSummaryMessage):
            return AssistantReply(
                end="tool_steps", error=f"no text answer after {self.max_tool_steps} tool steps"
            )
        text = message.content if isinstance(message, TextMessage) else message.to_model_text()
        transcript.messages.append(ChatMessage(role="assistant", content=text.strip()))
        result = CreateResult(
            finish_reason="stop",
            content=text,
            usage=RequestUsage(prompt_tokens=0, completion_tokens=0),
            cached=False,
        )
        return AssistantReply("refusal" if is_refusal(result) else None)
