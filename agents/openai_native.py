"""An autogen `ChatCompletionClient` that speaks to OpenAI-compatible endpoints directly.

The default client for `provider: openai`. It sends the same requests autogen-ext's
`OpenAIChatCompletionClient` sends, over a lean keep-alive HTTP/1.1 pool instead of the
openai SDK + httpx stack, whose per-request work (request transforms, pool bookkeeping)
costs several milliseconds of CPU per call and caps a run's throughput long before the
endpoint does. `client: autogen` in a model config selects autogen-ext's client instead.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

import orjson
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

from agents.http11 import HttpClient, HttpStatusError
from agents.openai_wire import ToolChoice, error_message, parse_completion, request_body
from agents.simulated import prompt_tokens

_COMPLETIONS = "/chat/completions"


class NativeOpenAIClient(ChatCompletionClient):
    """Chat completions over HTTP/1.1 keep-alive; errors are `agents.http11` exceptions."""

    def __init__(
        self,
        *,
        model: str,
        base_url: str,
        api_key: str,
        model_info: ModelInfo,
        defaults: Mapping[str, Any] | None = None,
        max_connections: int = 16,
        context_tokens: int = 128_000,
    ) -> None:
        """`defaults` are request fields sent with every call (temperature, seed, ...)."""
        self._model = model
        self._http = HttpClient(
            base_url,
            headers={
                "Authorization": f"Bearer {api_key}",
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": "apigen-mt",
            },
            max_idle=max_connections,
        )
        self._model_info = model_info
        self._defaults = dict(defaults or {})
        self._context_tokens = context_tokens
        self._total = RequestUsage(prompt_tokens=0, completion_tokens=0)

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
        """One chat completion; raises HttpStatusError for an error status."""
        body = request_body(
            self._model,
            messages,
            tools=tools,
            tool_choice=tool_choice,
            json_output=json_output,
            defaults=self._defaults,
            extra=extra_create_args or {},
        )
        response = await self._http.post(_COMPLETIONS, orjson.dumps(body))
        if response.status >= 300:
            raise HttpStatusError(
                response.status,
                error_message(response.body),
                response.headers.get("retry-after"),
            )
        result = parse_completion(response.body)
        self._total = RequestUsage(
            prompt_tokens=self._total.prompt_tokens + result.usage.prompt_tokens,
            completion_tokens=self._total.completion_tokens + result.usage.completion_tokens,
        )
        return result

    async def create_stream(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Tool | ToolSchema] = (),
        tool_choice: ToolChoice = "auto",
        json_output: bool | type[BaseModel] | None = None,
        extra_create_args: Mapping[str, Any] | None = None,
        cancellation_token: CancellationToken | None = None,
    ) -> AsyncGenerator[str | CreateResult, None]:
        """The whole answer as its final result: this client does not stream tokens."""
        yield await self.create(
            messages,
            tools=tools,
            tool_choice=tool_choice,
            json_output=json_output,
            extra_create_args=extra_create_args,
        )

    async def close(self) -> None:
        """Close the parked connections."""
        await self._http.aclose()

    def actual_usage(self) -> RequestUsage:
        return self._total

    def total_usage(self) -> RequestUsage:
        return self._total

    def count_tokens(
        self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = ()
    ) -> int:
        """An estimate (four characters a token): the endpoint's tokenizer is unknown here."""
        return prompt_tokens(messages, tools)

    def remaining_tokens(
        self, messages: Sequence[LLMMessage], *, tools: Sequence[Tool | ToolSchema] = ()
    ) -> int:
        return self._context_tokens - self.count_tokens(messages, tools=tools)

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
