"""The native OpenAI client and its HTTP/1.1 pool against a scripted raw-socket server."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import orjson
import pytest
from anyio.abc import SocketAttribute, SocketStream
from autogen_core import FunctionCall
from autogen_core.models import (
    AssistantMessage,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    LLMMessage,
    SystemMessage,
    UserMessage,
)
from autogen_core.tools import FunctionTool, ToolSchema
from autogen_ext.models.openai import OpenAIChatCompletionClient
from pydantic import BaseModel

from agents.models.clients import DEFAULT_MODEL_INFO
from agents.models.gateway import classify
from agents.models.openai_native import NativeOpenAIClient
from agents.models.openai_wire import request_json, wire_messages
from agents.models.transport import HttpClient, HttpConnectError, HttpProtocolError, HttpStatusError

pytestmark = pytest.mark.anyio

TOOLS: list[ToolSchema] = [
    {
        "name": "get_order",
        "description": "Look an order up.",
        "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}},
    }
]
CONVERSATION: list[LLMMessage] = [
    SystemMessage(content="You are a retail agent."),
    UserMessage(content="Where is order #W1?", source="user"),
    AssistantMessage(
        content=[FunctionCall(id="call_1", name="get_order", arguments='{"order_id": "#W1"}')],
        thought="Let me look.",
        source="assistant",
    ),
    FunctionExecutionResultMessage(
        content=[
            FunctionExecutionResult(
                content='{"status": "shipped"}', call_id="call_1", name="get_order"
            )
        ]
    ),
    AssistantMessage(content="It has shipped.", source="assistant"),
    UserMessage(content="Thanks!", source="user"),
]


def completion(message: dict[str, Any], finish: str = "stop") -> bytes:
    """A chat.completion body with `message` as its only choice."""
    return json.dumps(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": "m",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
        }
    ).encode()


TEXT_ANSWER = completion({"role": "assistant", "content": "Hello there."})


def http_response(
    body: bytes, status: str = "200 OK", headers: str = "", chunked: bool = False
) -> bytes:
    if chunked:
        middle = len(body) // 2
        parts = [body[:middle], body[middle:]]
        payload = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
        framing = "Transfer-Encoding: chunked\r\n"
    else:
        payload, framing = body, f"Content-Length: {len(body)}\r\n"
    head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{headers}{framing}\r\n"
    return head.encode() + payload


@dataclass
class ScriptedServer:
    """Answers request i with `answers[i]`; `close_after` closes the socket after an answer."""

    answers: list[bytes]
    close_after: set[int] = field(default_factory=set)
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    connections: int = 0
    port: int = 0
    received: anyio.Event = field(default_factory=anyio.Event)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def handle(self, stream: SocketStream) -> None:
        self.connections += 1
        buffer = b""
        async with stream:
            while True:
                while b"\r\n\r\n" not in buffer:
                    try:
                        buffer += await stream.receive()
                    except (anyio.EndOfStream, anyio.BrokenResourceError):
                        return
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                request_line, *lines = head.decode().split("\r\n")
                headers = {
                    k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines)
                }
                size = int(headers.get("content-length", "0"))
                while len(buffer) < size:
                    buffer += await stream.receive()
                body, buffer = buffer[:size], buffer[size:]
                index = len(self.requests)
                self.requests.append((request_line, headers, body))
                self.received.set()
                await stream.send(self.answers[min(index, len(self.answers) - 1)])
                if index in self.close_after:
                    return

    def body(self, index: int) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.requests[index][2])
        return parsed


@asynccontextmanager
async def scripted(
    answers: list[bytes], close_after: set[int] | None = None
) -> AsyncIterator[ScriptedServer]:
    server = ScriptedServer(answers, close_after or set())
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    async with listener, anyio.create_task_group() as group:
        server.port = listener.extra(SocketAttribute.local_port)
        group.start_soon(listener.serve, server.handle)
        yield server
        group.cancel_scope.cancel()


def native(base_url: str, **kwargs: Any) -> NativeOpenAIClient:
    return NativeOpenAIClient(
        model="m", base_url=base_url, api_key="sk-test-native", model_info=DEFAULT_MODEL_INFO,
        **kwargs,
    )  # fmt: skip


async def test_a_text_answer_becomes_a_create_result_and_the_request_is_well_formed() -> None:
    async with scripted([http_response(TEXT_ANSWER)]) as server:
        client = native(server.base_url, defaults={"temperature": 0.0})
        result = await client.create([UserMessage(content="Hi", source="user")])
        await client.close()
    assert (result.content, result.finish_reason) == ("Hello there.", "stop")
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (7, 3)
    request_line, headers, _ = server.requests[0]
    assert request_line == "POST /v1/chat/completions HTTP/1.1"
    assert headers["authorization"] == "Bearer sk-test-native"
    assert headers["host"] == f"127.0.0.1:{server.port}"
    assert server.body(0) == {
        "model": "m",
        "messages": [{"role": "user", "name": "user", "content": "Hi"}],
        "temperature": 0.0,
    }
    assert client.total_usage().prompt_tokens == 7


async def test_tool_calls_win_over_text_which_becomes_the_thought() -> None:
    answer = completion(
        {
            "role": "assistant",
            "content": "Checking.",
            "tool_calls": [
                {"id": "c9", "type": "function",
                 "function": {"name": "get_order", "arguments": {"order_id": "#W2"}}},
            ],
        },
        finish="stop",
    )  # fmt: skip
    async with scripted([http_response(answer)]) as server:
        client = native(server.base_url)
        result = await client.create(CONVERSATION, tools=TOOLS, tool_choice="required")
        await client.close()
    assert result.finish_reason == "function_calls" and result.thought == "Checking."
    assert result.content == [
        FunctionCall(id="c9", name="get_order", arguments='{"order_id": "#W2"}')
    ]
    body = server.body(0)
    assert body["tool_choice"] == "required"
    assert body["tools"] == [{"type": "function", "function": {**TOOLS[0], "strict": False}}]


class Verdict(BaseModel):
    ok: bool


@pytest.mark.parametrize(
    "json_output", [None, True, Verdict], ids=["text", "json-object", "json-schema"]
)
async def test_requests_match_what_autogens_openai_client_sends(json_output: Any) -> None:
    """The same call through both clients puts the same request fields on the wire.

    (autogen parses structured output only with strict tools, so that case has none.)
    """
    tools = [] if json_output is Verdict else TOOLS
    verdict = completion({"role": "assistant", "content": '{"ok": true}'})
    async with scripted([http_response(verdict)]) as server:
        ours = native(server.base_url)
        theirs = OpenAIChatCompletionClient(
            model="m", base_url=server.base_url, api_key="sk-test-native",
            model_info={**DEFAULT_MODEL_INFO, "structured_output": True}, max_retries=0,
        )  # fmt: skip
        answers = []
        for client in (ours, theirs):
            answers.append(
                await client.create(
                    CONVERSATION,
                    tools=tools,
                    json_output=json_output,
                    extra_create_args={"seed": 3},
                )
            )
            await client.close()
    compared = ("model", "messages", "tools", "tool_choice", "seed")
    native_body, autogen_body = server.body(0), server.body(1)
    assert {k: native_body.get(k) for k in compared} == {k: autogen_body.get(k) for k in compared}
    native_format = native_body.get("response_format", {})
    autogen_format = autogen_body.get("response_format", {})
    assert native_format.get("type") == autogen_format.get("type")
    if json_output is Verdict:
        assert native_format["json_schema"]["name"] == autogen_format["json_schema"]["name"]
        assert native_format["json_schema"]["schema"]["properties"] == {
            "ok": {"title": "Ok", "type": "boolean"}
        }
    assert answers[0].content == answers[1].content
    assert answers[0].usage == answers[1].usage


async def test_an_unknown_create_argument_is_refused_before_sending() -> None:
    async with scripted([http_response(TEXT_ANSWER)]) as server:
        client = native(server.base_url)
        with pytest.raises(ValueError, match=r"unknown create argument.*extra_body"):
            await client.create(CONVERSATION, extra_create_args={"bogus": 1})
        await client.create(CONVERSATION, extra_create_args={"extra_body": {"top_k": 4}})
        await client.close()
    assert len(server.requests) == 1 and server.body(0)["top_k"] == 4


async def test_keep_alive_reuses_one_connection_and_chunked_bodies_parse() -> None:
    answers = [http_response(TEXT_ANSWER, chunked=True), http_response(TEXT_ANSWER)]
    async with scripted(answers) as server:
        client = HttpClient(server.base_url, headers={}, max_connections=4)
        first = await client.post("/chat/completions", lambda: b"{}")
        second = await client.post("/chat/completions", lambda: b"{}")
        await client.aclose()
    assert first.body == second.body == TEXT_ANSWER
    assert server.connections == 1


async def test_a_connection_the_server_closed_while_parked_is_replaced() -> None:
    async with scripted([http_response(TEXT_ANSWER)], close_after={0}) as server:
        client = HttpClient(server.base_url, headers={}, max_connections=4)
        await client.post("/x", lambda: b"{}")
        await anyio.sleep(0.05)  # the server has closed the parked socket by now
        again = await client.post("/x", lambda: b"{}")
        await client.aclose()
    assert again.status == 200 and server.connections == 2


async def test_connection_close_and_a_body_read_to_the_end_of_the_stream() -> None:
    unframed = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + TEXT_ANSWER
    async with scripted([unframed], close_after={0, 1}) as server:
        client = HttpClient(server.base_url, headers={}, max_connections=4)
        first = await client.post("/x", lambda: b"{}")
        await client.post("/x", lambda: b"{}")
        await client.aclose()
    assert first.body == TEXT_ANSWER and server.connections == 2


@pytest.mark.parametrize(
    ("answer", "error", "classified"),
    [
        (
            http_response(
                b'{"error": {"message": "slow down"}}', "429 Too Many", "Retry-After: 3\r\n"
            ),
            HttpStatusError,
            (True, "rate limited (HTTP 429)", 3.0),
        ),
        (
            http_response(b"oops", "503 Unavailable"),
            HttpStatusError,
            (True, "server error (HTTP 503)", None),
        ),
        (
            http_response(b'{"error": {"message": "no such model"}}', "404 Not Found"),
            HttpStatusError,
            (False, "HTTP 404: no such model", None),
        ),
        (http_response(TEXT_ANSWER[:40]), HttpProtocolError, None),
        (http_response(b'{"choices": []}'), HttpProtocolError, None),
        (b"SMTP ready\r\n\r\n", HttpProtocolError, None),
    ],
    ids=["429", "503", "404", "truncated-json", "no-choices", "not-http"],
)
async def test_failures_raise_errors_the_gateway_classifies(
    answer: bytes, error: type[Exception], classified: tuple[bool, str, float | None] | None
) -> None:
    async with scripted([answer]) as server:
        client = native(server.base_url)
        with pytest.raises(error) as raised:
            await client.create(CONVERSATION)
        await client.close()
    retryable, reason, retry_after, stops_run = classify(raised.value)
    assert not stops_run
    if classified is not None:
        assert (retryable, reason, retry_after) == classified
    else:
        assert retryable and reason.startswith("malformed response")


async def test_an_unreachable_endpoint_is_a_retryable_connection_error() -> None:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(SocketAttribute.local_port)
    await listener.aclose()
    client = native(f"http://127.0.0.1:{port}/v1")
    with pytest.raises(HttpConnectError) as raised:
        await client.create(CONVERSATION)
    assert classify(raised.value)[0] is True


async def test_a_cancelled_request_drops_its_connection() -> None:
    """A half-finished exchange never goes back to the pool: the next call reconnects."""
    silent = b""  # the first request is never answered
    async with scripted([silent, http_response(TEXT_ANSWER)]) as server:
        client = HttpClient(server.base_url, headers={}, max_connections=4)
        with anyio.move_on_after(0.1):
            await client.post("/x", lambda: b"{}")
        answer = await client.post("/x", lambda: b"{}")
        await client.aclose()
    assert answer.body == TEXT_ANSWER and server.connections == 2


def encode(tools: list[ToolSchema] | list[FunctionTool], **extra: Any) -> bytes:
    return request_json(
        "m", CONVERSATION, tools=tools, tool_choice="auto", json_output=None,
        defaults={"temperature": 0.5}, extra=extra,
    )  # fmt: skip


def test_cached_tools_encode_exactly_as_the_body_built_in_full() -> None:
    scenario = {"extra_body": {"apigen_scenario": {"role": "assistant"}}}
    expected = orjson.dumps(
        {
            "model": "m",
            "messages": wire_messages(CONVERSATION),
            "temperature": 0.5,
            "tools": [{"type": "function", "function": {**TOOLS[0], "strict": False}}],
            "tool_choice": "auto",
            "seed": 3,
            "apigen_scenario": {"role": "assistant"},
        }
    )
    first = encode(TOOLS, seed=3, **scenario)
    again = encode([dict(TOOLS[0])], seed=3, **scenario)  # an equal copy: a cache hit
    assert first == again == expected


def test_a_tool_schema_changed_in_place_is_sent_as_changed() -> None:
    schema: ToolSchema = {**TOOLS[0], "description": "Before."}
    tools = [schema]
    encode(tools)
    schema["description"] = "After."
    sent = orjson.loads(encode(tools))["tools"][0]["function"]
    assert sent["description"] == "After."


def test_an_autogen_tool_is_sent_as_its_schema() -> None:
    def get_order(order_id: str) -> str:
        """Look an order up."""
        return order_id

    tool = FunctionTool(get_order, description="Look an order up.")
    sent = orjson.loads(encode([tool]))["tools"]
    assert sent == [{"type": "function", "function": {**tool.schema, "strict": False}}]


async def test_a_large_body_arrives_whole_with_its_content_length() -> None:
    payload = b'{"pad": "' + b"x" * 3_000_000 + b'"}'  # more than the socket buffers hold
    async with scripted([http_response(TEXT_ANSWER)]) as server:
        client = HttpClient(server.base_url, headers={}, max_connections=4)
        await client.post("/x", lambda: payload)
        await client.aclose()
    _, headers, received = server.requests[0]
    assert received == payload and headers["content-length"] == str(len(payload))


async def test_a_request_awaiting_its_answer_no_longer_holds_its_body() -> None:
    payload = b"{}" * 10_000
    unheld = sys.getrefcount(payload)
    async with scripted([b""]) as server:  # never answered
        client = HttpClient(server.base_url, headers={}, max_connections=4)
        async with anyio.create_task_group() as group:
            group.start_soon(client.post, "/x", lambda: payload)
            await server.received.wait()
            assert sys.getrefcount(payload) == unheld
            group.cancel_scope.cancel()
        await client.aclose()


async def test_a_connection_closed_before_the_answer_is_tried_once_more_encoding_again() -> None:
    """A server that closes a keep-alive connection just as it is reused: the request is
    sent again on a fresh connection, its body encoded anew."""
    made: list[bytes] = []

    def body() -> bytes:
        made.append(b"{}")
        return made[-1]

    async with scripted([b"", http_response(TEXT_ANSWER)], close_after={0}) as server:
        client = HttpClient(server.base_url, headers={}, max_connections=4)
        answer = await client.post("/x", body)
        await client.aclose()
    assert answer.body == TEXT_ANSWER
    assert (len(made), len(server.requests), server.connections) == (2, 2, 2)
