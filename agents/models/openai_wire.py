"""The OpenAI chat-completions wire format for autogen messages, both ways.

`request_json` turns autogen messages, tools and options into the JSON body an
OpenAI-compatible endpoint expects (the same shape autogen-ext's OpenAI client sends);
`parse_completion` turns a `chat.completion` answer into an autogen `CreateResult`.
An `EncodedView` brings its messages already encoded: a conversation's requests repeat
every earlier message, so each is encoded once, not once per request (and twice: the body
and the cache key).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal, overload

import orjson
from autogen_core import FunctionCall
from autogen_core.models import (
    AssistantMessage,
    CreateResult,
    FinishReasons,
    FunctionExecutionResultMessage,
    LLMMessage,
    RequestUsage,
    SystemMessage,
    UserMessage,
)
from autogen_core.tools import Tool, ToolSchema
from pydantic import BaseModel

from agents.models.completion_shapes import join_text
from agents.models.transport import HttpProtocolError

ToolChoice = Tool | Literal["auto", "required", "none"]

CREATE_ARGS = frozenset(
    {
        "audio", "extra_body", "frequency_penalty", "logit_bias", "logprobs",
        "max_completion_tokens", "max_tokens", "metadata", "modalities", "n",
        "parallel_tool_calls", "prediction", "presence_penalty", "reasoning_effort",
        "response_format", "seed", "service_tier", "stop", "store", "temperature",
        "top_logprobs", "top_p", "user", "web_search_options",
    }
)  # fmt: skip
"""Chat-completions request fields a caller may set; anything else goes in `extra_body`."""

_TOOLS_CACHE = 32
"""Distinct tool lists whose encoded form is kept: a run sends a few, with every call."""

_FINISH: dict[str, FinishReasons] = {
    "stop": "stop",
    "end_turn": "stop",
    "length": "length",
    "content_filter": "content_filter",
    "tool_calls": "function_calls",
    "function_calls": "function_calls",
}


def check_create_args(extra: Mapping[str, Any]) -> None:
    """Raise ValueError for an `extra` key that is no chat-completions field."""
    if CREATE_ARGS.issuperset(extra):  # every call asks: no set made when all is well
        return
    unknown = sorted(set(extra) - CREATE_ARGS)
    if unknown:
        raise ValueError(
            f"unknown create argument(s) {', '.join(unknown)}: "
            "put endpoint-specific fields under extra_body"
        )


def request_json(
    model: str,
    messages: Sequence[LLMMessage],
    *,
    tools: Sequence[Tool | ToolSchema],
    tool_choice: ToolChoice,
    json_output: bool | type[BaseModel] | None,
    defaults: Mapping[str, Any],
    extra: Mapping[str, Any],
) -> bytes:
    """The JSON body of one chat-completions request, encoded.

    `defaults` are the model's configured sampling options; `extra` (autogen's
    `extra_create_args`) overrides them, and its `extra_body` is merged in at the top.
    Raises ValueError for an `extra` key that is no chat-completions field.
    """
    check_create_args(extra)
    body: dict[str, Any] = {"model": model, "messages": wire_messages(messages), **defaults}
    if tools:
        body["tools"] = wire_tools(tools)
        body["tool_choice"] = (
            tool_choice
            if isinstance(tool_choice, str)
            else {"type": "function", "function": {"name": tool_choice.name}}
        )
    if json_output is True:
        body["response_format"] = {"type": "json_object"}
    elif isinstance(json_output, type):
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {
                "name": json_output.__name__,
                "schema": json_output.model_json_schema(),
                "strict": False,
            },
        }
    for key, value in extra.items():
        if key == "extra_body":
            body.update(value)
        else:
            body[key] = value
    return orjson.dumps(body)


class WireView(Sequence[LLMMessage]):
    """A request's messages that make their wire form on demand: `wire` is the request's
    `messages` entries in order (one per OpenAI message), made afresh each time it is read
    (for the cache key, then for the body) and kept by no one, so a call waiting for its
    answer holds only references to its conversation's messages, not an encoding of them.
    The autogen messages are made only for a client that asks for them (any but ours),
    from `make`; `count` is how many there are."""

    __slots__ = ("_count", "_made", "_make", "_wire")

    def __init__(
        self,
        wire: Callable[[], list[dict[str, Any] | orjson.Fragment]],
        count: int,
        make: Callable[[], list[LLMMessage]],
    ) -> None:
        self._wire = wire
        self._count = count
        self._make = make
        self._made: list[LLMMessage] | None = None

    @property
    def wire(self) -> list[dict[str, Any] | orjson.Fragment]:
        """The wire messages, made now."""
        return self._wire()

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> LLMMessage: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[LLMMessage]: ...

    def __getitem__(self, index: int | slice) -> LLMMessage | Sequence[LLMMessage]:
        return self._messages()[index]

    def __iter__(self) -> Iterator[LLMMessage]:
        return iter(self._messages())

    def _messages(self) -> list[LLMMessage]:
        if self._made is None:
            self._made = self._make()
        return self._made


def kept_json(value: Any, *, sort_keys: bool = False) -> orjson.Fragment:
    """`value` encoded, for keeping: orjson's own result holds its whole working buffer (at
    least 4 KB, however short the JSON), so what is kept is a copy of just the JSON."""
    encoded = orjson.dumps(value, option=orjson.OPT_SORT_KEYS if sort_keys else None)
    return orjson.Fragment(bytes(memoryview(encoded)))


def wire_messages(
    messages: Sequence[LLMMessage],
) -> list[dict[str, Any]] | list[dict[str, Any] | orjson.Fragment]:
    """Autogen messages as OpenAI chat messages (one `tool` message per function result);
    a `WireView` makes its own."""
    if isinstance(messages, WireView):
        return messages.wire
    wire: list[dict[str, Any]] = []
    for message in messages:
        if isinstance(message, FunctionExecutionResultMessage):
            wire.extend(
                {"role": "tool", "tool_call_id": result.call_id, "content": result.content}
                for result in message.content
            )
        else:
            wire.append(_wire_message(message))
    return wire


def _wire_message(message: LLMMessage) -> dict[str, Any]:
    if isinstance(message, SystemMessage):
        return {"role": "system", "content": message.content}
    if isinstance(message, UserMessage):
        if not isinstance(message.content, str):
            raise ValueError("images in user messages need provider 'openai' with client: autogen")
        return {"role": "user", "name": message.source, "content": message.content}
    if isinstance(message, AssistantMessage):
        if isinstance(message.content, str):
            return {"role": "assistant", "content": message.content}
        return {
            "role": "assistant",
            "content": message.thought,
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
                for call in message.content
            ],
        }
    raise TypeError(f"unknown message type {type(message).__name__}")


class ToolList(tuple[ToolSchema, ...]):
    """Tool schemas fixed for a phase, with both encodings every model call needs made once:
    the request's `tools` array (`wire_json`) and the cache key's canonical form
    (`key_json`). It holds its own copies of the schemas, so no one can change them after."""

    wire_json: orjson.Fragment
    key_json: orjson.Fragment

    def __new__(cls, schemas: Iterable[ToolSchema]) -> ToolList:
        copies: list[ToolSchema] = [orjson.loads(orjson.dumps(schema)) for schema in schemas]
        tools = super().__new__(cls, copies)
        tools.wire_json = kept_json([wire_tool(s) for s in copies])
        tools.key_json = kept_json(copies, sort_keys=True)
        return tools


def wire_tools(tools: Sequence[Tool | ToolSchema]) -> orjson.Fragment:
    """The request's `tools` array, already encoded (orjson inserts it as it is).

    A `ToolList` brings its own; other lists are cached keyed by the schemas' own JSON
    rather than by object identity, so a schema changed in place is a new key, never a
    stale answer.
    """
    if isinstance(tools, ToolList):
        return tools.wire_json
    schemas = [tool if isinstance(tool, dict) else tool.schema for tool in tools]
    return _wire_tools_json(orjson.dumps(schemas))


@functools.lru_cache(maxsize=_TOOLS_CACHE)
def _wire_tools_json(schemas: bytes) -> orjson.Fragment:
    return kept_json([wire_tool(schema) for schema in orjson.loads(schemas)])


def wire_tool(schema: ToolSchema) -> dict[str, Any]:
    """A tool as an OpenAI `function` tool; `strict` defaults to false, as autogen sends it."""
    function = schema if "strict" in schema else {**schema, "strict": False}
    return {"type": "function", "function": function}


def parse_completion(payload: bytes) -> CreateResult:
    """A `chat.completion` answer as a CreateResult; HttpProtocolError when it is not one.

    Like autogen-ext, tool calls win over text. Unlike it, every server's reasoning field
    (`reasoning_content`, or `reasoning` as vLLM now and Ollama name it) becomes the
    thought, tool calls or not, followed by any text beside the tool calls; a `refusal`
    (OpenAI) becomes the text of a `content_filter` stop, so callers see one refusal signal;
    and a `length` stop stays one even beside tool calls, so the gateway retries it.
    """
    try:
        data = orjson.loads(payload)
        choice = data["choices"][0]
        message = choice["message"]
        usage = data.get("usage") or {}
        tool_calls = message.get("tool_calls")
        finish: FinishReasons = _FINISH.get(str(choice.get("finish_reason")).lower(), "unknown")
        reasoning = _text(message.get("reasoning_content")) or _text(message.get("reasoning"))
        thought: str | None
        content: str | list[FunctionCall]
        if tool_calls:
            content = [_function_call(call) for call in tool_calls]
            thought = join_text(reasoning, _text(message.get("content")))
            finish = "length" if finish == "length" else "function_calls"
        elif message.get("refusal"):
            content, thought, finish = str(message["refusal"]), reasoning, "content_filter"
        else:
            content = message.get("content") or ""
            thought = reasoning or None
        return CreateResult(
            finish_reason=finish,
            content=content,
            usage=RequestUsage(
                prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0),
            ),
            cached=False,
            thought=thought,
        )
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:  # orjson too
        raise HttpProtocolError(f"not a chat completion: {type(exc).__name__}: {exc}") from exc


def _text(value: Any) -> str | None:
    """A text field's value; anything else (a field a server fills its own way) is None."""
    return value if isinstance(value, str) else None


def _function_call(call: Mapping[str, Any]) -> FunctionCall:
    function = call["function"]
    arguments = function.get("arguments") or "{}"
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments, ensure_ascii=False)  # a server that sent an object
    return FunctionCall(id=str(call.get("id") or ""), name=function["name"], arguments=arguments)


def error_message(payload: bytes) -> str:
    """The `error.message` of an error answer, else the start of its body."""
    try:
        error = json.loads(payload)["error"]
        return str(error["message"] if isinstance(error, dict) else error)
    except (ValueError, KeyError, TypeError):
        return payload[:200].decode("utf-8", "replace")
