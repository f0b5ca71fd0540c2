"""The assistant's turn on what real servers answer: several calls, Hermes blocks, reasoning.

The fixture bodies call `get_order`; here they call the retail domain's `calculate`
(`#W0001` -> `2 + 3`, `#W0002` -> `4 * 5`), whose outputs show which calls really ran.
Every test runs with both OpenAI clients.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fixture_server import fixture, serve_fixtures
from model_support import RUN_ID

from agents.dialogue.assistant import NOT_RUN, Assistant, tool_schemas
from agents.dialogue.transcript import ChatMessage, Transcript
from agents.exports.formats import openai_messages, sharegpt_turns
from agents.models.gateway import CallContext, ModelGateway
from agents.simulated.scenario import SimScenario
from domains.registry import resolve_domain
from runtime.errors import ModelError
from runtime.model_config import ModelConfig
from runtime.store import Store

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.filterwarnings("ignore:Resolved model mismatch:UserWarning"),
]

RETAIL = resolve_domain("retail")
SHIPPED = "Your order #W0001 has shipped."


@pytest.fixture(params=["native", "autogen"])
def client(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _calculating(case: str) -> dict[str, Any]:
    """A fixture body whose `get_order` calls are `calculate` calls instead."""
    text = json.dumps(fixture(case))
    for old, new in [
        ("get_order", "calculate"),
        ("order_id", "expression"),
        ("#W0001", "2 + 3"),
        ("#W0002", "4 * 5"),
    ]:
        text = text.replace(old, new)
    body: dict[str, Any] = json.loads(text)
    return body


async def _turn(
    store: Store, client: str, *bodies: str | dict[str, Any], **options: Any
) -> tuple[Transcript, list[dict[str, Any]], str | None]:
    """One assistant turn after a user message; the transcript, the requests, how it ended."""
    async with serve_fixtures(*bodies) as server:
        config = ModelConfig.model_validate(
            {
                "provider": "openai",
                "model": "served-model",
                "base_url": server.base_url,
                "client": client,
                "max_retries": 0,
            }
        )
        async with ModelGateway({"m": config}, store, RUN_ID) as gateway:
            assistant = Assistant(
                gateway=gateway,
                model="m",
                system_prompt="Help with retail orders.",
                tools=tool_schemas(RETAIL),
                env=RETAIL.environment({"data": {"seed": 0}}),
                scenario=SimScenario(role="assistant", seed=0),
                call=CallContext(role="assistant"),
                timeout_s=5,
                **options,
            )
            transcript = Transcript(system=assistant.system_prompt)
            transcript.messages.append(ChatMessage(role="user", content="Where is #W0001?"))
            reply = await assistant.respond(transcript)
    return transcript, server.requests, reply.end


def _results(transcript: Transcript) -> list[tuple[str | None, str, bool]]:
    tool = [m for m in transcript.messages if m.role == "tool"]
    return [(m.tool_call_id, m.content, m.is_error) for m in tool]


async def test_of_several_calls_only_the_first_runs_and_every_call_is_answered(
    store: Store, client: str
) -> None:
    transcript, requests, end = await _turn(
        store, client, _calculating("openai_parallel_tool_calls"), "plain_answer"
    )
    first, second = transcript.messages[1].tool_calls
    assert _results(transcript) == [(first.id, "5.0", False), (second.id, NOT_RUN, True)]
    assert NOT_RUN == "Error: one tool call at a time; this call was not run"
    sent = [m["tool_call_id"] for m in requests[1]["messages"] if m["role"] == "tool"]
    assert sent == [first.id, second.id]
    assert transcript.assistant_texts() == [SHIPPED] and end is None


async def test_with_sequential_calls_off_every_call_runs_in_order(
    store: Store, client: str
) -> None:
    transcript, _, _ = await _turn(
        store,
        client,
        _calculating("openai_parallel_tool_calls"),
        "plain_answer",
        sequential_calls=False,
    )
    first, second = transcript.messages[1].tool_calls
    assert _results(transcript) == [(first.id, "5.0", False), (second.id, "20.0", False)]


async def test_a_hermes_reply_runs_as_a_tool_call_and_its_text_is_not_said(
    store: Store, client: str
) -> None:
    transcript, requests, _ = await _turn(
        store, client, _calculating("vllm_hermes_with_text"), "plain_answer"
    )
    asked = transcript.messages[1]
    [call] = asked.tool_calls
    assert (call.name, call.arguments) == ("calculate", {"expression": "2 + 3"})
    assert asked.content == "" and asked.reasoning == "Let me look that order up for you."
    assert _results(transcript) == [(call.id, "5.0", False)]
    assert transcript.assistant_texts() == [SHIPPED]
    [sent] = [m for m in requests[1]["messages"] if m["role"] == "assistant"]
    assert [c["id"] for c in sent["tool_calls"]] == [call.id]


async def test_a_malformed_hermes_block_is_answered_with_an_error_result(
    store: Store, client: str
) -> None:
    transcript, _, _ = await _turn(
        store, client, _calculating("vllm_hermes_malformed"), "plain_answer"
    )
    [call] = transcript.messages[1].tool_calls
    raw = '{"name": "calculate", "arguments": {"expression": "2 + 3"}'
    assert (call.name, call.invalid_arguments) == ("calculate", raw)
    assert _results(transcript) == [
        (call.id, f"Error: arguments are not a JSON object: {raw}", True)
    ]


@pytest.mark.parametrize(
    ("case", "thinking"),
    [
        ("vllm_reasoning_content", "The tool said the order shipped on March 3."),
        ("qwen3_think_in_content", "The tool said the order shipped. I should tell the user."),
    ],
)
async def test_reasoning_is_kept_beside_the_reply_and_exported_only_on_request(
    store: Store, client: str, case: str, thinking: str
) -> None:
    transcript, _, _ = await _turn(store, client, case)
    [answer] = [m for m in transcript.messages if m.role == "assistant"]
    assert (answer.content, answer.reasoning is not None) == (SHIPPED, True)
    assert answer.reasoning is not None and answer.reasoning.startswith(thinking)
    assert transcript.assistant_texts() == [SHIPPED]

    plain = openai_messages(transcript.system, transcript.messages)
    assert plain[-1] == {"role": "assistant", "content": SHIPPED}
    shown = openai_messages(transcript.system, transcript.messages, include_reasoning=True)
    assert shown[-1] == {
        "role": "assistant",
        "content": SHIPPED,
        "reasoning_content": answer.reasoning,
    }
    assert sharegpt_turns(transcript.messages)[-1] == {"from": "gpt", "value": SHIPPED}
    assert sharegpt_turns(transcript.messages, include_reasoning=True)[-1] == {
        "from": "gpt",
        "value": SHIPPED,
        "reasoning": answer.reasoning,
    }


def _leaves(error: BaseException) -> list[BaseException]:
    """The exceptions inside (nested) exception groups, or the exception itself."""
    inner = getattr(error, "exceptions", None)
    if inner is None:
        return [error]
    return [leaf for one in inner for leaf in _leaves(one)]


@pytest.mark.parametrize("case", ["content_filter", "openai_refusal"])
async def test_a_refusal_ends_the_conversation_as_a_refusal(
    store: Store, client: str, case: str
) -> None:
    if client == "autogen" and case == "openai_refusal":
        # autogen-ext drops `message.refusal`: the answer arrives empty, a recorded model
        # error (retryable), not a refusal; the native client reads it (test_server_shapes)
        with pytest.raises(Exception) as caught:  # a ModelError, in the call's task group
            await _turn(store, client, case)
        errors = _leaves(caught.value)
        assert [type(error) for error in errors] == [ModelError]
        assert "empty answer (no text, no tool calls)" in str(errors[0])
        return
    transcript, requests, end = await _turn(store, client, case)
    assert end == "refusal" and len(requests) == 1
    assert transcript.messages[-1].role == "assistant"
