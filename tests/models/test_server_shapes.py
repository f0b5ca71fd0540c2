"""What real OpenAI-compatible servers send back, understood through `ModelGateway.create`.

Each test serves bodies from `fixtures/completions.json` (OpenAI, vLLM with and without its
parsers, Ollama, llama-server) over loopback HTTP and runs with both OpenAI clients: the
native one and autogen-ext's. Where autogen-ext cannot see a field (it reads neither
`reasoning` nor `refusal`), the test states what that client gives instead.
"""

from __future__ import annotations

import json

import pytest
import structlog
from autogen_core.models import CreateResult, LLMMessage, UserMessage
from autogen_core.tools import ToolSchema
from fixture_server import serve_fixtures
from model_support import RUN_ID

from agents.blueprints.blueprint import ProposedBlueprint
from agents.blueprints.committee import Review
from agents.dialogue.assistant import is_refusal, parse_call
from agents.models.gateway import ModelGateway
from agents.models.structured import StructuredOutputError, create_structured
from domains.base import Action
from runtime.errors import ModelError
from runtime.model_config import ModelConfig
from runtime.store import Store

pytestmark = [
    pytest.mark.anyio,
    # autogen-ext warns whenever the served model's name differs from the configured one
    pytest.mark.filterwarnings("ignore:Resolved model mismatch:UserWarning"),
]

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
W0001 = {"order_id": "#W0001"}
SHIPPED = "Your order #W0001 has shipped."


