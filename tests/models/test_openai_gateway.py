"""The OpenAI provider through the gateway against the loopback simulator: the real HTTP path.

Every test runs with both OpenAI clients: the native one (the default) and autogen-ext's.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import anyio
import pytest
import structlog
from autogen_core.models import (
    AssistantMessage,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    LLMMessage,
    UserMessage,
)
from autogen_core.tools import ToolSchema
from model_support import RUN_ID

from agents.models.gateway import ModelGateway
from agents.simulated.scenario import SimReply, SimScenario, SimToolCall
from agents.simulated.server import serve_simulated
from runtime.errors import ModelError
from runtime.model_config import ModelConfig
from runtime.store import Store

pytestmark = pytest.mark.anyio

CLIENT_KIND = {"value": "native"}


@pytest.fixture(autouse=True, params=["native", "autogen"])
def client_kind(request: pytest.FixtureRequest) -> str:
    """Which OpenAI client `_config` selects for this run of a test."""
    CLIENT_KIND["value"] = request.param
    return str(request.param)


CHAT = "/v1/chat/completions"
SECRET = "sk-test-SECRET123"
ASK: list[LLMMessage] = [UserMessage(content="Where is order #W0001?", source="user")]
TOOLS: list[ToolSchema] = [
    {
        "name": "get_order",
        "description": "Look an order up.",
        "parameters": {
            "type": "object",
            "properties": {"order_id": {"type": "string"}},
            "required": ["order_id"],
        },
    }
]
SCRIPT = SimScenario(
    role="assistant",
    seed=5,
    replies=[
        SimReply(tool_calls=[SimToolCall(name="get_order", arguments={"order_id": "#W0001"})]),
        SimReply(text="Your order #W0001 has shipped."),
    ],
)


def _config(base_url: str, **overrides: object) -> ModelConfig:
    fields: dict[str, object] = {
        "provider": "openai",
        "model": "sim-remote",
        "base_url": base_url,
        "send_scenario": True,
        "timeout_s": 5.0,
        "max_retries": 2,
        "retry_base_s": 0.001,
        "retry_max_s": 0.01,
        "client": CLIENT_KIND["value"],
    }
    fields.update(overrides)
    return ModelConfig.model_validate(fields)


async def test_a_tool_calling_exchange_completes(store: Store) -> None:
    async with serve_simulated() as server:
        config = _config(server.base_url)
        async with ModelGateway({"m": config}, store, RUN_ID) as gateway:
            first = await gateway.create("m", ASK, tools=TOOLS, scenario=SCRIPT)
            assert isinstance(first.content, list) and first.finish_reason == "function_calls"
            [call] = first.content
            assert (call.name, json.loads(call.arguments)) == ("get_order", {"order_id": "#W0001"})
            history: Sequence[LLMMessage] = [
                *ASK,
                AssistantMessage(content=first.content, source="assistant"),
                FunctionExecutionResultMessage(
                    content=[
                        FunctionExecutionResult(
                            content='{"status": "shipped"}', name=call.name, call_id=call.id
                        )
                    ]
                ),
            ]
            final = await gateway.create("m", history, tools=TOOLS, scenario=SCRIPT)
    assert final.content == "Your order #W0001 has shipped."
    assert final.usage.prompt_tokens > 0 and final.usage.completion_tokens > 0
    assert server.stats.requests(CHAT, 200) == 2


async def test_without_send_scenario_the_server_never_sees_the_script(store: Store) -> None:
    async with serve_simulated() as server:
        config = _config(server.base_url, send_scenario=False)
        async with ModelGateway({"m": config}, store, RUN_ID) as gateway:
            result = await gateway.create("m", ASK, scenario=SCRIPT)
    assert isinstance(result.content, str) and "simulated reply" in result.content


async def test_a_429_is_retried_and_then_succeeds(store: Store) -> None:
    async with serve_simulated(fail_first=1, fail_first_status=429) as server:
        config = _config(server.base_url)
        async with ModelGateway({"m": config}, store, RUN_ID) as gateway:
            result = await gateway.create("m", ASK, tools=TOOLS, scenario=SCRIPT)
    assert isinstance(result.content, list)
    assert (server.stats.requests(CHAT), server.stats.requests(CHAT, 429)) == (2, 1)
    [row] = await store.model_calls(RUN_ID)
    assert (row["status"], row["attempt"]) == ("ok", 2)


async def test_a_permanent_500_fails_after_max_retries_plus_one_attempts(store: Store) -> None:
    async with serve_simulated(error_rate_500=1.0) as server:
        config = _config(server.base_url, max_retries=2)
        async with ModelGateway({"m": config}, store, RUN_ID) as gateway:
            with pytest.raises(ModelError, match="server error") as raised:
                await gateway.create("m", ASK, scenario=SCRIPT)
    assert raised.value.endpoint == server.base_url
    assert server.stats.requests(CHAT, 500) == 3
    [row] = await store.model_calls(RUN_ID)
    assert (row["status"], row["attempt"]) == ("error", 3)
    assert row["error"] == "server error (HTTP 500)"


async def test_a_400_is_not_retried(store: Store) -> None:
    async with serve_simulated() as server:
        config = _config(server.base_url)
        async with ModelGateway({"m": config}, store, RUN_ID) as gateway:
            bad = SimScenario(role="assistant", seed=1).model_dump(mode="json")
            bad["replies"] = [{"text": None}]
            with pytest.raises(ModelError, match="HTTP 400"):
                await gateway.create("m", ASK, extra={"extra_body": {"apigen_scenario": bad}})
    assert server.stats.requests(CHAT) == 1


async def test_a_slow_server_hits_the_per_call_timeout(store: Store) -> None:
    async with serve_simulated(slow_rate=1.0, slow_s=30.0) as server:
        config = _config(server.base_url, timeout_s=0.2, max_retries=1)
        async with ModelGateway({"m": config}, store, RUN_ID) as gateway:
            started = anyio.current_time()
            with pytest.raises(ModelError, match="timeout"):
                await gateway.create("m", ASK, scenario=SCRIPT)
            elapsed = anyio.current_time() - started
    assert elapsed < 2.0
    assert server.stats.requests() == 0, "no slow request ever completed"


async def test_a_truncated_response_is_retried(store: Store) -> None:
    async with serve_simulated(truncate_rate=1.0) as server:
        config = _config(server.base_url, max_retries=1)
        async with ModelGateway({"m": config}, store, RUN_ID) as gateway:
            with pytest.raises(ModelError, match="malformed response"):
                await gateway.create("m", ASK, scenario=SCRIPT)
    assert server.stats.requests(CHAT, 200) == 2


async def test_the_cache_makes_a_repeated_run_send_no_requests(store: Store) -> None:
    async with serve_simulated() as server:
        config = _config(server.base_url)
        for _run in range(2):
            async with ModelGateway({"m": config}, store, RUN_ID) as gateway:
                result = await gateway.create("m", ASK, tools=TOOLS, scenario=SCRIPT)
                assert isinstance(result.content, list)
    assert server.stats.requests(CHAT) == 1
    statuses = [row["status"] for row in await store.model_calls(RUN_ID)]
    assert statuses == ["ok", "cached"]


async def test_concurrency_is_bounded_per_model(store: Store) -> None:
    async with serve_simulated(latency_ms=20) as server:
        config = _config(server.base_url, max_concurrency=2)
        async with (
            ModelGateway({"m": config}, store, RUN_ID) as gateway,
            anyio.create_task_group() as group,
        ):
            for index in range(6):
                messages = [UserMessage(content=f"question {index}", source="user")]
                group.start_soon(gateway.create, "m", messages)
    assert server.stats.requests(CHAT, 200) == 6
    assert server.stats.peak_in_flight == 2


async def test_a_missing_key_variable_is_named(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("APIGEN_TEST_KEY", raising=False)
    config = _config("https://models.example.com/v1", api_key_env="APIGEN_TEST_KEY")
    with pytest.raises(ModelError, match="APIGEN_TEST_KEY"):
        ModelGateway({"m": config}, store, RUN_ID)


async def test_the_key_never_reaches_logs_or_the_store(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APIGEN_TEST_KEY", SECRET)
    async with serve_simulated(fail_first=1, error_rate_500=0.0) as server:
        config = _config(server.base_url, api_key_env="APIGEN_TEST_KEY", max_retries=1)
        broken = _config(server.base_url, api_key_env="APIGEN_TEST_KEY", max_retries=0)
        with structlog.testing.capture_logs() as logs:
            async with ModelGateway({"m": config, "b": broken}, store, RUN_ID) as gateway:
                await gateway.create("m", ASK, tools=TOOLS, scenario=SCRIPT)
                await gateway.create("m", ASK, tools=TOOLS, scenario=SCRIPT)
                with pytest.raises(ModelError) as raised:
                    await gateway.create(
                        "b", [UserMessage(content="x", source="u")], extra={"bad": 1}
                    )
                assert SECRET not in repr(gateway.config("m")) and SECRET not in str(raised.value)
    events = {entry["event"] for entry in logs}
    assert {"model.retry", "model.call", "model.error"} <= events
    assert SECRET not in repr(logs)
    assert SECRET.encode() not in store.path.read_bytes()
    wal = store.path.with_name(store.path.name + "-wal")
    assert not wal.exists() or SECRET.encode() not in wal.read_bytes()
