"""The gateway with the simulated backend: records, cache, faults, limits, the run hook."""

from __future__ import annotations

import json
from typing import Any

import anyio
import anyio.lowlevel
import orjson
import pytest
from autogen_core.models import CreateResult, UserMessage
from model_support import RUN_ID

from agents.models.chat_client_base import ChatClientBase
from agents.models.clients import request_identity
from agents.models.gateway import (
    CallContext,
    ModelGateway,
    RateLimiter,
    gateway_run_hook,
    request_key,
)
from agents.models.openai_wire import ToolList, wire_tools
from agents.models.transport import HttpStatusError
from agents.simulated import SimulatedChatCompletionClient
from agents.simulated._client import SIMULATED_MODEL_INFO
from agents.simulated.scenario import SimReply, SimScenario
from runtime.errors import ModelError
from runtime.model_config import ModelConfig, ModelPrice
from runtime.store import Store

pytestmark = pytest.mark.anyio

ASK = [UserMessage(content="Say hello.", source="user")]
HELLO = SimScenario(role="assistant", seed=1, replies=[SimReply(text="Hello!")])
CALL = CallContext(phase="p1", item_key="000001", role="assistant")


async def test_a_simulated_call_is_recorded_with_usage_cost_and_the_simulated_label(
    store: Store,
) -> None:
    price = ModelPrice(prompt_per_mtok=2.0, completion_per_mtok=10.0)
    async with ModelGateway({"sim": ModelConfig(price=price)}, store, RUN_ID) as gateway:
        result = await gateway.create("sim", ASK, scenario=HELLO, call=CALL)
    [row] = await store.model_calls(RUN_ID)
    assert result.content == "Hello!"
    assert (row["status"], row["phase"], row["item_key"], row["simulated"]) == (
        "ok",
        "p1",
        "000001",
        1,
    )
    assert (row["prompt_tokens"], row["completion_tokens"]) == (2, 1)  # 10 and 6 chars
    assert row["cost_usd"] == pytest.approx((2 * 2.0 + 1 * 10.0) / 1e6)
    assert row["endpoint"] == "simulated:simulated"


async def test_a_repeated_request_is_answered_from_the_cache(store: Store) -> None:
    async with ModelGateway({"sim": ModelConfig()}, store, RUN_ID) as gateway:
        first = await gateway.create("sim", ASK, scenario=HELLO)
        second = await gateway.create("sim", ASK, scenario=HELLO)
        other_seed = HELLO.model_copy(update={"seed": 2})
        await gateway.create("sim", ASK, scenario=other_seed)
    statuses = [row["status"] for row in await store.model_calls(RUN_ID)]
    assert statuses == ["ok", "cached", "ok"], "the scenario is part of a simulated request"
    assert (first.cached, second.cached) == (False, True)
    assert second.content == first.content


async def test_cache_false_asks_again(store: Store) -> None:
    async with ModelGateway({"sim": ModelConfig()}, store, RUN_ID) as gateway:
        await gateway.create("sim", ASK, scenario=HELLO)
        await gateway.create("sim", ASK, scenario=HELLO, cache=False)
    assert [row["status"] for row in await store.model_calls(RUN_ID)] == ["ok", "ok"]


async def test_injected_faults_are_recorded_as_events(store: Store) -> None:
    config = ModelConfig(faults={"assistant": {"refusal": 1.0}})
    async with ModelGateway({"sim": config}, store, RUN_ID) as gateway:
        result = await gateway.create("sim", ASK, scenario=HELLO, call=CALL)
    [event] = await store.events(RUN_ID, event="model.fault")
    payload = json.loads(event["payload_json"])
    assert "can't help" in str(result.content)
    assert payload["faults"] == ["refusal"] and payload["item_key"] == "000001"


async def test_an_unknown_model_is_a_model_error(store: Store) -> None:
    async with ModelGateway({"sim": ModelConfig()}, store, RUN_ID) as gateway:
        with pytest.raises(ModelError, match="unknown model 'gpt'"):
            await gateway.create("gpt", ASK)


async def test_request_keys_ignore_limits_and_prices_but_not_the_model() -> None:
    base = ModelConfig()
    tuned = ModelConfig(max_concurrency=2, max_retries=9, rpm=5, timeout_s=3)
    other = ModelConfig(model="other")
    assert request_identity("m", base) == request_identity("m", tuned)
    assert request_identity("m", base) != request_identity("m", other)


async def test_the_rate_limiter_spaces_requests_without_polling() -> None:
    limiter = RateLimiter(rpm=6000)  # one every 10 ms
    started = anyio.current_time()
    async with anyio.create_task_group() as group:
        for _ in range(5):
            group.start_soon(limiter.acquire)
    assert anyio.current_time() - started >= 0.04


