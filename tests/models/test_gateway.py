"""The gateway with the simulated backend: records, cache, faults, limits, the run hook."""

from __future__ import annotations

import json

import anyio
import pytest
from autogen_core.models import UserMessage
from model_support import RUN_ID

from agents.gateway import CallContext, ModelGateway, RateLimiter, gateway_run_hook
from agents.models import request_identity
from agents.scenario import SimReply, SimScenario
from agents.simulated import SimulatedChatCompletionClient
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
