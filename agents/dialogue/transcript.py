"""The recorded conversation: every message in order, in a shape exports can be built from.

Messages follow the OpenAI chat layout (user / assistant with optional tool calls / tool
results), so OpenAI and ShareGPT exports are a mapping away; agents rebuild their own model
views from the transcript, which is the only source of truth of an episode's dialogue.

`ToolCall` and `ChatMessage` are slotted stdlib dataclasses, not pydantic models, for memory:
many live episodes each hold their messages for their whole life. As fields of `Transcript`
pydantic still validates and serialises them exactly as before (same JSON); constructing one
directly does not validate, its types are checked statically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field

ChatRole = Literal["user", "assistant", "tool"]
EndReason = Literal["stop", "transfer", "max_turns", "refusal", "tool_steps", "error"]


@dataclass(slots=True)
class ToolCall:
    """One call the assistant asked for; `invalid_arguments` holds unparseable argument text."""

    id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    invalid_arguments: str | None = None


@dataclass(slots=True)
class ChatMessage:
    """A user or assistant message, or a tool result (`tool_call_id`, `name`, `is_error`).

    An assistant message's `reasoning` is what the model wrote that is not its reply (its
    thinking, text beside its tool calls): never part of the dialogue, exported on request.
    """

    role: ChatRole
    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None
    is_error: bool = False
    reasoning: str | None = None


class Candidate(BaseModel):
    """A sampled user turn and the judge's 0-10 score (None when judging failed)."""

    text: str
    score: float | None = None
    reason: str = ""


class BestOfTurn(BaseModel):
    """The candidates of one Best-of-N user turn and which one was used."""

    turn: int
    candidates: list[Candidate]
    chosen: int


class Transcript(BaseModel):
    """A whole conversation plus how it ended and the notes taken along the way."""

    system: str
    tools: list[dict[str, Any]] = Field(default_factory=list)
    messages: list[ChatMessage] = Field(default_factory=list)
    turns: int = 0
    end: EndReason | None = None
    error: str = ""
    best_of: list[BestOfTurn] = Field(default_factory=list)

    def assistant_texts(self) -> list[str]:
        """What the assistant said to the user (tool calls, results and reasoning left out)."""
        return [m.content for m in self.messages if m.role == "assistant" and m.content]

    def tool_calls(self) -> list[ToolCall]:
        return [call for m in self.messages for call in m.tool_calls]