@pytest.fixture(params=["native", "autogen"])
def client(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _config(base_url: str, client: str, **overrides: object) -> dict[str, ModelConfig]:
    fields: dict[str, object] = {
        "provider": "openai",
        "model": "served-model",
        "base_url": base_url,
        "client": client,
        "timeout_s": 5.0,
        "max_retries": 2,
        "retry_base_s": 0.001,
        "retry_max_s": 0.01,
        "json_mode": "text",
    }
    fields.update(overrides)
    return {"m": ModelConfig.model_validate(fields)}


async def _create(store: Store, client: str, *cases: str, tools: bool = True) -> CreateResult:
    async with (
        serve_fixtures(*cases) as server,
        ModelGateway(_config(server.base_url, client), store, RUN_ID) as gateway,
    ):
        return await gateway.create("m", ASK, tools=TOOLS if tools else ())


def _calls(result: CreateResult) -> list[tuple[str, dict[str, object]]]:
    assert isinstance(result.content, list), result.content
    return [(call.name, json.loads(call.arguments)) for call in result.content]


# -- tool calls -----------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["openai_tool_call", "object_arguments_tool_call"])
@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning")
async def test_arguments_as_a_json_string_or_an_object_give_the_same_call(
    store: Store, client: str, case: str
) -> None:
    if client == "autogen" and case == "object_arguments_tool_call":
        with pytest.warns(UserWarning, match="arguments field is not a string"):
            result = await _create(store, client, case)  # autogen-ext encodes it, warning
    else:
        result = await _create(store, client, case)
    assert _calls(result) == [("get_order", W0001)]
    assert result.finish_reason == "function_calls"


async def test_several_calls_in_one_message_all_reach_the_caller(store: Store, client: str) -> None:
    result = await _create(store, client, "openai_parallel_tool_calls")
    assert _calls(result) == [("get_order", W0001), ("get_order", {"order_id": "#W0002"})]


async def test_a_hermes_block_in_the_content_becomes_a_tool_call(store: Store, client: str) -> None:
    result = await _create(store, client, "vllm_hermes_without_parser")
    assert _calls(result) == [("get_order", W0001)]
    assert result.finish_reason == "function_calls"
    assert result.thought is None
    assert isinstance(result.content, list) and result.content[0].id.startswith("call_")


async def test_the_text_beside_a_hermes_block_is_kept_out_of_the_reply(
    store: Store, client: str
) -> None:
    result = await _create(store, client, "vllm_hermes_with_text")
    assert _calls(result) == [("get_order", W0001)]
    assert result.thought == "Let me look that order up for you."


async def test_hermes_call_ids_differ_within_an_answer_and_repeat_with_the_request(
    store: Store, client: str
) -> None:
    async with (
        serve_fixtures("vllm_hermes_two_blocks", "vllm_hermes_two_blocks") as server,
        ModelGateway(_config(server.base_url, client), store, RUN_ID) as gateway,
    ):
        first = await gateway.create("m", ASK, tools=TOOLS)
        again = await gateway.create("m", ASK, tools=TOOLS, cache=False)
        longer = [*ASK, UserMessage(content="And #W0002?", source="user")]
        async with serve_fixtures("vllm_hermes_two_blocks") as other:
            config = _config(other.base_url, client)
            async with ModelGateway(config, store, RUN_ID) as later:
                third = await later.create("m", longer, tools=TOOLS)
    assert _calls(first) == [("get_order", W0001), ("get_order", {"order_id": "#W0002"})]
    assert isinstance(first.content, list) and isinstance(again.content, list)
    assert isinstance(third.content, list)
    ids = [call.id for call in first.content]
    assert len(set(ids)) == 2
    assert [call.id for call in again.content] == ids
    assert not set(ids) & {call.id for call in third.content}, "another request, other ids"


async def test_a_hermes_block_stays_text_when_no_tools_were_offered(
    store: Store, client: str
) -> None:
    result = await _create(store, client, "vllm_hermes_without_parser", tools=False)
    assert result.content == (
        '<tool_call>\n{"name": "get_order", "arguments": {"order_id": "#W0001"}}\n</tool_call>'
    )


async def test_a_malformed_hermes_block_stays_visible_as_an_invalid_call(
    store: Store, client: str
) -> None:
    result = await _create(store, client, "vllm_hermes_malformed")
    assert isinstance(result.content, list)
    [call] = result.content
    raw = '{"name": "get_order", "arguments": {"order_id": "#W0001"}'
    assert (call.name, call.arguments) == ("get_order", raw)
    recorded = parse_call(call, "fallback")
    assert (recorded.invalid_arguments, recorded.arguments) == (raw, {})


# -- reasoning ------------------------------------------------------------------------------


async def test_reasoning_content_is_the_thought_not_the_reply(store: Store, client: str) -> None:
    result = await _create(store, client, "vllm_reasoning_content")
    assert result.content == SHIPPED
    assert result.thought == "The tool said the order shipped on March 3. I should tell the user."


async def test_a_reasoning_field_is_the_thought_with_the_native_client(
    store: Store, client: str
) -> None:
    """autogen-ext 0.7.5 reads only `reasoning_content`: Ollama's `reasoning` is lost there."""
    result = await _create(store, client, "ollama_reasoning")
    assert result.content == SHIPPED
    expected = "The order status is shipped, so I tell the user."
    assert result.thought == (expected if client == "native" else None)


async def test_reasoning_beside_tool_calls_is_the_thought_with_the_native_client(
    store: Store, client: str
) -> None:
    """autogen-ext reads reasoning only for text answers: beside tool calls it is lost."""
    result = await _create(store, client, "vllm_reasoning_with_tool_call")
    assert _calls(result) == [("get_order", W0001)]
    expected = "The user asks about #W0001; get_order looks it up."
    assert result.thought == (expected if client == "native" else None)


@pytest.mark.parametrize(
    ("case", "thinking"),
    [
        ("qwen3_think_in_content", "The tool said the order shipped. I should tell the user."),
        ("r1_think_without_opening_tag", "Okay, the order shipped on March 3."),
    ],
)
async def test_think_tags_at_the_start_move_to_the_thought(
    store: Store, client: str, case: str, thinking: str
) -> None:
    result = await _create(store, client, case)
    assert (result.content, result.thought) == (SHIPPED, thinking)


async def test_thinking_then_a_hermes_block_is_a_call_with_its_thought(
    store: Store, client: str
) -> None:
    result = await _create(store, client, "qwen3_think_then_hermes")
    assert _calls(result) == [("get_order", W0001)]
    assert result.thought == "I need the order first; get_order takes order_id."


async def test_the_call_record_stores_the_reasoning(store: Store, client: str) -> None:
    await _create(store, client, "qwen3_think_in_content")
    [row] = await store.model_calls(RUN_ID)
    stored = json.loads(await store.cached_response(row["request_key"]) or "null")
    assert (stored["content"], stored["thought"]) == (
        SHIPPED,
        "The tool said the order shipped. I should tell the user.",
    )


# -- unusable answers and refusals ------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("truncated_length", "truncated (finish_reason length)"),
        ("empty_content", "empty answer (no text, no tool calls)"),
    ],
)
async def test_an_unusable_answer_is_retried_then_answered(
    store: Store, client: str, case: str, reason: str
) -> None:
    with structlog.testing.capture_logs() as logs:
        async with (
            serve_fixtures(case, "plain_answer") as server,
            ModelGateway(_config(server.base_url, client), store, RUN_ID) as gateway,
        ):
            result = await gateway.create("m", ASK, tools=TOOLS)
    assert result.content == SHIPPED
    assert len(server.requests) == 2
    assert [log["reason"] for log in logs if log["event"] == "model.retry"] == [reason]
    [row] = await store.model_calls(RUN_ID)
    assert (row["status"], row["attempt"]) == ("ok", 2)


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("truncated_length", "truncated (finish_reason length)"),
        ("empty_content", "empty answer (no text, no tool calls)"),
    ],
)
async def test_an_answer_unusable_every_time_is_a_recorded_failure(
    store: Store, client: str, case: str, reason: str
) -> None:
    async with (
        serve_fixtures(case, case) as server,
        ModelGateway(_config(server.base_url, client, max_retries=1), store, RUN_ID) as gateway,
    ):
        with pytest.raises(ModelError, match=r"\(attempt 2 of 2\)") as raised:
            await gateway.create("m", ASK, tools=TOOLS)
    assert reason in str(raised.value)
    assert len(server.requests) == 2
    [row] = await store.model_calls(RUN_ID)
    assert (row["status"], row["attempt"], row["error"]) == ("error", 2, reason)


