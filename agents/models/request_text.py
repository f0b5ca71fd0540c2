"""Reading autogen requests: tool schemas, assistant turns and a deterministic size estimate.

The simulated backend plays requests with these; every client of ours estimates prompt
sizes with `prompt_tokens` (see `ChatClientBase.count_tokens`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from autogen_core.models import (
    AssistantMessage,
    FunctionExecutionResultMessage,
    LLMMessage,
    SystemMessage,
    UserMessage,
)
from autogen_core.tools import Tool, ToolSchema


def tool_schema(tool: Tool | ToolSchema) -> ToolSchema:
    """The JSON schema of a tool given either as an autogen `Tool` or as its schema."""
    return tool if isinstance(tool, dict) else tool.schema


def assistant_turns(messages: Sequence[LLMMessage]) -> int:
    """How many assistant messages the request already holds: the script position."""
    return sum(isinstance(message, AssistantMessage) for message in messages)


def message_text(message: LLMMessage) -> str:
    """The text a message contributes to the prompt (images count as nothing)."""
    if isinstance(message, SystemMessage):
        return message.content
    if isinstance(message, UserMessage):
        if isinstance(message.content, str):
            return message.content
        return "".join(part for part in message.content if isinstance(part, str))
    if isinstance(message, AssistantMessage):
        if isinstance(message.content, str):
            return message.content
        return "".join(call.name + call.arguments for call in message.content)
    if isinstance(message, FunctionExecutionResultMessage):
        return "".join(result.content for result in message.content)
    raise TypeError(f"unknown message type {type(message).__name__}")


def estimate_tokens(text: str) -> int:
    """A deterministic token estimate: four characters per token, at least one."""
    return max(1, len(text) // 4)


def prompt_tokens(messages: Sequence[LLMMessage], tools: Sequence[Tool | ToolSchema]) -> int:
    """Estimated prompt size of a request: its messages plus its tool schemas."""
    text = "".join(message_text(message) for message in messages)
    schemas = json.dumps([tool_schema(tool) for tool in tools], sort_keys=True) if tools else ""
    return estimate_tokens(text + schemas)
