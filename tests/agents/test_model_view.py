"""The assistant's request from its transcript: made on demand, the same request."""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from autogen_core.models import FunctionExecutionResultMessage, LLMMessage
from autogen_core.tools import ToolSchema

from agents.dialogue.assistant import model_view
from agents.dialogue.transcript import ChatMessage, ToolCall
from agents.models.gateway import request_key
from agents.models.openai_wire import request_json, wire_messages


def _conversation() -> list[list[ChatMessage]]:
    """The transcript after each step of a short conversation with two tool rounds."""
    steps = [
        [ChatMessage(role="user", content="Cancel order #W1, please.")],
        [
            ChatMessage(
                role="assistant",
                tool_calls=[
                    ToolCall(id="c1", name="get_order_details", arguments={"order_id": "#W1"}),
                    ToolCall(id="c2", name="find_user", invalid_arguments="{oops"),
                ],
            ),
            ChatMessage(role="tool", content='{"status": "pending"}', tool_call_id="c1", name="x"),
            ChatMessage(role="tool", content="Error: bad", tool_call_id="c2", is_error=True),
        ],
        [ChatMessage(role="assistant", content="It is pending. Cancel it? (yes/no)")],
        [ChatMessage(role="user", content="Yes.")],
        [
            ChatMessage(
                role="assistant",
                tool_calls=[ToolCall(id="c3", name="cancel", arguments={"reason": "ü"})],
            ),
            ChatMessage(role="tool", content="done", tool_call_id="c3", name="cancel"),
        ],
    ]
    transcripts, messages = [], []
    for step in steps:
        messages = [*messages, *step]
        transcripts.append(messages)
    return transcripts


def test_the_wire_view_is_what_its_autogen_messages_make() -> None:
    for messages in _conversation():
        view = model_view("policy", messages)
        autogen = list(view)
        assert len(view) == len(autogen)
        as_json = [orjson.loads(orjson.dumps(m, option=orjson.OPT_SORT_KEYS)) for m in view.wire]
        assert as_json == wire_messages(autogen)


def test_a_view_holds_no_encoding_and_sees_only_the_messages_it_was_made_with() -> None:
    *_, before, after = _conversation()
    messages = list(before)
    view = model_view("policy", messages)
    messages.extend(after[len(before) :])
    assert len(view.wire) == len(before) + 1  # the system message and what was there
    assert view.wire is not view.wire  # made afresh each time it is read
    assert not any(isinstance(m, (bytes, orjson.Fragment)) for m in view.wire[1:])


def test_a_wire_view_makes_the_same_cache_key_and_body_as_its_messages() -> None:
    view = model_view("policy", _conversation()[-1])
    messages = list(view)
    args = {"seed": 3, "temperature": 0.5}
    tools = [ToolSchema(name="cancel", description="d", parameters={"type": "object"})]
    assert request_key({"name": "m"}, view, tools, "auto", None, args, 3) == request_key(
        {"name": "m"}, messages, tools, "auto", None, args, 3
    )
    assert orjson.loads(_body(view, tools)) == orjson.loads(_body(messages, tools))


def _body(messages: Sequence[LLMMessage], tools: list[ToolSchema]) -> bytes:
    return request_json(
        "m", messages, tools=tools, tool_choice="auto", json_output=None, defaults={}, extra={}
    )


def test_a_view_of_a_longer_transcript_adds_its_new_messages() -> None:
    *_, before, after = _conversation()
    first = model_view("policy", before)
    second = model_view("policy", after)
    assert second.wire[: len(first.wire)] == first.wire
    assert len(second.wire) == len(first.wire) + 2
    assert len(second) == len(first) + 2
    assert isinstance(second[-1], FunctionExecutionResultMessage)
    assert [r.call_id for r in second[-1].content] == ["c3"]
    assert model_view("another policy", after)[0].content == "another policy"
    assert b"another policy" in orjson.dumps(model_view("another policy", after).wire[0])


def test_consecutive_tool_results_count_as_one_autogen_message() -> None:
    view = model_view("policy", _conversation()[1])
    assert len(view) == 4  # system, user, assistant's calls, both results as one
    assert len(view.wire) == 5  # each result is its own wire message
    assert [type(m).__name__ for m in view][-1] == "FunctionExecutionResultMessage"
