"""Normalising completions: reasoning out of the reply, Hermes blocks in, unusable named."""

from __future__ import annotations

import json

import pytest
from autogen_core import FunctionCall
from autogen_core.models import CreateResult, FinishReasons, RequestUsage

from agents.models.completion_shapes import (
    EMPTY,
    TRUNCATED,
    hermes_calls,
    normalise,
    split_reasoning,
    strip_think_tags,
    unusable_reason,
)

USAGE = RequestUsage(prompt_tokens=1, completion_tokens=1)


def _result(
    content: str | list[FunctionCall],
    finish: FinishReasons = "stop",
    thought: str | None = None,
) -> CreateResult:
    return CreateResult(
        finish_reason=finish, content=content, usage=USAGE, cached=False, thought=thought
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("Hello.", (None, "Hello.")),
        ("<think>a</think>b", ("a", "b")),
        ("  <think>\na\n</think>\n\nb ", ("a", "b")),
        ("a\n</think>\n\nb", ("a", "b")),
        ("<think>cut off", ("cut off", "")),
        ("<think></think>b", (None, "b")),
        ("b, not <think>a</think>", (None, "b, not <think>a</think>")),
    ],
)
def test_reasoning_is_split_from_the_reply(content: str, expected: tuple[str | None, str]) -> None:
    assert split_reasoning(content) == expected


def test_think_tags_are_stripped_from_a_thought_and_the_thinking_kept() -> None:
    assert strip_think_tags("<think>\nlook it up\n</think>\n") == "look it up"
    assert strip_think_tags("plain") == "plain"
    assert strip_think_tags("<think></think>") is None
    assert strip_think_tags(None) is None


def test_hermes_blocks_become_calls_and_the_text_beside_them_is_returned() -> None:
    text = (
        'Sure.\n<tool_call>\n{"name": "a", "arguments": {"x": 1}}\n</tool_call>\n'
        '<tool_call>{"name": "b", "parameters": {"y": "é"}}</tool_call>\nDone.'
    )
    calls, beside = hermes_calls(text, "s")
    assert [(c.name, json.loads(c.arguments)) for c in calls] == [
        ("a", {"x": 1}),
        ("b", {"y": "é"}),
    ]
    assert beside == "Sure.\n\nDone."


def test_a_last_hermes_block_may_lack_its_closing_tag() -> None:
    calls, beside = hermes_calls('<tool_call>\n{"name": "a", "arguments": {}}', "s")
    assert [(c.name, c.arguments) for c in calls] == [("a", "{}")]
    assert beside is None


def test_hermes_arguments_given_as_a_string_pass_through() -> None:
    block = '<tool_call>{"name": "a", "arguments": "{\\"x\\": 1}"}</tool_call>'
    [call], _ = hermes_calls(block, "")
    assert call.arguments == '{"x": 1}'


def test_a_hermes_block_with_no_name_keeps_its_raw_text_under_an_empty_name() -> None:
    [call], _ = hermes_calls("<tool_call>[1, 2]</tool_call>", "s")
    assert (call.name, call.arguments) == ("", "[1, 2]")


def test_hermes_ids_depend_on_the_salt_the_position_and_the_block() -> None:
    text = '<tool_call>{"name": "a"}</tool_call><tool_call>{"name": "a"}</tool_call>'
    first, _ = hermes_calls(text, "1")
    again, _ = hermes_calls(text, "1")
    other, _ = hermes_calls(text, "2")
    assert [c.id for c in first] == [c.id for c in again]
    assert first[0].id != first[1].id
    assert not {c.id for c in first} & {c.id for c in other}
    assert all(c.id.startswith("call_") and len(c.id) == 29 for c in first)


def test_a_result_that_needs_nothing_is_returned_as_it_is() -> None:
    calls = [FunctionCall(id="c", name="a", arguments="{}")]
    for result in (_result("Hello."), _result(calls, "function_calls", thought="why")):
        assert normalise(result, tools_offered=True) is result


def test_hermes_blocks_count_only_when_tools_were_offered() -> None:
    text = '<tool_call>{"name": "a", "arguments": {}}</tool_call>'
    assert normalise(_result(text), tools_offered=False).content == text
    offered = normalise(_result(text), tools_offered=True)
    assert offered.finish_reason == "function_calls"
    assert [c.name for c in offered.content if isinstance(c, FunctionCall)] == ["a"]


def test_a_cut_off_hermes_answer_stays_cut_off() -> None:
    text = '<tool_call>{"name": "a", "arguments": {"x": '
    result = normalise(_result(text, "length"), tools_offered=True)
    assert isinstance(result.content, list) and unusable_reason(result) == TRUNCATED


def test_existing_thought_comes_before_the_thinking_in_the_content() -> None:
    result = normalise(_result("<think>b</think>c", thought="a"), tools_offered=False)
    assert (result.content, result.thought) == ("c", "a\n\nb")


def test_think_tags_beside_tool_calls_are_stripped_from_the_thought() -> None:
    calls = [FunctionCall(id="c", name="a", arguments="{}")]
    result = _result(calls, "function_calls", thought="<think>\nwhy\n</think>\n\n")
    assert normalise(result, tools_offered=True).thought == "why"


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        (_result("Hi."), None),
        (_result('{"a": 1', "length"), TRUNCATED),
        (_result([FunctionCall(id="c", name="a", arguments="{")], "length"), TRUNCATED),
        (_result(""), EMPTY),
        (_result(" \n"), EMPTY),
        (_result([], "function_calls"), EMPTY),
        (_result("", "content_filter"), None),
        (_result([FunctionCall(id="c", name="a", arguments="{}")], "function_calls"), None),
    ],
)
def test_unusable_answers_are_named(result: CreateResult, reason: str | None) -> None:
    assert unusable_reason(result) == reason
