"""The loopback simulator's own surface: routes, stats, loopback-only, message conversion."""

from __future__ import annotations

import json

import anyio
import pytest
from autogen_core.models import AssistantMessage, FunctionExecutionResultMessage, UserMessage

from agents.simserver import main, require_loopback, serve_simulated, to_autogen_messages

pytestmark = pytest.mark.anyio


async def _get(port: int, path: str) -> tuple[int, dict[str, object]]:
    async with await anyio.connect_tcp("127.0.0.1", port) as stream:
        await stream.send(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        async for chunk in stream:
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


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


def test_openai_messages_convert_with_tool_results_grouped() -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    messages = to_autogen_messages(
        [
            {"role": "user", "content": [{"type": "text", "text": "hi"}]},
            {"role": "assistant", "content": None, "tool_calls": [call, {**call, "id": "c2"}]},
            {"role": "tool", "tool_call_id": "c1", "content": "1"},
            {"role": "tool", "tool_call_id": "c2", "content": "2"},
        ]
    )
    assert isinstance(messages[0], UserMessage) and messages[0].content == "hi"
    assert isinstance(messages[1], AssistantMessage) and len(messages[1].content) == 2
    assert isinstance(messages[2], FunctionExecutionResultMessage)
    assert [r.call_id for r in messages[2].content] == ["c1", "c2"]
