"""What OpenAI-compatible servers really answer, brought to one `CreateResult` shape.

Servers without a reasoning parser leave `<think>...</think>` at the start of the content;
servers without a tool parser leave Hermes/Qwen `<tool_call>{...}</tool_call>` blocks in it.
`normalise` moves the thinking to `thought` and turns the blocks into real tool calls, after
any client (native, autogen-ext, simulated), so every role sees the same shape. An answer no
role can use (cut off by the token limit, or with neither text nor tool calls) is named by
`unusable_reason`; the gateway raises `UnusableAnswer` for it and retries.

`thought` holds everything the model wrote that is not its reply: its reasoning, then any
text beside its tool calls. It is stored with the call and kept out of the dialogue.
"""

from __future__ import annotations

import hashlib
import json
import re

from autogen_core import FunctionCall
from autogen_core.models import CreateResult

from runtime.errors import ModelError

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
TRUNCATED = "truncated (finish_reason length)"
EMPTY = "empty answer (no text, no tool calls)"

_TOOL_CALL = re.compile(r"<tool_call>(.*?)(?:</tool_call>|\Z)", re.DOTALL)
_NAME = re.compile(r'"name"\s*:\s*"([^"\\]*)"')


class UnusableAnswer(ModelError):
    """A completion that arrived but cannot be used (truncated or empty): worth a retry."""

    def __init__(self, endpoint: str, reason: str) -> None:
        super().__init__(endpoint, reason)
        self.reason = reason


def normalise(result: CreateResult, *, tools_offered: bool, salt: str = "") -> CreateResult:
    """`result` with its reasoning in `thought` and Hermes blocks as tool calls.

    Blocks count only when the request offered tools. Their ids are derived from `salt`
    (something that differs between the requests of a conversation), their position and
    their text, so a repeated request gets the same ids. A result that needs no change is
    returned as it is.
    """
    content = result.content
    thought = strip_think_tags(result.thought)
    if isinstance(content, list):
        if thought == result.thought:
            return result
        return result.model_copy(update={"thought": thought})
    reasoning, text = split_reasoning(content)
    thought = join_text(thought, reasoning)
    update: dict[str, object] = {"content": text, "thought": thought}
    if tools_offered and "<tool_call>" in text:
        calls, beside = hermes_calls(text, salt)
        cut = result.finish_reason == "length"  # still a cut-off answer, to be retried
        update = {
            "content": calls,
            "thought": join_text(thought, beside),
            "finish_reason": "length" if cut else "function_calls",
        }
    if update["content"] == content and update["thought"] == result.thought:
        return result
    return result.model_copy(update=update)


def unusable_reason(result: CreateResult) -> str | None:
    """Why no role can use `result` (a cut-off or empty answer), or None when it is usable.

    A content-filter stop is usable even when empty: it is a refusal, not a glitch.
    """
    if result.finish_reason == "length":
        return TRUNCATED
    if result.finish_reason == "content_filter":
        return None
    if isinstance(result.content, list):
        return None if result.content else EMPTY
    return None if result.content.strip() else EMPTY


def split_reasoning(content: str) -> tuple[str | None, str]:
    """(reasoning, reply) of a text answer that may start with `<think>...</think>`.

    A `</think>` with no opening tag before it closes a block the chat template opened (as
    DeepSeek-R1's does); an unclosed `<think>` makes the whole answer reasoning.
    """
    close = content.find(THINK_CLOSE)
    if close < 0 and THINK_OPEN not in content:
        return None, content  # most answers: no scan beyond these two
    if content.lstrip().startswith(THINK_OPEN):
        inner_start = content.index(THINK_OPEN) + len(THINK_OPEN)
        if close < 0:
            return _or_none(content[inner_start:]), ""
        return _or_none(content[inner_start:close]), content[close + len(THINK_CLOSE) :].strip()
    if close >= 0 and THINK_OPEN not in content[:close]:
        return _or_none(content[:close]), content[close + len(THINK_CLOSE) :].strip()
    return None, content


def strip_think_tags(text: str | None) -> str | None:
    """`text` without `<think>` tags (the thinking stays), None when nothing is left."""
    if text is None or (THINK_OPEN not in text and THINK_CLOSE not in text):
        return text
    return _or_none(text.replace(THINK_OPEN, "").replace(THINK_CLOSE, ""))


def hermes_calls(text: str, salt: str) -> tuple[list[FunctionCall], str | None]:
    """The `<tool_call>` blocks of `text` as function calls, and the text outside them.

    A block whose JSON is no `{"name": ..., "arguments": {...}}` object becomes a call with
    its raw text as arguments (and its name when one can be read), so the assistant answers
    it with an error result instead of the call vanishing. A last block may lack its
    closing tag (the model stopped right after it).
    """
    calls = []
    for position, found in enumerate(_TOOL_CALL.finditer(text)):
        block = found.group(1).strip()
        digest = hashlib.sha256(f"{salt}:{position}:{block}".encode()).hexdigest()
        calls.append(_block_call(block, f"call_{digest[:24]}"))
    return calls, join_text(*_TOOL_CALL.sub("\0", text).split("\0"))


def _block_call(block: str, call_id: str) -> FunctionCall:
    try:
        value = json.loads(block)
    except json.JSONDecodeError:
        value = None
    if isinstance(value, dict) and isinstance(value.get("name"), str):
        arguments = value.get("arguments", value.get("parameters", {}))
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments, ensure_ascii=False)
        return FunctionCall(id=call_id, name=value["name"], arguments=arguments)
    name = _NAME.search(block)
    return FunctionCall(id=call_id, name=name.group(1) if name else "", arguments=block)


def join_text(*parts: str | None) -> str | None:
    """The non-empty parts, a blank line apart; None when there are none."""
    kept = [part.strip() for part in parts if part and part.strip()]
    return "\n\n".join(kept) if kept else None


def _or_none(text: str) -> str | None:
    return text.strip() or None