async def test_the_run_hook_provides_the_gateway(store: Store) -> None:
    from runtime.engine import RunContext
    from runtime.playbook import Playbook
    from runtime.steps import Resources

    playbook = Playbook.model_validate(
        {"name": "demo", "phases": [{"name": "p", "episodes": 1, "steps": [{"kind": "echo"}]}]}
    )
    resources = Resources()
    context = RunContext(playbook, RUN_ID, store, None, resources)  # type: ignore[arg-type]
    async with gateway_run_hook(context):
        gateway = resources.require(ModelGateway)
        assert gateway.models == ["default"] and gateway.is_simulated("default")


async def test_ready_made_clients_replace_built_ones(store: Store) -> None:
    clients = {"m": SimulatedChatCompletionClient("custom-model")}
    async with ModelGateway({"m": ModelConfig()}, store, RUN_ID, clients=clients) as gateway:
        result = await gateway.create("m", ASK)
    assert "custom-model" in str(result.content)


class _Failing(ChatClientBase):
    """A remote model that answers every call with a server error after `delay_s`."""

    def __init__(self, delay_s: float) -> None:
        super().__init__(model_info=SIMULATED_MODEL_INFO, context_tokens=1000)
        self.delay_s = delay_s
        self.calls = 0

    async def create(self, *args: Any, **kwargs: Any) -> CreateResult:
        self.calls += 1
        await anyio.sleep(self.delay_s)
        raise HttpStatusError(500, "down")


async def test_a_call_timeout_bounds_retries_and_backoff(store: Store) -> None:
    client = _Failing(delay_s=0.0)
    config = ModelConfig(max_retries=50, retry_base_s=0.05, retry_max_s=0.05)
    async with ModelGateway({"m": config}, store, RUN_ID, clients={"m": client}) as gateway:
        started = anyio.current_time()
        with pytest.raises(TimeoutError, match=r"no answer within 0\.3s"):
            await gateway.create("m", ASK, timeout_s=0.3)
        elapsed = anyio.current_time() - started
    assert elapsed < 1.0 and 3 <= client.calls < 20, "50 retries would take over 1.2 s"
    statuses = [row["status"] for row in await store.model_calls(RUN_ID)]
    assert statuses == ["error"]


async def test_a_call_timeout_cuts_a_hanging_attempt(store: Store) -> None:
    client = _Failing(delay_s=60.0)
    async with ModelGateway(
        {"m": ModelConfig(timeout_s=30.0)}, store, RUN_ID, clients={"m": client}
    ) as gateway:
        with anyio.fail_after(5), pytest.raises(TimeoutError):
            await gateway.create("m", ASK, timeout_s=0.1)
    assert client.calls == 1
    [row] = await store.model_calls(RUN_ID)
    assert (row["status"], row["error"]) == ("error", "timeout")


async def test_the_run_s_watchdog_cuts_a_hanging_first_attempt_and_a_retry_has_a_timer(
    store: Store,
) -> None:
    client = _Failing(delay_s=60.0)
    config = ModelConfig(timeout_s=0.1, max_retries=1, retry_base_s=0.0, retry_max_s=0.0)
    async with (
        ModelGateway({"m": config}, store, RUN_ID, clients={"m": client}) as gateway,
        anyio.create_task_group() as group,
    ):
        group.start_soon(gateway.deadlines.run)
        await anyio.lowlevel.checkpoint()
        assert gateway.deadlines.running
        with anyio.fail_after(5), pytest.raises(ModelError, match="timeout"):
            await gateway.create("m", ASK, timeout_s=5.0)
        group.cancel_scope.cancel()
    assert client.calls == 2


async def test_without_a_call_timeout_attempts_run_out_as_a_model_error(store: Store) -> None:
    client = _Failing(delay_s=0.0)
    config = ModelConfig(max_retries=2, retry_base_s=0.0, retry_max_s=0.0)
    async with ModelGateway({"m": config}, store, RUN_ID, clients={"m": client}) as gateway:
        with pytest.raises(ModelError, match=r"server error \(HTTP 500\) \(attempt 3 of 3\)"):
            await gateway.create("m", ASK)
    assert client.calls == 3


def test_a_tool_list_encodes_once_what_a_plain_list_encodes_every_call() -> None:

    schemas: list[Any] = [
        {"name": "find", "description": "Find one.", "parameters": {"type": "object", "b": 1}},
        {"name": "cancel", "parameters": {"properties": {"z": {}, "a": {}}, "type": "object"}},
    ]
    tools = ToolList(schemas)
    identity = request_identity("default", ModelConfig(provider="openai", model="m"))
    messages = [UserMessage(content="hi", source="user")]

    def key(given: Any) -> str:
        return request_key(identity, messages, given, "auto", None, {}, 7)

    # the same cache keys and the same request body as before: stores stay resumable
    assert key(tools) == key(schemas)
    assert wire_tools(tools) is tools.wire_json
    assert orjson.dumps({"t": wire_tools(tools)}) == orjson.dumps({"t": wire_tools(schemas)})
    # its own copies: changing the caller's schema later changes neither encoding
    schemas[0]["description"] = "Changed."
    assert key(tools) != key(schemas)
    assert tools[0]["description"] == "Find one."
