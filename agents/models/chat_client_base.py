"""What our autogen `ChatCompletionClient`s share, so each implements only how it answers.

A subclass implements `create` (adding each answer's usage with `_add_usage`); token
counts are an estimate (no tokenizer is known here) and `close` releases nothing unless
overridden.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any, Literal

from autogen_core import CancellationToken
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

from agents.models.request_text import prompt_tokens


class ChatClientBase(ChatCompletionClient):
    """Usage totals, a context window, capabilities and one-shot streaming."""

    def __init__(self, *, model_info: ModelInfo, context_tokens: int) -> None:
        self._model_info = model_info
        self._context_tokens = context_tokens
        self._total = RequestUsage(prompt_tokens=0, completion_tokens=0)

    def _add_usage(self, usage: RequestUsage) -> None:
        """Count one answer's tokens in the totals."""
        self._total = RequestUsage(
            prompt_tokens=self._total.prompt_tokens + usage.prompt_tokens,
            completion_tokens=self._total.completion_tokens + usage.completion_tokens,
        )

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
        """The whole answer as its final result: these clients do not stream tokens."""
        yield await self.create(
            messages,
            tools=tools,
            tool_choice=tool_choice,
            json_output=json_output,
            extra_create_args=extra_create_args or {},
            cancellation_token=cancellation_token,
        )

    async def close(self) -> None:
        """Nothing to release."""

    def actual_usage(self) -> RequestUsage:
        return self._total

    def total_usage(self) -> RequestUsage:
        return self._total

    def count_tokens(
        self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = ()
    ) -> int:
        """An estimate, four characters a token: the endpoint's tokenizer is unknown here."""
        return prompt_tokens(messages, tools)

    def remaining_tokens(
        self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = ()
    ) -> int:
        return self._context_tokens - self.count_tokens(messages, tools=tools)

    @property
    def capabilities(self) -> ModelCapabilities:
        info = self.model_info
        capabilities: ModelCapabilities = {
            "vision": info["vision"],
            "function_calling": info["function_calling"],
            "json_output": info["json_output"],
        }
        return capabilities

    @property
    def model_info(self) -> ModelInfo:
        return self._model_info
