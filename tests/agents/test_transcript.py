"""Transcripts: the stored JSON shape of each message kind, validation, and light messages."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from agents.dialogue.transcript import ChatMessage, ToolCall, Transcript

USER = ChatMessage(role="user", content="Can I borrow b2?")
TEXT = ChatMessage(role="assistant", content="Borrow b2?", reasoning="b2 is on the shelf.")
CALLS = ChatMessage(
    role="assistant",
    tool_calls=[
        ToolCall(id="c1", name="get_book", arguments={"book_id": "b2", "n": [1, {"k": None}]}),
        ToolCall(id="c2", name="borrow_book", invalid_arguments='{"book_id": '),
    ],
)
RESULT = ChatMessage(
    role="tool", content='{"ok": false}', tool_call_id="c1", name="get_book", is_error=True
)

# Written from the field definitions: every field is stored, defaults included, in order.
EXPECTED: list[dict[str, Any]] = [
    {
        "role": "user",
        "content": "Can I borrow b2?",
        "tool_calls": [],
        "tool_call_id": None,
        "name": None,
        "is_error": False,
        "reasoning": None,
    },
    {
        "role": "assistant",
        "content": "Borrow b2?",
        "tool_calls": [],
        "tool_call_id": None,
        "name": None,
        "is_error": False,
        "reasoning": "b2 is on the shelf.",
    },
    {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "id": "c1",
                "name": "get_book",
                "arguments": {"book_id": "b2", "n": [1, {"k": None}]},
                "invalid_arguments": None,
            },
            {
                "id": "c2",
                "name": "borrow_book",
                "arguments": {},
                "invalid_arguments": '{"book_id": ',
            },
        ],
        "tool_call_id": None,
        "name": None,
        "is_error": False,
        "reasoning": None,
    },
    {
        "role": "tool",
        "content": '{"ok": false}',
        "tool_calls": [],
        "tool_call_id": "c1",
        "name": "get_book",
        "is_error": True,
        "reasoning": None,
    },
]


def _transcript() -> Transcript:
    return Transcript(system="Be helpful.", messages=[USER, TEXT, CALLS, RESULT], turns=1)


def test_messages_round_trip_through_json_in_their_stored_shape() -> None:
    transcript = _transcript()
    text = transcript.model_dump_json()
    stored = json.loads(text)["messages"]
    assert stored == EXPECTED
    assert [list(m) for m in stored] == [list(m) for m in EXPECTED]  # key order too
    assert [list(c) for c in stored[2]["tool_calls"]] == [
        list(c) for c in EXPECTED[2]["tool_calls"]
    ]
    assert transcript.model_dump(mode="json")["messages"] == EXPECTED
    assert transcript.model_dump()["messages"] == EXPECTED

    loaded = Transcript.model_validate_json(text)
    assert loaded == transcript
    assert loaded.messages == [USER, TEXT, CALLS, RESULT]
    assert all(type(m) is ChatMessage for m in loaded.messages)
    assert all(type(c) is ToolCall for c in loaded.messages[2].tool_calls)
    assert Transcript.model_validate(json.loads(text)) == transcript
    assert loaded.tool_calls() == CALLS.tool_calls
    assert loaded.assistant_texts() == ["Borrow b2?"]  # the reasoning is not said


def test_a_message_with_only_a_role_gets_every_default() -> None:
    loaded = Transcript.model_validate({"system": "", "messages": [{"role": "user"}]})
    assert loaded.messages == [ChatMessage(role="user")]
    assert loaded.model_dump(mode="json")["messages"] == [{**EXPECTED[0], "content": ""}]


@pytest.mark.parametrize(
    ("message", "loc"),
    [
        ({"role": "system", "content": "x"}, ("messages", 0, "role")),
        ({"role": "user", "content": 5}, ("messages", 0, "content")),
        (
            {"role": "assistant", "tool_calls": [{"id": "c", "name": "n", "arguments": "{}"}]},
            ("messages", 0, "tool_calls", 0, "arguments"),
        ),
        (
            {"role": "assistant", "tool_calls": [{"id": "c", "name": "n", "arguments": [1]}]},
            ("messages", 0, "tool_calls", 0, "arguments"),
        ),
        (
            {"role": "assistant", "tool_calls": [{"id": "c", "name": "n", "invalid_arguments": 1}]},
            ("messages", 0, "tool_calls", 0, "invalid_arguments"),
        ),
    ],
)
def test_bad_messages_are_rejected_naming_the_field(
    message: dict[str, Any], loc: tuple[str | int, ...]
) -> None:
    data = {"system": "", "messages": [message]}
    with pytest.raises(ValidationError) as python_error:
        Transcript.model_validate(data)
    with pytest.raises(ValidationError) as json_error:
        Transcript.model_validate_json(json.dumps(data))
    for error in (python_error.value, json_error.value):
        assert [tuple(e["loc"]) for e in error.errors()] == [loc]


def test_messages_stay_light() -> None:
    """Many live episodes hold their messages for life: no per-instance `__dict__`."""
    message = ChatMessage(role="assistant", tool_calls=[ToolCall(id="c", name="n")])
    assert not hasattr(message, "__dict__")
    assert not hasattr(message.tool_calls[0], "__dict__")
    with pytest.raises(AttributeError):
        message.extra = 1  # type: ignore[attr-defined]
