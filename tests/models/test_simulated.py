"""The simulated backend: scripted replies, seeded faults, byte-identical determinism."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import pytest
from autogen_core.models import AssistantMessage, CreateResult, LLMMessage, UserMessage

from agents.simulated import SimulatedChatCompletionClient
from agents.simulated.scenario import SCENARIO_ARG, SimReply, SimScenario, SimToolCall
from runtime.model_config import FaultName

pytestmark = pytest.mark.anyio

TOOLS = [{"name": "get_order"}, {"name": "cancel_order"}]
ASK = UserMessage(content="Cancel order #W0001.", source="user")


def _client(role: str = "assistant", **rates: float) -> SimulatedChatCompletionClient:
    faults: dict[str, dict[FaultName, float]] = {role: dict(rates)}  # type: ignore[dict-item]
    return SimulatedChatCompletionClient(faults=faults)


def _play(
    client: SimulatedChatCompletionClient,
    scenario: SimScenario,
    messages: Sequence[LLMMessage] = (ASK,),
    tools: Sequence[Mapping[str, str]] = TOOLS,
) -> tuple[CreateResult, tuple[str, ...]]:
    outcome = client.play(
        messages,
        tools=tools,  # type: ignore[arg-type]
        extra_create_args={SCENARIO_ARG: scenario.model_dump(mode="json")},
    )
    return outcome.result, outcome.faults


def _turns(n: int) -> list[LLMMessage]:
    history: list[LLMMessage] = [ASK]
    for index in range(n):
        history += [
            AssistantMessage(content=f"turn {index}", source="assistant"),
            UserMessage(content="go on", source="user"),
        ]
    return history


CALL = SimReply(
    tool_calls=[
        SimToolCall(
            name="cancel_order",
            arguments={"order_id": "#W0001", "reason": "no longer needed"},
        )
    ]
)
SCRIPT = SimScenario(
    role="assistant",
    seed=7,
    replies=[
        SimReply(text="Please confirm the cancellation (yes/no).", confirmation=True),
        CALL,
        SimReply(json_value={"status": "cancelled", "items": [1, 2]}, reasoning="it worked"),
    ],
)


async def test_the_script_advances_with_each_assistant_message() -> None:
    client = SimulatedChatCompletionClient()
    first, _ = _play(client, SCRIPT, _turns(0))
    second, _ = _play(client, SCRIPT, _turns(1))
    third, _ = _play(client, SCRIPT, _turns(2))
    assert first.content == "Please confirm the cancellation (yes/no)."
    assert isinstance(second.content, list) and second.content[0].name == "cancel_order"
    assert json.loads(second.content[0].arguments) == {
        "order_id": "#W0001",
        "reason": "no longer needed",
    }
    assert second.finish_reason == "function_calls"
    assert third.content == 'Reasoning: it worked\n{"status": "cancelled", "items": [1, 2]}'


async def test_an_exhausted_script_closes_and_a_human_sends_the_stop_token() -> None:
    client = SimulatedChatCompletionClient()
    assistant, _ = _play(client, SCRIPT, _turns(3))
    human = SimScenario(role="human", seed=1, replies=[SimReply(text="Hi, I need help.")])
    stopped, _ = _play(client, human, _turns(1))
    assert assistant.content == "Is there anything else I can help you with?"
    assert stopped.content == "###STOP###"


async def test_no_scenario_gives_generic_text_or_an_empty_object() -> None:
    client = SimulatedChatCompletionClient()
    text = await client.create([ASK])
    as_json = await client.create([ASK], json_output=True)
    assert isinstance(text.content, str) and "simulated" in text.content
    assert as_json.content == "{}"
    assert client.model_info["family"] == "simulated"


async def test_the_same_seed_and_request_give_byte_identical_results() -> None:
    rates = {"wrong_argument": 0.5, "unknown_tool": 0.5, "malformed_json": 0.5}
    runs = [
        _play(_client(**rates), SCRIPT.model_copy(update={"seed": seed}), _turns(turn))[0]
        for seed in (1, 1, 2, 3, 4, 5)
        for turn in (1, 2)
    ]
    dumps = [result.model_dump_json() for result in runs]
    assert dumps[0:2] == dumps[2:4]
    assert len(set(dumps)) > 2, "with faults at 50%, other seeds must differ somewhere"


async def test_malformed_json_no_longer_parses() -> None:
    result, faults = _play(_client(malformed_json=1.0), SCRIPT, _turns(2))
    assert faults == ("malformed_json",)
    assert isinstance(result.content, str) and result.content.startswith("Reasoning: it worked\n")
    body = result.content.split("\n", 1)[1]
    assert '{"status": "cancelled", "items": [1, 2]}'.startswith(body)
    with pytest.raises(ValueError):
        json.loads(body)


async def test_unknown_tool_calls_a_name_the_request_does_not_offer() -> None:
    tools = [{"name": "cancel_order"}, {"name": "cancel_order_v2"}]
    result, faults = _play(_client(unknown_tool=1.0), SCRIPT, _turns(1), tools)
    assert faults == ("unknown_tool",)
    assert isinstance(result.content, list)
    assert result.content[0].name == "cancel_order_v2_v2"


async def test_wrong_argument_changes_one_value_keeping_its_shape() -> None:
    result, faults = _play(_client(wrong_argument=1.0), SCRIPT, _turns(1))
    assert faults == ("wrong_argument",)
    assert isinstance(result.content, list)
    arguments = json.loads(result.content[0].arguments)
    changed = {k: v for k, v in arguments.items() if CALL.tool_calls[0].arguments[k] != v}  # type: ignore[index]
    assert changed in ({"order_id": "#W0002"}, {"reason": "no longer needee"})


async def test_wrong_argument_moves_numbers_and_one_list_item() -> None:
    reply = SimReply(tool_calls=[SimToolCall(name="pay", arguments={"amounts": [10, "a"]})])
    scenario = SimScenario(role="assistant", seed=3, replies=[reply])
    result, _ = _play(_client(wrong_argument=1.0), scenario)
    assert isinstance(result.content, list)
    assert json.loads(result.content[0].arguments)["amounts"] in ([11, "a"], [10, "b"])


async def test_skipped_confirmation_moves_on_to_the_next_reply_for_good() -> None:
    client = _client(skipped_confirmation=1.0)
    first, faults = _play(client, SCRIPT, _turns(0))
    second, _ = _play(client, SCRIPT, _turns(1))
    assert faults == ("skipped_confirmation",)
    assert isinstance(first.content, list) and first.content[0].name == "cancel_order"
    assert isinstance(second.content, str) and second.content.startswith("Reasoning:")


async def test_premature_stop_ends_a_human_script_at_once() -> None:
    human = SimScenario(role="human", seed=2, replies=[SimReply(text="I want to cancel.")])
    result, faults = _play(_client("human", premature_stop=1.0), human)
    assert (result.content, faults) == ("###STOP###", ("premature_stop",))
    assistant, none = _play(_client("assistant", premature_stop=1.0), SCRIPT)
    assert none == () and assistant.content == SCRIPT.replies[0].text


async def test_refusal_replaces_the_reply_and_ends_the_script() -> None:
    client = _client(refusal=1.0)
    first, faults = _play(client, SCRIPT, _turns(0))
    later, _ = _play(SimulatedChatCompletionClient(), SCRIPT, _turns(0))
    assert faults == ("refusal",) and "can't help" in str(first.content)
    assert later.content == SCRIPT.replies[0].text


async def test_faults_for_other_roles_leave_a_script_alone() -> None:
    result, faults = _play(_client("human", malformed_json=1.0, refusal=1.0), SCRIPT, _turns(2))
    assert faults == ()
    assert json.loads(str(result.content).split("\n", 1)[1]) == {
        "status": "cancelled",
        "items": [1, 2],
    }


async def test_a_reply_must_have_exactly_one_kind() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        SimReply(text="a", json_value={"b": 1})
    with pytest.raises(ValueError, match="exactly one"):
        SimReply()


async def test_usage_is_estimated_from_the_text() -> None:
    result, _ = _play(
        SimulatedChatCompletionClient(), SCRIPT, [UserMessage(content="x" * 40, source="u")], []
    )
    assert result.usage.prompt_tokens == 10
    assert result.usage.completion_tokens == len(SCRIPT.replies[0].text or "") // 4
