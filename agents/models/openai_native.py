"""An autogen `ChatCompletionClient` that speaks to OpenAI-compatible endpoints directly.

The default client for `provider: openai`. It sends the same requests autogen-ext's
`OpenAIChatCompletionClient` sends, over aiohttp (`agents.models.transport`) instead of the openai
SDK + httpx stack, whose per-request work (request transforms, pool bookkeeping) costs
about two milliseconds of CPU per call and caps a run's throughput long before the endpoint
does. `client: autogen` in a model config selects autogen-ext's client instead.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from autogen_core import CancellationToken
from autogen_core.models import CreateResult, LLMMessage, ModelInfo
from autogen_core.tools import Tool, ToolSchema
from pydantic import BaseModel

from agents.models.chat_client_base import ChatClientBase
from agents.models.openai_wire import (
    ToolChoice,
    check_create_args,
    error_message,
    parse_completion,
    request_json,
)
from agents.models.transport import HttpClient, HttpResponse, HttpStatusError

_COMPLETIONS = "/chat/completions"


class NativeOpenAIClient(ChatClientBase):
    """Chat completions over a keep-alive pool; errors are `agents.models.transport` exceptions."""

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
        environ: Mapping[str, str] | None = None,
    ) -> None:
        """`defaults` are request fields sent with every call (temperature, seed, ...);
        `environ` (default: the process's) holds the proxy settings. Raises ValueError for
        a base URL or proxy setting the transport cannot honour."""
        super().__init__(model_info=model_info, context_tokens=context_tokens)
        self._model = model
        self._http = HttpClient(
            base_url,
            headers={
                "Authorization": f"Bearer {api_key}",
                "Content-Type": "application/json",
                "Accept": "application/json",
                "User-Agent": "apigen-mt",
            },
            max_connections=max_connections,
            environ=environ,
        )
        self._defaults = dict(defaults or {})

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
        """One chat completion; raises HttpStatusError for an error status.

        The body is encoded when the request is made, not before it gets its connection.
        """
        extra = extra_create_args or {}
        check_create_args(extra)  # a bad call fails before any connection is made
        body = functools.partial(
            request_json,
            self._model,
            messages,
            tools=tools,
            tool_choice=tool_choice,
            json_output=json_output,
            defaults=self._defaults,
            extra=extra,
        )
        response = await self._http.post(_COMPLETIONS, body)
        if response.status >= 300:
            raise HttpStatusError(response.status, error_message(response.body), response.headers)
        result = parse_completion(response.body)
        self._add_usage(result.usage)
        return result

    async def probe(self) -> HttpResponse:
        """`GET {base_url}/models` through the same proxy, TLS trust and headers as calls:
        any answer (401 and 404 too) shows the endpoint is reachable from here."""
        return await self._http.get("/models")

    async def close(self) -> None:
        """Close the pool's connections."""
        await self._http.aclose()
