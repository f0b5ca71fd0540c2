"""The behaviour our chat clients share: usage totals, token budget, capabilities, streaming."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from autogen_core import CancellationToken
from autogen_core.models import CreateResult, LLMMessage, RequestUsage, UserMessage
from autogen_core.tools import Tool, ToolSchema
from pydantic import BaseModel

from agents.models.chat_client_base import ChatClientBase
from agents.models.clients import DEFAULT_MODEL_INFO
from agents.models.openai_wire import ToolChoice
from agents.simulated import SimulatedChatCompletionClient

pytestmark = pytest.mark.anyio

HELLO = [UserMessage(content="Hello there!", source="user")]


class Echo(ChatClientBase):
    """Answers with the number of messages and records what `create` was given."""

    def __init__(self) -> None:
        super().__init__(model_info=DEFAULT_MODEL_INFO, context_tokens=100)
        self.calls: list[dict[str, Any]] = []

    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = (),
        tool_choice: ToolChoice = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] | None = None,
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        self.calls.append({"tool_choice": tool_choice, "json_output": json_output,
                           "extra": extra_create_args})  # fmt: skip
        usage = RequestUsage(prompt_tokens=len(messages), completion_tokens=2)
        self._add_usage(usage)
        return CreateResult(finish_reason="stop", content="ok", usage=usage, cached=False)

    def count_tokens(
        self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = ()
    ) -> int:
        return 10 * len(messages) + len(tools)


async def test_usage_totals_add_up_every_answer() -> None:
    client = Echo()
    await client.create(HELLO)
    await client.create(HELLO * 3)
    expected = RequestUsage(prompt_tokens=4, completion_tokens=4)
    assert client.total_usage() == client.actual_usage() == expected


async def test_a_stream_is_the_one_final_result_of_the_same_call() -> None:
    client = Echo()
    chunks = [
        chunk
        async for chunk in client.create_stream(
            HELLO, tool_choice="none", json_output=True, extra_create_args={"seed": 1}
        )
    ]
    assert [c.content for c in chunks if isinstance(c, CreateResult)] == ["ok"] and len(chunks) == 1
    assert client.calls == [{"tool_choice": "none", "json_output": True, "extra": {"seed": 1}}]
    assert client.total_usage().prompt_tokens == 1


def test_remaining_tokens_is_the_context_window_less_the_count() -> None:
    client = Echo()
    tools: list[ToolSchema] = [{"name": "a"}, {"name": "b"}]
    assert client.remaining_tokens(HELLO * 2, tools=tools) == 100 - 22


def test_capabilities_come_from_the_model_info() -> None:
    client = Echo()
    assert client.model_info is DEFAULT_MODEL_INFO
    assert client.capabilities == {
        "vision": DEFAULT_MODEL_INFO["vision"],
        "function_calling": DEFAULT_MODEL_INFO["function_calling"],
        "json_output": DEFAULT_MODEL_INFO["json_output"],
    }


async def test_the_simulated_client_streams_and_counts_through_the_base() -> None:
    client = SimulatedChatCompletionClient(context_tokens=1_000)
    chunks = [chunk async for chunk in client.create_stream(HELLO)]
    assert len(chunks) == 1 and isinstance(chunks[0], CreateResult)
    assert client.total_usage() == chunks[0].usage
    assert client.remaining_tokens(HELLO) == 1_000 - client.count_tokens(HELLO)
    await client.close()
