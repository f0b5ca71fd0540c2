"""The loopback simulator's own surface: routes, stats, loopback-only, and answers that match
the simulated client's (content, tool calls, faults, usage) request for request."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest
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

from agents.simulated import SimulatedChatCompletionClient
from agents.simulated.scenario import SCENARIO_ARG, SimReply, SimScenario, SimToolCall
from agents.simulated.server import (
    ServerFaults,
    SimServer,
    main,
    prompt_text,
    require_loopback,
    serve_simulated,
)
from runtime.model_config import FaultName

pytestmark = pytest.mark.anyio

TOOLS: list[ToolSchema] = [
    {
        "name": "get_order",
        "description": "Look an order up (naïve café).",
        "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}},
    },
    {"name": "cancel_order", "parameters": {"type": "object", "properties": {}}},
]
FAULTS: dict[str, dict[FaultName, float]] = {
    "assistant": {
        "unknown_tool": 0.4,
        "wrong_argument": 0.4,
        "skipped_confirmation": 0.4,
        "malformed_json": 0.4,
        "refusal": 0.05,
    }
}


def _script(seed: int) -> SimScenario:
    call = SimToolCall(name="get_order", arguments={"order_id": "#W0001", "n": [1, {"k": "v"}]})
    plan = {"actions": [{"name": "cancel_order", "kwargs": {"order_id": "#W0001"}}]}
    return SimScenario(
        role="assistant",
        seed=seed,
        replies=[
            SimReply(tool_calls=[call, call]),
            SimReply(text="Shall I cancel it?", confirmation=True),
            SimReply(json_value=plan, reasoning="the user agreed"),
            SimReply(text="Done, ünïcode and all.", final=True),
        ],
    )


async def _get(port: int, path: str) -> tuple[int, dict[str, object]]:
    async with await anyio.connect_tcp("127.0.0.1", port) as stream:
        await stream.send(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        async for chunk in stream:
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


async def _post(port: int, body: bytes) -> tuple[int, dict[str, Any]]:
    head = f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
    async with await anyio.connect_tcp("127.0.0.1", port) as stream:
        await stream.send(f"{head}Connection: close\r\n\r\n".encode() + body)
        data = b""
        async for chunk in stream:
            data += chunk
    head_bytes, _, answer = data.partition(b"\r\n\r\n")
    return int(head_bytes.split()[1]), json.loads(answer)


def _openai(message: LLMMessage) -> list[dict[str, Any]]:
    """An autogen message as the OpenAI chat messages a client sends for it."""
    if isinstance(message, SystemMessage):
        return [{"role": "system", "content": message.content}]
    if isinstance(message, UserMessage):
        return [{"role": "user", "content": [{"type": "text", "text": message.content}]}]
    if isinstance(message, FunctionExecutionResultMessage):
        return [
            {"role": "tool", "tool_call_id": r.call_id, "content": r.content}
            for r in message.content
        ]
    assert isinstance(message, AssistantMessage)
    if isinstance(message.content, str):
        return [{"role": "assistant", "content": message.content}]
    calls = [
        {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
        for c in message.content
    ]
    return [{"role": "assistant", "content": message.thought, "tool_calls": calls}]


def _expected(result: CreateResult) -> dict[str, Any]:
    """The parts of a `chat.completion` answer the simulated client decides."""
    message: dict[str, Any] = {"role": "assistant", "content": None}
    if isinstance(result.content, str):
        message["content"] = result.content
    else:
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in result.content
        ]
    finish = "tool_calls" if result.finish_reason == "function_calls" else result.finish_reason
    usage = result.usage
    total = usage.prompt_tokens + usage.completion_tokens
    return {
        "message": message,
        "finish_reason": finish,
        "usage": {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": total,
        },
    }


def _next_turn(result: CreateResult, turn: int) -> list[LLMMessage]:
    """The conversation's continuation after an answer: tool results, or the user again."""
    if isinstance(result.content, str):
        return [
            AssistantMessage(content=result.content, source="assistant"),
            UserMessage(content=f"yes ({turn})", source="user"),
        ]
    calls: list[FunctionCall] = result.content
    outputs = [
        FunctionExecutionResult(content=f"out {c.id}", name=c.name, call_id=c.id) for c in calls
    ]
    return [
        AssistantMessage(content=calls, thought="Looking.", source="assistant"),
        FunctionExecutionResultMessage(content=outputs),
    ]


