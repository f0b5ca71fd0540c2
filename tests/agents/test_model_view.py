"""The assistant's request from its transcript: converted once per message, same content."""

from __future__ import annotations

from autogen_core.models import FunctionExecutionResultMessage

from agents.dialogue.assistant import ViewMemo, model_view
from agents.dialogue.transcript import ChatMessage, ToolCall
from agents.models.openai_wire import wire_messages


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


def test_a_memo_gives_the_same_request_as_converting_afresh() -> None:
    memo = ViewMemo()
    for messages in _conversation():
        remembered = model_view("policy", messages, memo)
        fresh = model_view("policy", messages)
        assert remembered == fresh
        assert wire_messages(remembered) == wire_messages(fresh)


def test_a_memo_converts_each_message_once() -> None:
    memo = ViewMemo()
    *_, before, after = _conversation()
    first = model_view("policy", before, memo)
    second = model_view("policy", after, memo)
    assert all(a is b for a, b in zip(first, second, strict=False))  # earlier ones reused
    assert len(second) == len(first) + 2
    assert isinstance(second[-1], FunctionExecutionResultMessage)
    assert [r.call_id for r in second[-1].content] == ["c3"]
    assert model_view("another policy", after, memo)[0].content == "another policy"