async def test_a_content_filter_stop_is_a_refusal_and_not_retried(
    store: Store, client: str
) -> None:
    async with (
        serve_fixtures("content_filter") as server,
        ModelGateway(_config(server.base_url, client), store, RUN_ID) as gateway,
    ):
        result = await gateway.create("m", ASK, tools=TOOLS)
    assert (result.finish_reason, result.content) == ("content_filter", "")
    assert is_refusal(result)
    assert len(server.requests) == 1


async def test_an_openai_refusal_is_a_refusal_with_the_native_client(store: Store) -> None:
    async with (
        serve_fixtures("openai_refusal") as server,
        ModelGateway(_config(server.base_url, "native"), store, RUN_ID) as gateway,
    ):
        result = await gateway.create("m", ASK, tools=TOOLS)
    assert result.content == "I'm sorry, I can't assist with that request."
    assert result.finish_reason == "content_filter" and is_refusal(result)
    assert len(server.requests) == 1


async def test_autogen_ext_cannot_see_a_refusal_and_gets_an_empty_answer(store: Store) -> None:
    """autogen-ext 0.7.5 ignores `message.refusal`: the answer is empty, so it is retried."""
    async with (
        serve_fixtures("openai_refusal", "plain_answer") as server,
        ModelGateway(_config(server.base_url, "autogen"), store, RUN_ID) as gateway,
    ):
        result = await gateway.create("m", ASK, tools=TOOLS)
    assert result.content == SHIPPED
    assert len(server.requests) == 2


# -- structured answers -----------------------------------------------------------------------


async def test_a_review_in_a_json_fence_parses(store: Store, client: str) -> None:
    async with (
        serve_fixtures("review_in_json_fence") as server,
        ModelGateway(_config(server.base_url, client), store, RUN_ID) as gateway,
    ):
        parsed = await create_structured(gateway, "m", ASK, Review)
    assert parsed.value == Review(
        correctness=1,
        completeness=1,
        satisfaction=0,
        creativity=1,
        rationale="The outputs miss the refund amount.",
    )
    assert "response_format" not in server.requests[0]


async def test_a_blueprint_after_a_paragraph_of_prose_parses(store: Store, client: str) -> None:
    async with (
        serve_fixtures("blueprint_after_prose") as server,
        ModelGateway(_config(server.base_url, client), store, RUN_ID) as gateway,
    ):
        parsed = await create_structured(gateway, "m", ASK, ProposedBlueprint)
    assert parsed.value == ProposedBlueprint(
        user_id="mia_li_3668",
        instruction="You are Mia Li. Cancel order #W0001 because you ordered it by mistake.",
        actions=[
            Action(
                name="cancel_pending_order",
                kwargs={"order_id": "#W0001", "reason": "ordered by mistake"},
            )
        ],
    )


async def test_a_review_after_thinking_parses_and_its_raw_answer_has_no_thinking(
    store: Store, client: str
) -> None:
    async with (
        serve_fixtures("review_after_think") as server,
        ModelGateway(_config(server.base_url, client), store, RUN_ID) as gateway,
    ):
        parsed = await create_structured(gateway, "m", ASK, Review)
    assert parsed.value.total == 3 and parsed.value.rationale == "A routine cancellation."
    assert parsed.raw.startswith('{"correctness": 1')
    assert parsed.result.thought is not None and "A draft" in parsed.result.thought


async def test_a_refused_structured_answer_is_a_structured_failure_naming_the_refusal(
    store: Store,
) -> None:
    async with (
        serve_fixtures("openai_refusal") as server,
        ModelGateway(_config(server.base_url, "native"), store, RUN_ID) as gateway,
    ):
        with pytest.raises(StructuredOutputError, match="the model refused: I'm sorry") as raised:
            await create_structured(gateway, "m", ASK, Review)
    assert raised.value.raw == "I'm sorry, I can't assist with that request."


async def test_a_truncated_structured_answer_is_retried(store: Store, client: str) -> None:
    async with (
        serve_fixtures("truncated_length", "review_in_json_fence") as server,
        ModelGateway(_config(server.base_url, client), store, RUN_ID) as gateway,
    ):
        parsed = await create_structured(gateway, "m", ASK, Review)
    assert parsed.value.satisfaction == 0
    assert len(server.requests) == 2
    first, retry = (request["seed"] for request in server.requests)
    assert retry != first, "a cut-off answer is sampled anew, not reproduced"