@pytest.mark.parametrize("json_mode", [False, True])
async def test_answers_match_the_simulated_client(json_mode: bool) -> None:
    client = SimulatedChatCompletionClient(faults=FAULTS)
    async with serve_simulated(sim_faults=FAULTS) as server:
        for seed in range(12):
            scenario = _script(seed).model_dump(mode="json")
            history: list[LLMMessage] = [
                SystemMessage(content="You are an agent."),
                UserMessage(content="Cancel #W0001, s'il vous plaît.", source="user"),
            ]
            for turn in range(5):
                expected = client.play(
                    history,
                    tools=TOOLS,
                    json_output=json_mode,
                    extra_create_args={SCENARIO_ARG: scenario},
                ).result
                request: dict[str, Any] = {
                    "model": "sim-remote",
                    "messages": [m for message in history for m in _openai(message)],
                    "tools": [{"type": "function", "function": tool} for tool in TOOLS],
                    SCENARIO_ARG: scenario,
                }
                if json_mode:
                    request["response_format"] = {"type": "json_object"}
                for _attempt in range(2):  # the second answer comes from the caches
                    status, answer = await _post(server.port, json.dumps(request).encode())
                    assert status == 200 and answer["model"] == "sim-remote"
                    choice = answer["choices"][0]
                    got = {k: choice[k] for k in ("message", "finish_reason")}
                    assert {**got, "usage": answer["usage"]} == _expected(expected)
                history += _next_turn(expected, turn)


async def test_requests_without_a_script_match_the_simulated_client() -> None:
    client = SimulatedChatCompletionClient()
    messages: list[LLMMessage] = [UserMessage(content="hello", source="user")]
    async with serve_simulated() as server:
        for json_mode in (False, True):
            expected = client.play(messages, json_output=json_mode).result
            request: dict[str, Any] = {"messages": [{"role": "user", "content": "hello"}]}
            if json_mode:
                request["response_format"] = {"type": "json_object"}
            status, answer = await _post(server.port, json.dumps(request).encode())
            choice = answer["choices"][0]
            got = {k: choice[k] for k in ("message", "finish_reason")}
            assert status == 200 and answer["model"] == "simulated"
            assert {**got, "usage": answer["usage"]} == _expected(expected)


async def test_bad_chat_requests_answer_400() -> None:
    async with serve_simulated() as server:
        bad_json = await _post(server.port, b"{not json")
        bad_role = await _post(server.port, b'{"messages": [{"role": "wizard", "content": ""}]}')
        bad_script = await _post(
            server.port, json.dumps({"messages": [], SCENARIO_ARG: {"role": "x"}}).encode()
        )
        nan = await _post(server.port, b'{"messages": [], "temperature": NaN}')
    assert bad_json[0] == 400 and "bad chat request" in bad_json[1]["error"]["message"]
    assert bad_role[0] == 400 and "unknown message role 'wizard'" in bad_role[1]["error"]["message"]
    assert bad_script[0] == 400 and "bad scenario" in bad_script[1]["error"]["message"]
    assert nan[0] == 200  # what the standard library parses, the server answers


async def test_latency_counts_from_arrival_and_includes_making_the_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A burst of requests is answered L after each arrived, not later by the server's work."""
    clock = [100.0]
    slept_until: list[float] = []

    async def sleep_until(deadline: float) -> None:
        slept_until.append(deadline)

    def busy_answer(self: SimServer, body: bytes, truncate: bool) -> tuple[int, bytes]:
        clock[0] += 0.25  # the server's own work on the answer
        return 200, b"{}"

    monkeypatch.setattr("anyio.current_time", lambda: clock[0])
    monkeypatch.setattr("anyio.sleep_until", sleep_until)
    monkeypatch.setattr(SimServer, "_answer", busy_answer)
    server = SimServer("127.0.0.1", ServerFaults(latency_ms=1000))
    assert await server.chat(b"{}") == (200, b"{}")
    assert await server.chat(b"{}") == (200, b"{}")
    assert slept_until == [101.0, 101.25]  # arrivals at 100.0 and 100.25, each plus 1 s


async def test_models_stats_and_unknown_routes_answer_json() -> None:
    async with serve_simulated() as server:
        models = await _get(server.port, "/v1/models")
        missing = await _get(server.port, "/nope")
        status, stats = await _get(server.port, "/stats")
    assert models[0] == 200 and models[1]["object"] == "list"
    assert missing[0] == 404
    assert status == 200 and stats["by_path"] == {"/nope": {"404": 1}, "/v1/models": {"200": 1}}


def test_non_loopback_hosts_are_refused() -> None:
    require_loopback("127.0.0.1")
    require_loopback("::1")
    with pytest.raises(ValueError, match="non-loopback"):
        require_loopback("0.0.0.0")
    with pytest.raises(SystemExit):
        main(["--host", "0.0.0.0", "--port", "0"])


def test_prompt_text_counts_what_the_simulated_client_counts() -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    text, turns = prompt_text(
        [
            {"role": "developer", "content": "rules"},
            {"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "image_url"}]},
            {"role": "assistant", "content": "ignored", "tool_calls": [call, {**call, "id": "c2"}]},
            {"role": "tool", "tool_call_id": "c1", "content": "1"},
            {"role": "tool", "tool_call_id": "c2", "content": None},
            {"role": "assistant", "content": "ok"},
        ]
    )
    assert (text, turns) == ("ruleshif{}f{}1ok", 2)
    with pytest.raises(ValueError, match="unknown message role"):
        prompt_text([{"role": "wizard", "content": ""}])
