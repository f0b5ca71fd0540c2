"""The episode protocol: the human speaks first, then turns alternate until one side ends it.

A conversation ends on the human's stop token, a transfer to a human agent, the turn limit,
an assistant refusal, a tool loop that never answers, or a failed model call. Whatever the
ending, the transcript records every message in order; whether it followed the policy is the
verifier's judgement (`agents.trajectory_policy`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from autogen_core.tools import ToolSchema

from agents.assistant import AssistantReply
from agents.human import HumanSimulator
from agents.transcript import ChatMessage, EndReason, Transcript
from runtime.errors import ModelError


class AssistantRole(Protocol):
    """What a conversation needs from an assistant: its prompt, its tools, one turn at a time.

    Our `Assistant` is one; `agents.autogen_adapters.AutogenAssistant` (an autogen
    `AssistantAgent`) is another.
    """

    @property
    def system_prompt(self) -> str: ...

    @property
    def tools(self) -> Sequence[ToolSchema]: ...

    async def respond(self, transcript: Transcript) -> AssistantReply: ...


@dataclass(frozen=True)
class ConversationLimits:
    """When a conversation stops on its own: the turn limit and the human's stop token."""

    max_turns: int = 20
    stop_token: str = "###STOP###"


async def converse(
    human: HumanSimulator,
    assistant: AssistantRole,
    limits: ConversationLimits,
) -> Transcript:
    """Run one conversation on the assistant's environment and return its transcript."""
    # Built unvalidated: the prompt and tool schemas are the assistant's own (already
    # well-formed, read-only), shared with every episode instead of copied into each one.
    # Every list is passed: pydantic inspects a default factory's signature on each use.
    transcript = Transcript.model_construct(
        system=assistant.system_prompt,
        tools=list(assistant.tools),
        messages=[],
        best_of=[],
    )
    transcript.end, transcript.error = await _alternate(human, assistant, limits, transcript)
    return transcript


async def _alternate(
    human: HumanSimulator,
    assistant: AssistantRole,
    limits: ConversationLimits,
    transcript: Transcript,
) -> tuple[EndReason, str]:
    while transcript.turns < limits.max_turns:
        try:
            said = await human.speak(transcript)
        except (ModelError, TimeoutError) as exc:
            return "error", f"human: {_describe(exc)}"
        transcript.messages.append(ChatMessage(role="user", content=said.text))
        if said.best_of is not None:
            transcript.best_of.append(said.best_of)
        transcript.turns += 1
        if limits.stop_token in said.text:
            return "stop", ""
        try:
            reply = await assistant.respond(transcript)
        except (ModelError, TimeoutError) as exc:
            return "error", f"assistant: {_describe(exc)}"
        if reply.end is not None:
            return reply.end, reply.error
    return "max_turns", ""


def _describe(exc: Exception) -> str:
    if isinstance(exc, TimeoutError):
        return "model call timed out"
    return str(exc)
